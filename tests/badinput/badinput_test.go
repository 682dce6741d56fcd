package badinput

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	sdkmath "cosmossdk.io/math"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// Registered errors, as codespace/code.
func sdkErr(c uint32) code   { return code{sdkerrors.RootCodespace, c} }
func tasksErr(c uint32) code { return code{taskstypes.ModuleName, c} }
func verErr(c uint32) code   { return code{verificationtypes.ModuleName, c} }
func rewErr(c uint32) code   { return code{rewardstypes.ModuleName, c} }

// badCase is one bad transaction. tx builds it on chain A from account
// `from` at its current sequence (a refused transaction does not advance
// it) and returns the options it was built with, which the twin's reference
// transaction copies (fee, gas).
type badCase struct {
	name  string
	from  int
	tx    func(p *pair) ([]byte, apptest.TxOptions)
	check code // CheckTx's answer (ok: only the message handler can tell)
	block code // the answer in a block
	// minGas, if set, is the gas the block must have charged for it.
	minGas func(tx []byte) uint64
}

// bad builds msgs from account i at its current sequence.
func (p *pair) bad(i int, opts apptest.TxOptions, msgs ...sdk.Msg) []byte {
	return p.A.Build(p.acc(i), msgs, opts).Encode()
}

// resign re-signs parts after a change (SIGN_MODE_DIRECT signs the bytes).
func (p *pair) resign(i int, parts *apptest.Parts) []byte {
	parts.Sigs = [][]byte{p.A.Sign(p.acc(i), parts.BodyBytes, parts.AuthBytes, p.A.ChainID)}
	return parts.Encode()
}

// withField appends a length-delimited field num to a protobuf encoding.
func withField(bz []byte, num protowire.Number, v []byte) []byte {
	bz = protowire.AppendTag(append([]byte(nil), bz...), num, protowire.BytesType)
	return protowire.AppendBytes(bz, v)
}

// rawMsg packs a message's bytes (possibly with extra fields) into an Any.
func rawMsg(m sdk.Msg, extra func([]byte) []byte) *codectypes.Any {
	bz, err := gogoproto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return &codectypes.Any{TypeUrl: sdk.MsgTypeURL(m), Value: extra(bz)}
}

// withBody rebuilds a transaction's body with the given messages and signs it.
func (p *pair) withBody(i int, opts apptest.TxOptions, msgs ...*codectypes.Any) []byte {
	parts := p.A.Build(p.acc(i), []sdk.Msg{&taskstypes.MsgClaimTask{Worker: p.addr(i), TaskId: 1}}, opts)
	parts.Body.Messages = msgs
	var err error
	parts.BodyBytes, err = parts.Body.Marshal()
	if err != nil {
		panic(err)
	}
	return p.resign(i, parts)
}

func post(p *pair, mutate func(*taskstypes.MsgPostTask)) sdk.Msg {
	m := fixtures.PostMsg(p.acc(posterI).Addr, data)
	mutate(m)
	return m
}

func msgSize(m gogoproto.Message) uint64 { return uint64(gogoproto.Size(m)) }

