package fuzz

import (
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// coin builds a coin as a decoded message may carry it: any denom, any
// amount, negative included (sdk.NewCoin would refuse both).
func coin(denom string, amount int64) sdk.Coin {
	return sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(amount)}
}

// widths turns bytes into hidden-layer widths (0..255 each).
func widths(b []byte) []uint32 {
	var out []uint32
	for _, x := range b {
		out = append(out, uint32(x))
	}
	return out
}

// FuzzPostTask: every field of MsgPostTask fuzzed: the spec (model,
// objective, optimiser, sizes, hyper-parameters, fixed-point bits, LoRA,
// schedule), the dataset reference (root, rows, schema, URI), reward and
// bond (denoms, negative and huge amounts), replicas, samples, detection
// probability and deadline windows.
func FuzzPostTask(f *testing.F) {
	valid := fixtures.PostMsg(poster, data)
	s, d := valid.Spec, valid.Dataset
	f.Add(uint8(0), "", uint8(s.Model), uint8(s.Objective), uint8(s.Optimizer), s.Inputs, s.Outputs, []byte{},
		s.LearningRate, s.Momentum, s.Beta1, s.Beta2, s.Epsilon, s.BatchSize, s.FracBits, s.LoraRank, s.LoraAlpha, []byte{},
		s.TotalSteps, s.SegmentSteps, d.Root, d.Rows, uint8(d.Schema.Kind), uint8(d.Schema.FeatureType), d.Schema.Features,
		d.Schema.Classes, d.Schema.FracBits, d.Uri, "uhint", int64(1_000_000), "uhint", int64(200_000),
		uint32(1), uint32(2), uint32(0), int64(time.Hour), int64(30*time.Minute))
	f.Add(uint8(0), "", uint8(2), uint8(2), uint8(2), uint32(16), uint32(4), []byte{8, 8},
		uint32(655), uint32(0), uint32(58982), uint32(65470), uint32(1), uint32(4), uint32(16), uint32(0), uint32(0), []byte{},
		uint64(12), uint64(3), d.Root, d.Rows, uint8(1), uint8(1), uint32(16), uint32(4), uint32(0), "https://x.example/d",
		"uhint", int64(5_000), "uhint", int64(1_000), uint32(2), uint32(0), uint32(9_000), int64(time.Hour), int64(time.Minute))
	f.Add(uint8(6), "hinter1junk", uint8(1), uint8(2), uint8(1), uint32(0), uint32(1<<31), []byte{0, 0, 0, 0},
		uint32(1<<31), uint32(1<<20), uint32(0), uint32(0), uint32(0), uint32(0), uint32(64), uint32(255), uint32(1<<31), []byte{1},
		uint64(1<<63), uint64(0), []byte{1, 2, 3}, uint64(0), uint8(9), uint8(9), uint32(1<<30), uint32(0), uint32(99), "ftp://x",
		"", int64(-5), "uatom", int64(0), uint32(1<<31), uint32(1<<31), uint32(10_000), int64(-1), int64(1<<62))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, model, objective, optimizer uint8, inputs, outputs uint32, hidden []byte,
		lr, momentum, beta1, beta2, eps, batch, fracBits, loraRank, loraAlpha uint32, baseHash []byte,
		total, seg uint64, root []byte, rows uint64, kind, feature uint8, features, classes, schemaFrac uint32, uri string,
		rewardDenom string, reward int64, bondDenom string, bond int64, replicas, samples, detection uint32, claimWindow, commitWindow int64,
	) {
		msg := &taskstypes.MsgPostTask{
			Poster: account(who, raw),
			Spec: taskstypes.TrainingSpec{
				Model: taskstypes.ModelKind(model), Inputs: inputs, Hidden: widths(hidden), Outputs: outputs,
				Objective: taskstypes.Objective(objective), Optimizer: taskstypes.Optimizer(optimizer), FracBits: fracBits,
				BatchSize: batch, LearningRate: lr, Momentum: momentum, Beta1: beta1, Beta2: beta2, Epsilon: eps,
				LoraRank: loraRank, LoraAlpha: loraAlpha, BaseModelHash: baseHash, TotalSteps: total, SegmentSteps: seg,
			},
			Dataset: taskstypes.DatasetRef{Root: root, Rows: rows, Uri: uri, Schema: taskstypes.RowSchema{
				Kind: taskstypes.RowKind(kind), FeatureType: taskstypes.FeatureType(feature), Features: features,
				Classes: classes, Targets: classes, FracBits: schemaFrac,
			}},
			Reward: coin(rewardDenom, reward), Bond: coin(bondDenom, bond), Replicas: replicas, Samples: samples,
			DetectionBps: detection, ClaimWindow: time.Duration(claimWindow), CommitWindow: time.Duration(commitWindow),
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.PostTask(ctx, msg); return err })
	})
}

