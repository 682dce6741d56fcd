package recompute

import (
	"crypto/sha256"
	"encoding/binary"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// SaltLen is the length of the salts that seal transcripts and challenges,
// and of a requester's sampling secret.
const SaltLen = 32

// TranscriptSeal is what a worker commits before anyone sees its transcript:
// SHA-256("hinterland/seal/v1" ‖ task id (8 bytes BE) ‖ worker address ‖ salt
// ‖ transcript hash ‖ final model hash ‖ final optimiser hash ‖ engine failure
// (1 byte)). It is bound to the worker, so another worker cannot send the same
// seal and later open it, and to a secret salt, so nobody can test a guessed
// transcript against it.
func TranscriptSeal(taskID uint64, worker, salt, transcriptHash, finalModel, finalOpt []byte, engineFailure bool) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/seal/v1"))
	writeUint64(h, taskID)
	writeBytes(h, worker)
	writeBytes(h, salt)
	writeBytes(h, transcriptHash)
	writeBytes(h, finalModel)
	writeBytes(h, finalOpt)
	if engineFailure {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// ChallengeCommitment is what a watcher seals before naming the segment it
// challenges: SHA-256("hinterland/challenge/v1" ‖ task id ‖ worker address ‖
// challenger address ‖ segment (4 bytes BE) ‖ salt). Bound to the challenger,
// so a copy of the seal cannot be opened by anyone else.
func ChallengeCommitment(taskID uint64, worker, challenger []byte, segment uint32, salt []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/challenge/v1"))
	writeUint64(h, taskID)
	writeBytes(h, worker)
	writeBytes(h, challenger)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], segment)
	h.Write(b[:])
	writeBytes(h, salt)
	return h.Sum(nil)
}

// SecretSeed is the draw seed of a transcript whose task has a revealed
// requester secret: SHA-256("hinterland/draw/v2" ‖ secret ‖ task id ‖ worker
// address ‖ transcript hash). The secret was committed when the task was
// posted and revealed only after every transcript was sealed, so the worker
// could not know it and the requester could not choose it after seeing the
// transcript; no block data enters it, so no proposer can grind it.
func SecretSeed(secret []byte, taskID uint64, worker, transcriptHash []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/draw/v2"))
	writeBytes(h, secret)
	writeUint64(h, taskID)
	writeBytes(h, worker)
	writeBytes(h, transcriptHash)
	return h.Sum(nil)
}

type hashWriter interface{ Write([]byte) (int, error) }

func writeUint64(h hashWriter, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

// writeBytes writes a length prefix (4 bytes BE) and the bytes, so that no two
// different field splits hash alike.
func writeBytes(h hashWriter, b []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	h.Write(l[:])
	h.Write(b)
}

// RevealTxOverheadGas bounds what a reveal transaction costs besides the
// reveal's own metered work: signature checks, the ante handler, state reads
// and writes of the verdict and the challenge (measured at ~65 000 for the
// smallest task; rounded up generously).
const RevealTxOverheadGas = 300_000

// TxSizeGasPerByte is what the ante handler charges per byte of a transaction
// (x/auth tx_size_cost_per_byte, 10 by default): a reveal pays it on top of
// the module's own per-byte price.
const TxSizeGasPerByte = 10

// ChallengeBond is the smallest bond of a fraud challenge on a task:
// max(min_challenge_bond, ceil(factor x answer gas x challenge_gas_price)),
// the answer gas being that of the largest reveal transaction of the task's
// costliest segment (its metered work, the ante handler's per-byte charge
// and a fixed overhead). A challenge the worker answers pays the worker's reveal with room
// to spare, so challenging honest transcripts costs the griefer more than it
// costs the worker.
func ChallengeBond(task taskstypes.Task, params types.Params) sdk.Coin {
	gas := params.MaxGasPerReveal + TxSizeGasPerByte*params.MaxRevealBytes
	if c, err := WorstSegmentCost(task.Spec, task.Dataset); err == nil {
		gas = c.MaxGas(params) + TxSizeGasPerByte*c.RevealBytes
	}
	gas += RevealTxOverheadGas
	need := params.ChallengeGasPrice.MulInt(sdkmath.NewIntFromUint64(gas)).MulInt64(int64(params.ChallengeBondFactor)).Ceil().TruncateInt()
	return sdk.NewCoin(task.Bond.Denom, sdkmath.MaxInt(need, params.MinChallengeBond))
}

// ChallengeBondFor is ChallengeBond on the terms of the task's bond denom: a
// denom on x/tasks' accepted_denoms is priced with its own challenge_gas_price
// and min_challenge_bond; the native denom with x/verification's. A task
// whose denom governance has since removed is challenged in the native denom,
// which always has a price.
func ChallengeBondFor(task taskstypes.Task, params types.Params, tasksParams taskstypes.Params) sdk.Coin {
	terms, ok := tasksParams.Terms(task.Bond.Denom)
	if !ok || task.Bond.Denom == tasksParams.Denom {
		c := ChallengeBond(task, params)
		c.Denom = tasksParams.Denom
		return c
	}
	params.ChallengeGasPrice = terms.ChallengeGasPrice
	params.MinChallengeBond = terms.MinChallengeBond
	return ChallengeBond(task, params)
}
