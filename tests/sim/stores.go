package sim

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// skipPrefixes are the store entries an import does not reproduce by design
// of the SDK modules (the exceptions the SDK's own simapp makes: staking's
// queues, indexes and block-scratch entries, feegrant's expiry queue,
// slashing's missed-block bitmaps). Hinterland's stores have none.
var skipPrefixes = map[string][][]byte{
	stakingtypes.StoreKey: {
		stakingtypes.UnbondingQueueKey, stakingtypes.RedelegationQueueKey, stakingtypes.ValidatorQueueKey,
		stakingtypes.HistoricalInfoKey, stakingtypes.UnbondingIDKey, stakingtypes.UnbondingIndexKey,
		stakingtypes.UnbondingTypeKey, stakingtypes.ValidatorUpdatesKey,
	},
	feegrant.StoreKey:      {feegrant.FeeAllowanceQueueKeyPrefix},
	slashingtypes.StoreKey: {slashingtypes.ValidatorMissedBlockBitmapKeyPrefix},
}

// storeNames are every KV store of the app.
var storeNames = []string{
	authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, slashingtypes.StoreKey,
	distrtypes.StoreKey, minttypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
	upgradetypes.StoreKey, evidencetypes.StoreKey, feegrant.StoreKey, epochstypes.StoreKey,
	taskstypes.StoreKey, verificationtypes.StoreKey, rewardstypes.StoreKey,
}

// entryDiff is one key whose entry differs: present only before the export
// (a), only after the import (b), or with different values.
type entryDiff struct {
	key  []byte
	what string
}

// diffStores compares every entry of a and b outside the skipped prefixes.
// (The SDK's DiffKVStores cannot tell a missing key from a present key with
// an empty value, which every collections KeySet entry has.)
func diffStores(a, b storetypes.KVStore, skip [][]byte) []entryDiff {
	read := func(s storetypes.KVStore) map[string][]byte {
		out := map[string][]byte{}
		it := s.Iterator(nil, nil)
		defer it.Close()
		for ; it.Valid(); it.Next() {
			skipped := false
			for _, p := range skip {
				skipped = skipped || bytes.HasPrefix(it.Key(), p)
			}
			if !skipped {
				out[string(it.Key())] = it.Value()
			}
		}
		return out
	}
	ma, mb := read(a), read(b)
	var diff []entryDiff
	for k, va := range ma {
		vb, ok := mb[k]
		switch {
		case !ok:
			diff = append(diff, entryDiff{[]byte(k), "only before export"})
		case !bytes.Equal(va, vb):
			diff = append(diff, entryDiff{[]byte(k), "values differ"})
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			diff = append(diff, entryDiff{[]byte(k), "only after import"})
		}
	}
	return diff
}

// keyDecoder names and decodes the keys of one collection.
type keyDecoder struct {
	name   string
	prefix []byte
	decode func([]byte) string
}

func decoderOf[K any](name string, prefix collections.Prefix, kc collcodec.KeyCodec[K]) keyDecoder {
	return keyDecoder{name: name, prefix: prefix.Bytes(), decode: func(b []byte) string {
		_, k, err := kc.Decode(b)
		if err != nil {
			return fmt.Sprintf("%X (undecodable: %v)", b, err)
		}
		return kc.Stringify(k)
	}}
}