// FuzzClaimTask: any worker (the poster, strangers, junk) on any task id,
// in every stage.
func FuzzClaimTask(f *testing.F) {
	for id := uint64(0); id <= 7; id++ {
		for who := uint8(0); who < 8; who++ {
			f.Add(who, "hinter1qqqq", id)
		}
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64) {
		msg := &taskstypes.MsgClaimTask{Worker: account(who, raw), TaskId: id}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.ClaimTask(ctx, msg); return err })
	})
}

// FuzzCancelTask: any sender on any task id, in every stage.
func FuzzCancelTask(f *testing.F) {
	for id := uint64(0); id <= 7; id++ {
		for who := uint8(0); who < 8; who++ {
			f.Add(who, "", id)
		}
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64) {
		msg := &taskstypes.MsgCancelTask{Poster: account(who, raw), TaskId: id}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.CancelTask(ctx, msg); return err })
	})
}

// chunks splits b into pieces whose lengths come from sizes (cycled); with
// no sizes it cuts 32-byte pieces.
func chunks(b, sizes []byte) [][]byte {
	var out [][]byte
	for i := 0; len(b) > 0 && len(out) < 4096; i++ {
		n := 32
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)])
		}
		n = min(n, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// FuzzSealTranscript: any worker on any task id, in every stage, with any
// seal bytes.
func FuzzSealTranscript(f *testing.F) {
	w := newWorld(f)
	valid := w.ClaimedRun.Seal(worker)
	f.Add(uint8(1), "", w.Claimed, valid.Seal)
	f.Add(uint8(1), "", w.Claimed, valid.Seal[:31])
	f.Add(uint8(1), "", w.Claimed, append(append([]byte(nil), valid.Seal...), 0))
	f.Add(uint8(1), "", w.Claimed, []byte{})
	f.Add(uint8(2), "", w.Claimed, valid.Seal)
	f.Add(uint8(1), "", w.Sealed, valid.Seal)
	f.Add(uint8(1), "", w.Open, valid.Seal)
	f.Add(uint8(6), "hinter1junk", uint64(99), valid.Seal)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, seal []byte) {
		msg := &verificationtypes.MsgSealTranscript{Worker: account(who, raw), TaskId: id, Seal: seal}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.SealTranscript(ctx, msg); return err })
	})
}

// FuzzOpenTranscript starts from the sealed task's real transcript and
// fuzzes it: checkpoints replaced (any count, any lengths) or bit-flipped,
// the final model and optimiser hashes, the URI, the salt, the engine
// failure flag, the worker and the task.
func FuzzOpenTranscript(f *testing.F) {
	w := newWorld(f)
	valid := w.SealedRun.Open(worker)
	var joined []byte
	for _, c := range valid.Checkpoints {
		joined = append(joined, c...)
	}
	f.Add(uint8(1), "", w.Sealed, false, joined, []byte{}, uint16(0), valid.Uri, valid.FinalModelHash, valid.FinalOptHash, valid.Salt, false)
	f.Add(uint8(1), "", w.Sealed, true, []byte{}, []byte{}, uint16(7), valid.Uri, valid.FinalModelHash, valid.FinalOptHash, valid.Salt, false)
	f.Add(uint8(1), "", w.Sealed, false, joined[:64], []byte{31, 33}, uint16(0), "gopher://x", []byte{1}, []byte{}, valid.Salt[:31], false)
	f.Add(uint8(1), "", w.Sealed, false, joined[:96], []byte{}, uint16(0), valid.Uri, []byte{}, []byte{}, valid.Salt, true)
	f.Add(uint8(1), "", w.Challenged, false, joined, []byte{}, uint16(0), valid.Uri, valid.FinalModelHash, valid.FinalOptHash, valid.Salt, false)
	f.Add(uint8(2), "", w.Open, false, joined, []byte{}, uint16(0), valid.Uri, valid.FinalModelHash, valid.FinalOptHash, valid.Salt, false)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, keep bool, ckpts, sizes []byte, flip uint16, uri string, mh, oh, salt []byte,
		engineFailure bool,
	) {
		msg := &verificationtypes.MsgOpenTranscript{Worker: account(who, raw), TaskId: id, Uri: uri,
			FinalModelHash: mh, FinalOptHash: oh, Salt: salt, EngineFailure: engineFailure}
		if keep {
			// The real checkpoints with one bit flipped (flip indexes the bit).
			for _, c := range valid.Checkpoints {
				msg.Checkpoints = append(msg.Checkpoints, append([]byte(nil), c...))
			}
			n := int(flip) % (len(msg.Checkpoints) * 32 * 8)
			msg.Checkpoints[n/256][n%256/8] ^= 1 << (n % 8)
		} else {
			msg.Checkpoints = chunks(ckpts, sizes)
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.OpenTranscript(ctx, msg); return err })
	})
}