func cases() []badCase {
	none := apptest.TxOptions{}
	single := func(from int, m func(p *pair) sdk.Msg) func(p *pair) ([]byte, apptest.TxOptions) {
		return func(p *pair) ([]byte, apptest.TxOptions) { return p.bad(from, none, m(p)), none }
	}
	// single2 is single with several messages in the transaction.
	single2 := func(from int, m func(p *pair) []sdk.Msg) func(p *pair) ([]byte, apptest.TxOptions) {
		return func(p *pair) ([]byte, apptest.TxOptions) { return p.bad(from, none, m(p)...), none }
	}
	postCase := func(name string, want code, mutate func(*taskstypes.MsgPostTask)) badCase {
		return badCase{name: "post: " + name, from: posterI, check: ok, block: want,
			tx: single(posterI, func(p *pair) sdk.Msg { return post(p, mutate) })}
	}
	reveal := func(p *pair, mutate func(*verificationtypes.MsgRevealSegment)) *verificationtypes.MsgRevealSegment {
		m, err := p.ChallengedRun.Reveal(p.acc(workerI).Addr, p.Pending[0])
		if err != nil {
			panic(err)
		}
		mutate(m)
		return m
	}
	revealCase := func(name string, want code, mutate func(*verificationtypes.MsgRevealSegment)) badCase {
		return badCase{name: "reveal: " + name, from: workerI, check: ok, block: want,
			tx: single(workerI, func(p *pair) sdk.Msg { return reveal(p, mutate) }),
			// Rejected after the bytes were charged (gas_per_reveal_byte).
			minGas: func(tx []byte) uint64 { return verificationtypes.DefaultGasPerRevealByte * uint64(len(tx)) * 9 / 10 }}
	}
	// open is the worker's open of its sealed transcript of Sealed, changed
	// by mutate (the seal is of the honest transcript).
	open := func(p *pair, mutate func(*verificationtypes.MsgOpenTranscript)) *verificationtypes.MsgOpenTranscript {
		m := p.SealedRun.Open(p.acc(workerI).Addr)
		mutate(m)
		return m
	}
	openCase := func(name string, want code, mutate func(*verificationtypes.MsgOpenTranscript)) badCase {
		return badCase{name: "open: " + name, from: workerI, check: ok, block: want,
			tx: single(workerI, func(p *pair) sdk.Msg { return open(p, mutate) })}
	}
	sealChallenge := func(name string, from int, want code, mutate func(p *pair, m *verificationtypes.MsgSealChallenge)) badCase {
		return badCase{name: "seal challenge: " + name, from: from, check: ok, block: want,
			tx: single(from, func(p *pair) sdk.Msg {
				m := p.sealChallenge(from, p.Unverified, challengeSalt(7))
				mutate(p, m)
				return m
			})}
	}
	// challenge opens one of the challenger's sealed challenges (of the
	// verified segment unless mutate changes it).
	challenge := func(name string, want code, mutate func(p *pair, m *verificationtypes.MsgChallengeSegment)) badCase {
		return badCase{name: "challenge: " + name, from: challengerI, check: ok, block: want,
			tx: single(challengerI, func(p *pair) sdk.Msg {
				seg := p.transcript(p.Passed, workerI).Sampled[0]
				m := &verificationtypes.MsgChallengeSegment{Challenger: p.addr(challengerI), TaskId: p.Passed, Worker: p.addr(workerI),
					Segment: seg, Salt: p.SealedChallenges[seg]}
				mutate(p, m)
				return m
			})}
	}
	revealSecret := func(name string, from int, want code, mutate func(p *pair, m *taskstypes.MsgRevealSecret)) badCase {
		return badCase{name: "reveal secret: " + name, from: from, check: ok, block: want,
			tx: single(from, func(p *pair) sdk.Msg {
				m := &taskstypes.MsgRevealSecret{Poster: p.addr(from), TaskId: p.Secret, Secret: secret}
				mutate(p, m)
				return m
			})}
	}
	// send is a bank send from `from` (the poster unless given) to the challenger.
	send := func(p *pair, amount sdk.Coins, from ...int) sdk.Msg {
		i := posterI
		if len(from) > 0 {
			i = from[0]
		}
		return &banktypes.MsgSend{FromAddress: p.addr(i), ToAddress: p.addr(challengerI), Amount: amount}
	}

	list := []badCase{
		// --- Encoding and envelope: refused by CheckTx and by the ante handler in a block.
		{name: "envelope: garbage bytes", check: sdkErr(2), block: sdkErr(2),
			tx: func(*pair) ([]byte, apptest.TxOptions) { return []byte("\xff\xfe not a transaction"), none }},
		{name: "envelope: body bytes garbage", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))}, none)
				parts.BodyBytes = []byte{0x0a, 0xff, 0xff, 0xff, 0x7f}
				return p.resign(posterI, parts), none
			}},
		{name: "envelope: unknown field in TxRaw", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				return withField(p.bad(posterI, none, &taskstypes.MsgClaimTask{Worker: p.addr(posterI), TaskId: 1}), 9, []byte("x")), none
			}},
		{name: "envelope: critical unknown field in TxBody", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{&taskstypes.MsgClaimTask{Worker: p.addr(posterI), TaskId: 1}}, none)
				parts.BodyBytes = withField(parts.BodyBytes, 20, []byte("critical"))
				return p.resign(posterI, parts), none
			}},
		{name: "envelope: non-critical unknown field in AuthInfo", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{&taskstypes.MsgClaimTask{Worker: p.addr(posterI), TaskId: 1}}, none)
				parts.AuthBytes = withField(parts.AuthBytes, 1025, []byte("extra"))
				return p.resign(posterI, parts), none
			}},
		{name: "envelope: critical unknown field in a Hinterland message", from: workerI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				m := &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: p.Open}
				return p.withBody(workerI, none, rawMsg(m, func(b []byte) []byte { return withField(b, 9, []byte("x")) })), none
			}},
		{name: "envelope: unknown field in a coin inside a message", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				m := &rewardstypes.MsgFundPool{Sender: p.addr(posterI), Amount: sdk.NewInt64Coin("uhint", 1)}
				return p.withBody(posterI, none, rawMsg(m, func(b []byte) []byte {
					coin := withField([]byte("\x0a\x05uhint\x12\x011"), 7, []byte("x"))
					return withField(withField(nil, 1, []byte(p.addr(posterI))), 2, coin)
				})), none
			}},
		{name: "envelope: message of an unknown type", from: posterI, check: sdkErr(2), block: sdkErr(2),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				return p.withBody(posterI, none, &codectypes.Any{TypeUrl: "/hinterland.tasks.v1.MsgStealEscrow", Value: []byte{1}}), none
			}},
		{name: "envelope: no message", from: posterI, check: sdkErr(18), block: sdkErr(18),
			tx: func(p *pair) ([]byte, apptest.TxOptions) { return p.withBody(posterI, none), none }},
		{name: "envelope: memo over 256 characters", from: posterI, check: sdkErr(12), block: sdkErr(12),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Memo: strings.Repeat("m", 300)}
				return p.bad(posterI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))), o
			}},
		{name: "envelope: oversize transaction runs out of gas on its bytes", from: workerI, check: sdkErr(11), block: sdkErr(11),
			tx: single(workerI, func(p *pair) sdk.Msg {
				return open(p, func(m *verificationtypes.MsgOpenTranscript) { m.Uri = "https://" + strings.Repeat("a", 300_000) })
			}),
			minGas: func([]byte) uint64 { return 2_000_000 }},
		{name: "envelope: timeout height passed", from: posterI, check: sdkErr(30), block: sdkErr(30),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{TimeoutHeight: 1}
				return p.bad(posterI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))), o
			}},
		{name: "envelope: gas limit above the block's", from: posterI, check: sdkErr(41), block: sdkErr(41),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 400_000_001}
				return p.bad(posterI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))), o
			}},
		{name: "envelope: zero gas limit", from: posterI, check: sdkErr(11), block: sdkErr(11),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 1, Fee: sdk.NewCoins(sdk.NewInt64Coin("uhint", 1))}
				return p.bad(posterI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))), o
			}},
		{name: "envelope: negative fee", from: posterI, check: sdkErr(13), block: sdkErr(13),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Fee: sdk.Coins{sdk.Coin{Denom: "uhint", Amount: sdkmath.NewInt(-2000)}}}
				return p.bad(posterI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))), o
			}},
		{name: "envelope: fee larger than the balance", from: bystanderI, check: sdkErr(5), block: sdkErr(5),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Fee: sdk.NewCoins(sdk.NewInt64Coin("uhint", 2_000_000_000_000))}
				return p.bad(bystanderI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)), bystanderI)), o
			}},
		{name: "envelope: fee in an unknown denom", from: bystanderI, check: sdkErr(13), block: sdkErr(5),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Fee: sdk.NewCoins(sdk.NewInt64Coin("ufake", 2_000))}
				return p.bad(bystanderI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)), bystanderI)), o
			}},

		// --- Signatures, replays, chain id.
		{name: "signature: one bit flipped", from: posterI, check: sdkErr(4), block: sdkErr(4),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))}, none)
				parts.Sigs[0][5] ^= 1
				return parts.Encode(), none
			}},
		{name: "signature: none", from: posterI, check: sdkErr(15), block: sdkErr(15),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))}, none)
				parts.Sigs = nil
				return parts.Encode(), none
			}},
		{name: "signature: two for one signer", from: posterI, check: sdkErr(4), block: sdkErr(4),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))}, none)
				parts.Sigs = append(parts.Sigs, parts.Sigs[0])
				return parts.Encode(), none
			}},
		{name: "signature: by another account's key", from: bystanderI, check: sdkErr(8), block: sdkErr(8),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				// The bystander's message, signed (and its public key given) by the poster.
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)), bystanderI)}, none)
				return parts.Encode(), none
			}},
		{name: "signature: for another chain id", from: posterI, check: sdkErr(4), block: sdkErr(4),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{ChainID: "hinterland-1"}
				return p.bad(posterI, o, &taskstypes.MsgClaimTask{Worker: p.addr(posterI), TaskId: 1}), o
			}},
		{name: "signature: wrong account number", from: posterI, check: sdkErr(4), block: sdkErr(4),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				parts := p.A.Build(p.acc(posterI), []sdk.Msg{send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)))}, none)
				doc := txtypes.SignDoc{BodyBytes: parts.BodyBytes, AuthInfoBytes: parts.AuthBytes, ChainId: p.A.ChainID,
					AccountNumber: p.A.AccountNumber(p.acc(posterI)) + 100}
				bz, err := doc.Marshal()
				if err != nil {
					panic(err)
				}
				sig, err := p.acc(posterI).Key.Sign(bz)
				if err != nil {
					panic(err)
				}
				parts.Sigs = [][]byte{sig}
				return parts.Encode(), none
			}},
		{name: "replay: the same transaction again", from: bystanderI, check: sdkErr(32), block: sdkErr(32),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				msg := send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 7)), bystanderI)
				first := p.A.Tx(p.A.Accounts[bystanderI], none, msg)
				p.A.Deliver(first)
				p.B.Deliver(p.B.Tx(p.B.Accounts[bystanderI], none, msg))
				return first, none
			}},
		{name: "replay: sequence from the future", from: bystanderI, check: sdkErr(32), block: sdkErr(32),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				seq := p.acc(bystanderI).Seq + 5
				o := apptest.TxOptions{Sequence: &seq}
				return p.bad(bystanderI, o, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)), bystanderI)), o
			}},

		// --- x/tasks: MsgPostTask (refused by its handler; the fee and sequence are spent).
		postCase("zero reward", tasksErr(7), func(m *taskstypes.MsgPostTask) { m.Reward.Amount = sdkmath.ZeroInt() }),
		postCase("negative reward", tasksErr(7), func(m *taskstypes.MsgPostTask) { m.Reward.Amount = sdkmath.NewInt(-1_000_000) }),
		postCase("reward in another denom", tasksErr(7), func(m *taskstypes.MsgPostTask) { m.Reward.Denom = "uatom" }),
		postCase("zero bond", tasksErr(8), func(m *taskstypes.MsgPostTask) { m.Bond.Amount = sdkmath.ZeroInt() }),
		postCase("negative bond", tasksErr(8), func(m *taskstypes.MsgPostTask) { m.Bond.Amount = sdkmath.NewInt(-5) }),
		postCase("reward the poster cannot pay", rewErr(9), func(m *taskstypes.MsgPostTask) { m.Reward.Amount = sdkmath.NewInt(5_000_000_000_000) }),
		postCase("dataset root of 31 bytes", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Root = m.Dataset.Root[:31] }),
		postCase("dataset root of 33 bytes", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Root = append(m.Dataset.Root, 0) }),
		postCase("dataset of zero rows", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Rows = 0 }),
		postCase("dataset schema with other classes", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Schema.Classes = 10 }),
		postCase("dataset uri of another scheme", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Uri = "gopher://x/y" }),
		postCase("dataset uri over max_uri_length", tasksErr(6), func(m *taskstypes.MsgPostTask) { m.Dataset.Uri = "https://" + strings.Repeat("a", 600) }),
		postCase("model with zero inputs", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.Inputs = 0 }),
		postCase("unknown model kind", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.Model = 99 }),
		postCase("model kind beyond a byte", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.Model = 257 }),
		postCase("four hidden layers", tasksErr(5), func(m *taskstypes.MsgPostTask) {
			m.Spec.Model, m.Spec.Hidden = taskstypes.MODEL_KIND_MLP, []uint32{4, 4, 4, 4}
		}),
		postCase("fractional bits beyond the engine's", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.FracBits = 40 }),
		postCase("learning rate beyond 16.0 in fixed point", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.LearningRate = 1<<32 - 1 }),
		postCase("momentum of 1.0", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.Momentum = 1 << 16 }),
		postCase("zero batch", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.BatchSize = 0 }),
		postCase("LoRA without a base model hash", tasksErr(5), func(m *taskstypes.MsgPostTask) {
			m.Spec.LoraRank, m.Spec.LoraAlpha = 2, 1<<17
		}),
		postCase("zero total steps", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.TotalSteps = 0 }),
		postCase("total steps over max_total_steps", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.TotalSteps = 1 << 62 }),
		postCase("more segments than max_segments", tasksErr(5), func(m *taskstypes.MsgPostTask) { m.Spec.TotalSteps, m.Spec.SegmentSteps = 10_000, 1 }),
		postCase("more samples than segments", tasksErr(10), func(m *taskstypes.MsgPostTask) { m.Samples = 5 }),
		postCase("samples and a detection target", tasksErr(10), func(m *taskstypes.MsgPostTask) { m.DetectionBps = 9_000 }),
		postCase("detection target of certainty", tasksErr(10), func(m *taskstypes.MsgPostTask) { m.Samples, m.DetectionBps = 0, 10_000 }),
		postCase("replicas over max_replicas", tasksErr(9), func(m *taskstypes.MsgPostTask) { m.Replicas = 1 << 31 }),
		postCase("claim window of one second", tasksErr(11), func(m *taskstypes.MsgPostTask) { m.ClaimWindow = time.Second }),
		postCase("negative commit window", tasksErr(11), func(m *taskstypes.MsgPostTask) { m.CommitWindow = -time.Hour }),
		{name: "post: 60 000 hidden widths are charged per byte", from: posterI, check: ok, block: tasksErr(5),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 4_000_000}
				m := post(p, func(m *taskstypes.MsgPostTask) {
					m.Spec.Model, m.Spec.Hidden = taskstypes.MODEL_KIND_MLP, make([]uint32, 60_000)
					for i := range m.Spec.Hidden {
						m.Spec.Hidden[i] = 1 << 20
					}
				})
				return p.bad(posterI, o, m), o
			},
			minGas: func(tx []byte) uint64 { return 10*uint64(len(tx)) + 10*uint64(len(tx))*9/10 }},

		// --- x/tasks: claims and cancellations.
		{name: "claim: unknown task", from: workerI, check: ok, block: tasksErr(12),
			tx: single(workerI, func(p *pair) sdk.Msg { return &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: 999} })},
		{name: "claim: the poster's own task", from: posterI, check: ok, block: tasksErr(14),
			tx: single(posterI, func(p *pair) sdk.Msg { return &taskstypes.MsgClaimTask{Worker: p.addr(posterI), TaskId: p.Open} })},
		{name: "claim: a task whose replicas are all taken", from: worker2I, check: ok, block: tasksErr(13),
			tx: single(worker2I, func(p *pair) sdk.Msg { return &taskstypes.MsgClaimTask{Worker: p.addr(worker2I), TaskId: p.Claimed} })},
		{name: "claim: twice by the same worker", from: workerI, check: ok, block: tasksErr(15),
			tx: single(workerI, func(p *pair) sdk.Msg { return &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: p.Shared} })},
		{name: "cancel: by someone else", from: workerI, check: ok, block: tasksErr(16),
			tx: single(workerI, func(p *pair) sdk.Msg { return &taskstypes.MsgCancelTask{Poster: p.addr(workerI), TaskId: p.Open} })},
		{name: "cancel: a claimed task", from: posterI, check: ok, block: tasksErr(17),
			tx: single(posterI, func(p *pair) sdk.Msg { return &taskstypes.MsgCancelTask{Poster: p.addr(posterI), TaskId: p.Claimed} })},
		{name: "params: x/tasks update by a user", from: posterI, check: ok, block: sdkErr(4),
			tx: single(posterI, func(p *pair) sdk.Msg {
				return &taskstypes.MsgUpdateParams{Authority: p.addr(posterI), Params: taskstypes.DefaultParams()}
			})},
		{name: "params: x/rewards update by a user", from: posterI, check: ok, block: sdkErr(4),
			tx: single(posterI, func(p *pair) sdk.Msg {
				return &rewardstypes.MsgUpdateParams{Authority: p.addr(posterI), Params: rewardstypes.DefaultParams()}
			})},

		// --- x/verification: seals and opens.
		{name: "seal: without a claim", from: worker2I, check: ok, block: tasksErr(18),
			tx: single(worker2I, func(p *pair) sdk.Msg { return p.ClaimedRun.Seal(p.acc(worker2I).Addr) })},
		{name: "seal: a seal of 31 bytes", from: workerI, check: ok, block: verErr(26),
			tx: single(workerI, func(p *pair) sdk.Msg {
				m := p.ClaimedRun.Seal(p.acc(workerI).Addr)
				m.Seal = m.Seal[:31]
				return m
			})},
		{name: "seal: a seal of 33 bytes", from: workerI, check: ok, block: verErr(26),
			tx: single(workerI, func(p *pair) sdk.Msg {
				m := p.ClaimedRun.Seal(p.acc(workerI).Addr)
				m.Seal = append(m.Seal, 0)
				return m
			})},
		{name: "seal: a transcript already sealed", from: workerI, check: ok, block: verErr(5),
			tx: single(workerI, func(p *pair) sdk.Msg { return p.SealedRun.Seal(p.acc(workerI).Addr) })},
		{name: "open: before the task's claims close", from: workerI, check: ok, block: verErr(29),
			tx: single(workerI, func(p *pair) sdk.Msg { return p.HalfRun.Open(p.acc(workerI).Addr) })},
		{name: "open: without a seal", from: worker2I, check: ok, block: verErr(6),
			tx: single(worker2I, func(p *pair) sdk.Msg { return p.SealedRun.Open(p.acc(worker2I).Addr) })},
		openCase("with another salt", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.Salt[0] ^= 1 }),
		openCase("with a salt of 31 bytes", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.Salt = m.Salt[:31] }),
		openCase("a checkpoint that is not the sealed one", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.Checkpoints[2][0] ^= 1 }),
		openCase("h_0 not the sealed one", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.Checkpoints[0][0] ^= 1 }),
		openCase("final hashes not the sealed ones", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.FinalOptHash[3] ^= 1 }),
		openCase("empty final model hash", verErr(28), func(m *verificationtypes.MsgOpenTranscript) { m.FinalModelHash = nil }),
		openCase("an engine failure that was not sealed", verErr(7), func(m *verificationtypes.MsgOpenTranscript) {
			m.EngineFailure, m.FinalModelHash, m.FinalOptHash = true, nil, nil
		}),
		openCase("a checkpoint of 33 bytes", verErr(7), func(m *verificationtypes.MsgOpenTranscript) { m.Checkpoints[2] = append(m.Checkpoints[2], 0) }),
		openCase("a checkpoint of 31 bytes", verErr(7), func(m *verificationtypes.MsgOpenTranscript) { m.Checkpoints[1] = m.Checkpoints[1][:31] }),
		openCase("one checkpoint missing", verErr(7), func(m *verificationtypes.MsgOpenTranscript) { m.Checkpoints = m.Checkpoints[1:] }),
		openCase("uri of another scheme", verErr(10), func(m *verificationtypes.MsgOpenTranscript) { m.Uri = "ftp://127.0.0.1/c" }),
		{name: "open: 5 000 checkpoints are charged per byte", from: workerI, check: ok, block: verErr(7),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 10_000_000}
				m := open(p, func(m *verificationtypes.MsgOpenTranscript) {
					for len(m.Checkpoints) < 5_000 {
						m.Checkpoints = append(m.Checkpoints, bytes.Repeat([]byte{7}, 32))
					}
				})
				return p.bad(workerI, o, m), o
			},
			minGas: func(tx []byte) uint64 {
				return 10*uint64(len(tx)) + verificationtypes.DefaultGasPerRevealByte*uint64(len(tx))*9/10
			}},
		{name: "open: a transcript already opened", from: workerI, check: ok, block: verErr(19),
			tx: single(workerI, func(p *pair) sdk.Msg { return p.ChallengedRun.Open(p.acc(workerI).Addr) })},

		// --- x/verification: reveals (charged per byte before the checks).
		revealCase("a segment that is not challenged", verErr(11), func(m *verificationtypes.MsgRevealSegment) { m.Segment = 9 }),
		revealCase("a Merkle aunt flipped", verErr(16), func(m *verificationtypes.MsgRevealSegment) { m.Rows[0].Aunts[0][0] ^= 1 }),
		revealCase("Merkle aunts missing", verErr(16), func(m *verificationtypes.MsgRevealSegment) { m.Rows[1].Aunts = m.Rows[1].Aunts[:1] }),
		revealCase("an extra Merkle aunt", verErr(16), func(m *verificationtypes.MsgRevealSegment) {
			m.Rows[2].Aunts = append(m.Rows[2].Aunts, bytes.Repeat([]byte{1}, 32))
		}),
		revealCase("an aunt of 31 bytes", verErr(16), func(m *verificationtypes.MsgRevealSegment) { m.Rows[0].Aunts[0] = m.Rows[0].Aunts[0][:31] }),
		revealCase("a row's bytes changed", verErr(16), func(m *verificationtypes.MsgRevealSegment) { m.Rows[0].Row[0] ^= 0x80 }),
		revealCase("a row's index changed", verErr(15), func(m *verificationtypes.MsgRevealSegment) { m.Rows[0].Index += 1 << 40 }),
		revealCase("a row missing", verErr(15), func(m *verificationtypes.MsgRevealSegment) { m.Rows = m.Rows[1:] }),
		revealCase("a row repeated", verErr(15), func(m *verificationtypes.MsgRevealSegment) { m.Rows = append(m.Rows, m.Rows[0]) }),
		revealCase("the start state truncated", verErr(14), func(m *verificationtypes.MsgRevealSegment) { m.StartState = m.StartState[:len(m.StartState)/2] }),
		revealCase("a start state with a weight changed", verErr(14), func(m *verificationtypes.MsgRevealSegment) { m.StartState[len(m.StartState)-5] ^= 1 }),
		revealCase("a base model for a task without one", verErr(17), func(m *verificationtypes.MsgRevealSegment) { m.BaseModel = []byte{1, 2, 3} }),
		{name: "reveal: over max_reveal_bytes, refused before the bytes are charged", from: workerI, check: ok, block: verErr(13),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				o := apptest.TxOptions{Gas: 30_000_000}
				m := reveal(p, func(m *verificationtypes.MsgRevealSegment) { m.StartState = bytes.Repeat([]byte{1}, 2<<20+1) })
				return p.bad(workerI, o, m), o
			},
			minGas: func(tx []byte) uint64 { return 10 * uint64(len(tx)) }},

		// --- x/verification: fraud challenges, sealed then opened.
		sealChallenge("by the worker itself", workerI, verErr(24), func(*pair, *verificationtypes.MsgSealChallenge) {}),
		sealChallenge("of a transcript that has not passed", challengerI, verErr(19), func(p *pair, m *verificationtypes.MsgSealChallenge) { m.TaskId = p.Challenged }),
		sealChallenge("with a commitment of 31 bytes", challengerI, verErr(26), func(_ *pair, m *verificationtypes.MsgSealChallenge) { m.Commitment = m.Commitment[:31] }),
		sealChallenge("with a bond below the required bond", challengerI, verErr(23), func(_ *pair, m *verificationtypes.MsgSealChallenge) { m.Bond.Amount = m.Bond.Amount.SubRaw(1) }),
		sealChallenge("with a bond below the minimum", challengerI, verErr(23), func(_ *pair, m *verificationtypes.MsgSealChallenge) { m.Bond.Amount = sdkmath.NewInt(10) }),
		sealChallenge("with a negative bond", challengerI, verErr(23), func(_ *pair, m *verificationtypes.MsgSealChallenge) { m.Bond.Amount = sdkmath.NewInt(-5_000) }),
		sealChallenge("with a bond in another denom", challengerI, verErr(23), func(_ *pair, m *verificationtypes.MsgSealChallenge) { m.Bond.Denom = "uatom" }),
		sealChallenge("of a worker without a transcript", challengerI, verErr(6), func(p *pair, m *verificationtypes.MsgSealChallenge) { m.Worker = p.addr(bystanderI) }),
		sealChallenge("a commitment already sealed", challengerI, verErr(25), func(p *pair, m *verificationtypes.MsgSealChallenge) {
			seg := p.transcript(p.Passed, workerI).Sampled[0]
			*m = *p.sealChallenge(challengerI, seg, p.SealedChallenges[seg])
		}),
		challenge("without a seal", verErr(31), func(p *pair, m *verificationtypes.MsgChallengeSegment) {
			m.Segment, m.Salt = p.Unverified, challengeSalt(9)
		}),
		challenge("with another salt than sealed", verErr(31), func(_ *pair, m *verificationtypes.MsgChallengeSegment) { m.Salt = challengeSalt(9) }),
		challenge("of another segment than sealed", verErr(31), func(_ *pair, m *verificationtypes.MsgChallengeSegment) { m.Segment++ }),
		{name: "challenge: of another challenger's seal", from: bystanderI, check: ok, block: verErr(31),
			tx: single(bystanderI, func(p *pair) sdk.Msg {
				seg := p.transcript(p.Passed, workerI).Sampled[0]
				return &verificationtypes.MsgChallengeSegment{Challenger: p.addr(bystanderI), TaskId: p.Passed, Worker: p.addr(workerI),
					Segment: seg, Salt: p.SealedChallenges[seg]}
			})},
		challenge("of a verified segment", verErr(21), func(*pair, *verificationtypes.MsgChallengeSegment) {}),
		challenge("of a segment out of range", verErr(22), func(p *pair, m *verificationtypes.MsgChallengeSegment) {
			m.Segment, m.Salt = 1<<31, p.SealedChallenges[1<<31]
		}),
		{name: "challenge: in the block of its seal", from: challengerI, check: ok, block: verErr(32),
			tx: single2(challengerI, func(p *pair) []sdk.Msg {
				return []sdk.Msg{p.sealChallenge(challengerI, p.Unverified, challengeSalt(8)),
					&verificationtypes.MsgChallengeSegment{Challenger: p.addr(challengerI), TaskId: p.Passed, Worker: p.addr(workerI),
						Segment: p.Unverified, Salt: challengeSalt(8)}}
			})},

		// --- x/tasks: requester secrets and abandoned claims.
		revealSecret("by someone else than the poster", workerI, tasksErr(16), func(*pair, *taskstypes.MsgRevealSecret) {}),
		revealSecret("that is not the committed one", posterI, tasksErr(23), func(_ *pair, m *taskstypes.MsgRevealSecret) {
			m.Secret = append([]byte(nil), secret...)
			m.Secret[0] ^= 1
		}),
		revealSecret("of 31 bytes", posterI, tasksErr(23), func(_ *pair, m *taskstypes.MsgRevealSecret) { m.Secret = secret[:31] }),
		revealSecret("with a next secret hash of 31 bytes", posterI, tasksErr(21), func(_ *pair, m *taskstypes.MsgRevealSecret) {
			m.NextSecretHash = make([]byte, 31)
		}),
		revealSecret("before the task's claims close", posterI, tasksErr(24), func(p *pair, m *taskstypes.MsgRevealSecret) { m.TaskId = p.Half }),
		revealSecret("of a task posted without one", posterI, tasksErr(19), func(p *pair, m *taskstypes.MsgRevealSecret) { m.TaskId = p.Sealed }),
		revealSecret("of an unknown task", posterI, tasksErr(12), func(_ *pair, m *taskstypes.MsgRevealSecret) { m.TaskId = 999 }),
		{name: "abandon: a sealed claim", from: workerI, check: ok, block: tasksErr(19),
			tx: single(workerI, func(p *pair) sdk.Msg { return &taskstypes.MsgAbandonClaim{Worker: p.addr(workerI), TaskId: p.Sealed} })},
		{name: "abandon: an opened claim", from: workerI, check: ok, block: tasksErr(19),
			tx: single(workerI, func(p *pair) sdk.Msg { return &taskstypes.MsgAbandonClaim{Worker: p.addr(workerI), TaskId: p.Passed} })},
		{name: "abandon: without a claim", from: worker2I, check: ok, block: tasksErr(18),
			tx: single(worker2I, func(p *pair) sdk.Msg { return &taskstypes.MsgAbandonClaim{Worker: p.addr(worker2I), TaskId: p.Claimed} })},

		// --- x/rewards and x/bank.
		{name: "fund pool: zero", from: posterI, check: ok, block: rewErr(8),
			tx: single(posterI, func(p *pair) sdk.Msg {
				return &rewardstypes.MsgFundPool{Sender: p.addr(posterI), Amount: sdk.NewInt64Coin("uhint", 0)}
			})},
		{name: "fund pool: negative", from: posterI, check: ok, block: rewErr(8),
			tx: single(posterI, func(p *pair) sdk.Msg {
				return &rewardstypes.MsgFundPool{Sender: p.addr(posterI), Amount: sdk.Coin{Denom: "uhint", Amount: sdkmath.NewInt(-1)}}
			})},
		{name: "bank: send to the rewards custody account", from: bystanderI, check: ok, block: sdkErr(4),
			tx: single(bystanderI, func(p *pair) sdk.Msg {
				return &banktypes.MsgSend{FromAddress: p.addr(bystanderI), Amount: sdk.NewCoins(sdk.NewInt64Coin("uhint", 1)),
					ToAddress: authtypes.NewModuleAddress(rewardstypes.ModuleName).String()}
			})},
		{name: "bank: send of a negative amount", from: bystanderI, check: ok, block: sdkErr(10),
			tx: single(bystanderI, func(p *pair) sdk.Msg {
				return send(p, sdk.Coins{sdk.Coin{Denom: "uhint", Amount: sdkmath.NewInt(-9)}}, bystanderI)
			})},
		{name: "atomicity: a good send then a bad claim in one transaction", from: bystanderI, check: ok, block: tasksErr(12),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				return p.bad(bystanderI, none, send(p, sdk.NewCoins(sdk.NewInt64Coin("uhint", 123)), bystanderI),
					&taskstypes.MsgClaimTask{Worker: p.addr(bystanderI), TaskId: 999}), none
			}},

		// Last (after x/annotation's, see the end), since both chains jump
		// ahead: a task is posted, claimed and
		// sealed, and the open comes in the block at its open deadline (the
		// transcript then fails in that block's end blocker, on both chains).
		{name: "open: at the open deadline", from: workerI, check: ok, block: verErr(30),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				w := p.acc(workerI).Addr
				p.both(posterI, fixtures.PostMsg(p.acc(posterI).Addr, data))
				next, err := p.A.App.TasksKeeper.NextTaskID.Peek(p.A.Ctx())
				require.NoError(p.t, err)
				id := next - 1
				p.both(workerI, &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: id})
				run := p.train(id)
				p.both(workerI, run.Seal(w))
				deadline := p.transcript(id, workerI).OpenDeadline
				p.A.Time, p.B.Time = deadline.Add(-p.A.BlockTime), deadline.Add(-p.B.BlockTime)
				return p.bad(workerI, none, run.Open(w)), none
			}},
	}
	// x/annotation's and x/federated's cases, then those that jump ahead,
	// before the last.
	last := list[len(list)-1]
	list = append(append(append(list[:len(list)-1], annotationCases()...), federatedCases()...), annotationLateCases()...)
	return append(list, last)
}