// keyNames decodes the keys of the Hinterland stores' collections.
func keyNames(a *SimApp) map[string][]keyDecoder {
	t, v, r := a.TasksKeeper, a.VerificationKeeper, a.RewardsKeeper
	return map[string][]keyDecoder{
		taskstypes.StoreKey: {
			decoderOf("tasks", taskstypes.TasksKey, t.Tasks.KeyCodec()),
			decoderOf("assignments", taskstypes.AssignmentsKey, t.Assignments.KeyCodec()),
			decoderOf("poster_index", taskstypes.PosterIndexKey, t.PosterIndex.KeyCodec()),
			decoderOf("status_index", taskstypes.StatusIndexKey, t.StatusIndex.KeyCodec()),
			decoderOf("worker_index", taskstypes.WorkerIndexKey, t.WorkerIndex.KeyCodec()),
			decoderOf("claim_queue", taskstypes.ClaimQueueKey, t.ClaimQueue.KeyCodec()),
			decoderOf("commit_queue", taskstypes.CommitQueueKey, t.CommitQueue.KeyCodec()),
			decoderOf("models", taskstypes.ModelsKey, t.Models.KeyCodec()),
		},
		verificationtypes.StoreKey: {
			decoderOf("transcripts", verificationtypes.TranscriptsKey, v.Transcripts.KeyCodec()),
			decoderOf("challenges", verificationtypes.ChallengesKey, v.Challenges.KeyCodec()),
			decoderOf("verdicts", verificationtypes.VerdictsKey, v.Verdicts.KeyCodec()),
			decoderOf("task_verdicts", verificationtypes.TaskVerdictKey, v.TaskVerdicts.KeyCodec()),
			decoderOf("draw_queue", verificationtypes.DrawQueueKey, v.DrawQueue.KeyCodec()),
			decoderOf("reveal_queue", verificationtypes.RevealQueueKey, v.RevealQueue.KeyCodec()),
			decoderOf("fraud_queue", verificationtypes.FraudQueueKey, v.FraudQueue.KeyCodec()),
		},
		rewardstypes.StoreKey: {
			decoderOf("escrows", rewardstypes.EscrowsKey, r.Escrows.KeyCodec()),
			decoderOf("worker_bonds", rewardstypes.WorkerBondsKey, r.WorkerBonds.KeyCodec()),
			decoderOf("challenge_bonds", rewardstypes.ChallengeBondsKey, r.ChallengeBonds.KeyCodec()),
			decoderOf("reputations", rewardstypes.ReputationsKey, r.Reputations.KeyCodec()),
			decoderOf("leaderboard", rewardstypes.LeaderboardKey, r.Leaderboard.KeyCodec()),
			decoderOf("epoch_work", rewardstypes.EpochWorkKey, r.EpochWork.KeyCodec()),
		},
	}
}

// describeDiff lists differing entries (at most 40), their collection and
// decoded key where known.
func describeDiff(decoders []keyDecoder, diff []entryDiff) string {
	lines := make([]string, 0, len(diff))
	for _, d := range diff {
		name := fmt.Sprintf("%X", d.key)
		for _, kd := range decoders {
			if bytes.HasPrefix(d.key, kd.prefix) {
				name = kd.name + " " + kd.decode(d.key[len(kd.prefix):])
				break
			}
		}
		lines = append(lines, fmt.Sprintf("  %s: %s", d.what, name))
	}
	sort.Strings(lines)
	if len(lines) > 40 {
		lines = append(lines[:40], fmt.Sprintf("  ... and %d more", len(lines)-40))
	}
	return strings.Join(lines, "\n")
}

// CompareStores requires every store of a (at ctxA) and b (at ctxB) to hold
// the same entries, apart from skipPrefixes; it returns how many entries of
// each store were compared. A difference is reported decoded.
func CompareStores(tb testing.TB, a, b *SimApp, ctxA, ctxB sdk.Context) map[string]int {
	tb.Helper()
	counts := map[string]int{}
	var failed []string
	for _, name := range storeNames {
		ka, kb := a.GetKey(name), b.GetKey(name)
		require.NotNil(tb, ka, "store %s", name)
		sa, sb := ctxA.KVStore(ka), ctxB.KVStore(kb)
		it := sa.Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			counts[name]++
		}
		require.NoError(tb, it.Close())
		if diff := diffStores(sa, sb, skipPrefixes[name]); len(diff) > 0 {
			failed = append(failed, name)
			tb.Errorf("store %s: %d entries differ after export and import:\n%s", name, len(diff),
				describeDiff(keyNames(a)[name], diff))
		}
	}
	require.Empty(tb, failed, "stores that differ after export and import")
	return counts
}