// FuzzRevealSegment starts from a real reveal of a pending segment and
// fuzzes it: the segment, the start state (replaced or bit-flipped), every
// row's index, bytes and Merkle aunts (replaced, truncated, extended), the
// base model, the worker and the task.
func FuzzRevealSegment(f *testing.F) {
	w := newWorld(f)
	seg := w.Pending[0]
	valid, err := w.ChallengedRun.Reveal(worker, seg)
	must(f, err)
	f.Add(uint8(1), "", w.Challenged, seg, uint8(0), []byte{}, uint32(0), uint16(0), uint64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint8(1), "", w.Challenged, seg, uint8(1), []byte{}, uint32(77), uint16(0), uint64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint8(1), "", w.Challenged, seg, uint8(2), valid.StartState[:40], uint32(0), uint16(0), uint64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint8(1), "", w.Challenged, seg, uint8(3), []byte{}, uint32(0), uint16(3), uint64(5), []byte{9, 9}, []byte{}, []byte{})
	f.Add(uint8(1), "", w.Challenged, seg, uint8(4), []byte{}, uint32(0), uint16(1), uint64(0), []byte{}, make([]byte, 32), []byte{})
	f.Add(uint8(1), "", w.Challenged, seg, uint8(5), []byte{}, uint32(0), uint16(0), uint64(0), []byte{}, []byte{}, []byte{1, 2})
	f.Add(uint8(1), "", w.Passed, uint32(0), uint8(0), []byte{}, uint32(0), uint16(0), uint64(0), []byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, segment uint32, mode uint8, state []byte, flip uint32,
		row uint16, index uint64, rowBytes, aunts, base []byte,
	) {
		msg := &verificationtypes.MsgRevealSegment{Worker: account(who, raw), TaskId: id, Segment: segment,
			StartState: append([]byte(nil), valid.StartState...), BaseModel: base}
		for _, r := range valid.Rows {
			msg.Rows = append(msg.Rows, verificationtypes.RowProof{Index: r.Index, Row: append([]byte(nil), r.Row...),
				Aunts: append([][]byte(nil), r.Aunts...)})
		}
		i := int(row) % len(msg.Rows)
		switch mode % 8 {
		case 1: // one bit of the start state
			n := int(flip) % (len(msg.StartState) * 8)
			msg.StartState[n/8] ^= 1 << (n % 8)
		case 2: // another start state altogether
			msg.StartState = state
		case 3: // one row's index and bytes
			msg.Rows[i].Index, msg.Rows[i].Row = index, rowBytes
		case 4: // one row's aunts
			msg.Rows[i].Aunts = chunks(aunts, nil)
		case 5: // rows dropped or repeated
			if int(row)%2 == 0 {
				msg.Rows = msg.Rows[:i]
			} else {
				msg.Rows = append(msg.Rows, msg.Rows[i])
			}
		case 6: // a row appended with fuzzed fields
			msg.Rows = append(msg.Rows, verificationtypes.RowProof{Index: index, Row: rowBytes, Aunts: chunks(aunts, nil)})
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.RevealSegment(ctx, msg); return err })
	})
}