// TestBadInput sends every bad transaction to CheckTx and then in a block:
// each is refused with its registered codespace and code, charged gas in
// proportion where its size is the problem, and leaves the state exactly as
// the twin chain's (which got nothing, or a reference message refused by its
// handler at the same fee).
func TestBadInput(t *testing.T) {
	p := newPair(t)
	all := cases()
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			p.t = t
			p.syncSequences()
			bz, opts := c.tx(p)
			chk := p.A.CheckTx(bz)
			require.Equalf(t, c.check, codeOf(chk), "CheckTx: %s", apptest.Describe(chk))
			var twin [][]byte
			if c.check == ok {
				twin = [][]byte{p.reference(c.from, opts)}
			}
			res := p.A.NextBlock(bz)
			p.B.NextBlock(twin...)
			require.Len(t, res.TxResults, 1)
			r := res.TxResults[0]
			require.Equalf(t, c.block, codeOf(r), "in a block: %s", apptest.Describe(r))
			require.NotEqual(t, ok, c.block, "a bad transaction was accepted")
			if c.minGas != nil {
				require.GreaterOrEqualf(t, uint64(r.GasUsed), c.minGas(bz), "gas charged for %d bytes", len(bz))
			}
			if !bytes.Equal(p.A.AppHash(), p.B.AppHash()) {
				t.Fatalf("the refused transaction changed the state: app hash %X, twin %X", p.A.AppHash(), p.B.AppHash())
			}
		})
	}
	t.Logf("bad-input corpus: %d transactions, each refused with a registered error in CheckTx or in a block, state unchanged", len(all))
}
