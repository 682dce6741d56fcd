package fuzz

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	gogoproto "github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// hinterlandMsgs are one value of every Msg of the five modules.
func hinterlandMsgs(w *world) []sdk.Msg {
	reveal, err := w.ChallengedRun.Reveal(worker, w.Pending[0])
	if err != nil {
		panic(err)
	}
	return []sdk.Msg{
		fixtures.PostMsg(poster, data),
		&taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: 1},
		&taskstypes.MsgCancelTask{Poster: poster.String(), TaskId: 1},
		&taskstypes.MsgUpdateParams{Authority: authority, Params: taskstypes.DefaultParams()},
		&taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: w.Secret, Secret: secret, NextSecretHash: make([]byte, 32)},
		&taskstypes.MsgAbandonClaim{Worker: worker.String(), TaskId: w.Claimed},
		w.ClaimedRun.Seal(worker),
		w.SealedRun.Open(worker),
		reveal,
		w.sealChallenge(challenger, 1, challengeSalt),
		&verificationtypes.MsgChallengeSegment{Challenger: challenger.String(), TaskId: w.Passed, Worker: worker.String(),
			Segment: w.Unverified, Salt: challengeSalt},
		&verificationtypes.MsgUpdateParams{Authority: authority, Params: verificationtypes.DefaultParams()},
		&rewardstypes.MsgFundPool{Sender: poster.String(), Amount: sdk.NewInt64Coin("uhint", 1)},
		&rewardstypes.MsgUpdateParams{Authority: authority, Params: rewardstypes.DefaultParams()},
		postJob(2, 16, time.Hour),
		&annotationtypes.MsgClaimBatch{Annotator: worker.String(), JobId: w.Ann.Labelling},
		w.sealLabels(w.Ann.Labelling, w.Ann.Claimed, worker),
		w.openLabels(w.Ann.Opening, w.Ann.Opened, worker),
		&annotationtypes.MsgRevealGold{Requester: poster.String(), JobId: w.Ann.Opening, Gold: goldSet(), Salt: goldSalt},
		&annotationtypes.MsgUpdateParams{Authority: authority, Params: annotationtypes.DefaultParams()},
		fedPostMsg(3, 3, 1),
		&fedtypes.MsgJoinRound{Participant: worker.String(), JobId: 1, Shard: 2, Dataset: dataRef(ownData)},
		&fedtypes.MsgSealUpdate{Participant: worker.String(), JobId: 1, Round: 1, Seal: secret},
		&fedtypes.MsgOpenUpdate{Participant: worker.String(), JobId: 1, Round: 1, Salt: secret, Checkpoints: [][]byte{secret, secret},
			FinalModelHash: secret, FinalOptHash: secret, Uri: "http://127.0.0.1:9/federated", ReportedLoss: -1 << 40},
		&fedtypes.MsgRevealSegment{Participant: worker.String(), JobId: 1, Round: 1, Segment: 3, StartState: reveal.StartState,
			Rows: reveal.Rows, BaseModel: []byte{1}},
		&fedtypes.MsgCommitAggregate{Aggregator: worker.String(), JobId: 1, Round: 1, ModelHash: secret, HeaderAunts: [][]byte{secret},
			Uri: "http://127.0.0.1:9/aggregate"},
		&fedtypes.MsgRevealChunk{Aggregator: worker.String(), JobId: 1, Round: 1, Chunk: 2,
			Aggregate: fedtypes.ModelChunk{Values: []int32{-1 << 31, 0, 1<<31 - 1}, Aunts: [][]byte{secret}},
			Updates:   []fedtypes.ModelChunk{{Values: []int32{5, -5, 7}, Aunts: [][]byte{secret, {}}}, {}}},
		&fedtypes.MsgChallengeChunk{Challenger: challenger.String(), JobId: 1, Round: 1, Chunk: 1, Bond: sdk.NewInt64Coin("uhint", 9)},
		&fedtypes.MsgUpdateParams{Authority: authority, Params: fedtypes.DefaultParams()},
	}
}

// FuzzMsgUnmarshal decodes bytes as each Hinterland Msg: never a panic, and
// a decoded message re-encodes stably (encode, decode, encode gives the
// same bytes).
func FuzzMsgUnmarshal(f *testing.F) {
	w := newWorld(f)
	msgs := hinterlandMsgs(w)
	for i, m := range msgs {
		bz, err := gogoproto.Marshal(m)
		must(f, err)
		f.Add(uint8(i), bz)
	}
	f.Fuzz(func(t *testing.T, which uint8, bz []byte) {
		typ := reflect.TypeOf(msgs[int(which)%len(msgs)]).Elem()
		m := reflect.New(typ).Interface().(gogoproto.Message)
		if err := gogoproto.Unmarshal(bz, m); err != nil {
			return
		}
		once, err := gogoproto.Marshal(m)
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", m, err)
		}
		m2 := reflect.New(typ).Interface().(gogoproto.Message)
		if err := gogoproto.Unmarshal(once, m2); err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", m, err)
		}
		twice, err := gogoproto.Marshal(m2)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("%T does not re-encode stably", m)
		}
	})
}

// FuzzDrawSegments: the challenge draw returns min(k, n) distinct segments
// below n for any seed.
func FuzzDrawSegments(f *testing.F) {
	f.Add([]byte("seed"), uint16(4), uint32(2))
	f.Add([]byte{}, uint16(0), uint32(3))
	f.Add(bytes.Repeat([]byte{0xff}, 64), uint16(4096), uint32(64))
	f.Fuzz(func(t *testing.T, seed []byte, n16 uint16, k uint32) {
		n := uint64(n16) % 4097 // max_segments is at most 4096
		got := recompute.DrawSegments(seed, n, k)
		if uint64(len(got)) != min(uint64(k), n) {
			t.Fatalf("drew %d of %d segments, asked %d", len(got), n, k)
		}
		seen := map[uint32]bool{}
		for _, s := range got {
			if uint64(s) >= n || seen[s] {
				t.Fatalf("segment %d out of range or repeated (n %d)", s, n)
			}
			seen[s] = true
		}
	})
}

// FuzzDeriveSamples: deriving k from a detection probability terminates for
// every input, gives k >= 1, and never fewer samples for a higher target.
func FuzzDeriveSamples(f *testing.F) {
	f.Add(uint32(9_000), uint32(1_000))
	f.Add(uint32(9_999), uint32(1))
	f.Add(uint32(1), uint32(9_999))
	f.Add(uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, detection, forged uint32) {
		k, err := taskstypes.DeriveSamples(detection, forged)
		if err != nil {
			return
		}
		if k < 1 {
			t.Fatalf("k = %d", k)
		}
		if detection < 9_999 {
			if k2, err := taskstypes.DeriveSamples(detection+1, forged); err == nil && k2 < k {
				t.Fatalf("detection %d needs %d samples but %d needs %d", detection, k, detection+1, k2)
			}
		}
	})
}