// FuzzSealChallenge: any challenger, worker, task, commitment and bond.
func FuzzSealChallenge(f *testing.F) {
	w := newWorld(f)
	valid := w.sealChallenge(challenger, w.Unverified, challengeSalt)
	bond := valid.Bond.Amount.Int64()
	for s := uint32(0); s < 5; s++ {
		c := w.sealChallenge(challenger, s, []byte{byte(s)}).Commitment
		f.Add(uint8(3), "", w.Passed, uint8(1), "", c, "uhint", bond)
	}
	f.Add(uint8(3), "", w.Passed, uint8(1), "", valid.Commitment, "uhint", bond) // already sealed
	f.Add(uint8(1), "", w.Passed, uint8(1), "", valid.Commitment, "uhint", bond)
	f.Add(uint8(3), "", w.Passed, uint8(1), "", valid.Commitment[:31], "uhint", bond)
	f.Add(uint8(3), "", w.Passed, uint8(1), "", []byte{1}, "uhint", bond-1)
	f.Add(uint8(3), "", w.Challenged, uint8(1), "", valid.Commitment, "uhint", int64(-5_000))
	f.Add(uint8(4), "", w.Passed, uint8(7), "junk", valid.Commitment, "", int64(0))
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, whom uint8, rawWorker string, commitment []byte, denom string, amount int64) {
		msg := &verificationtypes.MsgSealChallenge{Challenger: account(who, raw), TaskId: id, Worker: account(whom, rawWorker),
			Commitment: commitment, Bond: coin(denom, amount)}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.SealChallenge(ctx, msg); return err })
	})
}

// FuzzChallengeSegment: any challenger, worker, task, segment and salt,
// from the opening of the challenger's sealed challenge.
func FuzzChallengeSegment(f *testing.F) {
	w := newWorld(f)
	f.Add(uint8(3), "", w.Passed, uint8(1), "", w.Unverified, challengeSalt)
	for s := uint32(0); s < 5; s++ {
		f.Add(uint8(3), "", w.Passed, uint8(1), "", s, challengeSalt)
	}
	f.Add(uint8(1), "", w.Passed, uint8(1), "", w.Unverified, challengeSalt)
	f.Add(uint8(3), "", w.Passed, uint8(1), "", w.Unverified, challengeSalt[:31])
	f.Add(uint8(3), "", w.Challenged, uint8(1), "", uint32(1), []byte{})
	f.Add(uint8(4), "", w.Passed, uint8(7), "junk", uint32(1<<31), []byte{1})
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, whom uint8, rawWorker string, segment uint32, salt []byte) {
		msg := &verificationtypes.MsgChallengeSegment{Challenger: account(who, raw), TaskId: id, Worker: account(whom, rawWorker),
			Segment: segment, Salt: salt}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.ChallengeSegment(ctx, msg); return err })
	})
}

// FuzzRevealSecret: any sender on any task id, with any secret and next
// secret hash.
func FuzzRevealSecret(f *testing.F) {
	w := newWorld(f)
	for id := uint64(0); id <= 7; id++ {
		f.Add(uint8(0), "", id, secret, []byte{})
	}
	f.Add(uint8(0), "", w.Secret, secret, make([]byte, 32))
	f.Add(uint8(0), "", w.Secret, secret, make([]byte, 31))
	f.Add(uint8(0), "", w.Secret, secret[:31], []byte{})
	f.Add(uint8(1), "", w.Secret, secret, []byte{})
	f.Add(uint8(6), "hinter1junk", w.Secret, []byte{}, []byte{1})
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, s, next []byte) {
		msg := &taskstypes.MsgRevealSecret{Poster: account(who, raw), TaskId: id, Secret: s, NextSecretHash: next}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.RevealSecret(ctx, msg); return err })
	})
}

// FuzzAbandonClaim: any worker on any task id, in every stage.
func FuzzAbandonClaim(f *testing.F) {
	for id := uint64(0); id <= 7; id++ {
		for who := uint8(0); who < 8; who++ {
			f.Add(who, "", id)
		}
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64) {
		msg := &taskstypes.MsgAbandonClaim{Worker: account(who, raw), TaskId: id}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.AbandonClaim(ctx, msg); return err })
	})
}

// FuzzFundPool: any sender, denom and amount.
func FuzzFundPool(f *testing.F) {
	f.Add(uint8(0), "", "uhint", int64(1_000))
	f.Add(uint8(4), "", "uhint", int64(1))
	f.Add(uint8(0), "", "uhint", int64(-1))
	f.Add(uint8(0), "", "", int64(0))
	f.Add(uint8(6), "hinter1", "u!", int64(1<<62))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, denom string, amount int64) {
		msg := &rewardstypes.MsgFundPool{Sender: account(who, raw), Amount: coin(denom, amount)}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.rew.FundPool(ctx, msg); return err })
	})
}
