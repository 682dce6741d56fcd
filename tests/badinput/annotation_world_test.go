package badinput

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// annotationPhaseWindow is the open and gold window of the pair's chains: a
// day, so that a job that starts opening while the pair is built is still
// opening when the corpus reaches its cases (x/annotation's default is ten
// minutes, fewer blocks than the corpus has).
const annotationPhaseWindow = 24 * time.Hour

// annotationGenesis sets the pair's x/annotation windows.
func annotationGenesis(state map[string]json.RawMessage) {
	var gs map[string]any
	if err := json.Unmarshal(state[annotationtypes.ModuleName], &gs); err != nil {
		panic(err)
	}
	params := gs["params"].(map[string]any)
	params["open_window"] = annotationPhaseWindow.String()
	params["gold_window"] = annotationPhaseWindow.String()
	bz, err := json.Marshal(gs)
	if err != nil {
		panic(err)
	}
	state[annotationtypes.ModuleName] = bz
}

// annotationJobs are the pair's annotation jobs, one in every stage a
// message can find a job in (all on the 64 rows of data, 4 classes, posted
// by the poster; redundancy 1, so that no two annotators share a group,
// except Single):
//
//	Labelling  a day to label, batches of 16: the worker's batch of group
//	           Claimed is claimed, worker2's of group Sealed sealed
//	Full       batches of 32: both groups claimed (the worker, worker2)
//	Opening    past its label deadline, within its open window: the worker's
//	           batch of group Opened sealed (not opened), worker2's of group
//	           Forfeited forfeited (never sealed); its gold set not revealed
//	Single     redundancy 2, one group of 64, claimed by the worker: open,
//	           but not to the worker
type annotationJobs struct {
	Labelling, Full, Opening, Single uint64
	Claimed, Sealed                  uint32
	Opened, Forfeited                uint32
}

// goldSalt is the salt of the poster's gold commitments.
var goldSalt = func() []byte { h := sha256.Sum256([]byte("badinput-gold")); return h[:] }()

// truth is data's own label of every item.
func truth(t testing.TB) []uint32 {
	out := make([]uint32, data.Len())
	for i := range out {
		r, err := data.Row(uint64(i))
		require.NoError(t, err)
		out[i] = r.Label
	}
	return out
}

// goldSet is every 8th item with its true label: the poster's gold set.
func goldSet(t testing.TB) []annotationtypes.GoldItem {
	var g []annotationtypes.GoldItem
	tr := truth(t)
	for i := 0; i < len(tr); i += 8 {
		g = append(g, annotationtypes.GoldItem{Item: uint32(i), Label: tr[i]})
	}
	return g
}

// postJob is a valid MsgPostJob from the poster on data.
func (p *pair) postJob(redundancy, batch uint32, window time.Duration) *annotationtypes.MsgPostJob {
	return &annotationtypes.MsgPostJob{
		Requester: p.addr(posterI),
		Items: taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema()),
			Uri: "file:///data/items.hlds"},
		Kind: annotationtypes.LABEL_KIND_CLASS, Classes: 4, Redundancy: redundancy, BatchSize: batch,
		PayPerLabel: sdk.NewInt64Coin("uhint", 100), Stake: sdk.NewInt64Coin("uhint", 5_000),
		GoldDeposit: sdk.NewInt64Coin("uhint", 10_000), MinGoldAccuracyBps: 7_000,
		GoldCommitment: annotationtypes.GoldCommitment(goldSalt, goldSet(p.t)), LabelWindow: window,
	}
}

func (p *pair) job(id uint64) annotationtypes.Job {
	j, err := p.A.App.AnnotationKeeper.GetJob(p.A.Ctx(), id)
	require.NoError(p.t, err)
	return j
}

// groupOf is the group of annotator i's (only) batch of a job.
func (p *pair) groupOf(id uint64, i int) uint32 {
	var groups []uint32
	err := p.A.App.AnnotationKeeper.Batches.Walk(p.A.Ctx(), collections.NewPrefixedTripleRange[uint64, uint32, sdk.AccAddress](id),
		func(k collections.Triple[uint64, uint32, sdk.AccAddress], _ annotationtypes.Batch) (bool, error) {
			if k.K3().Equals(p.acc(i).Addr) {
				groups = append(groups, k.K2())
			}
			return false, nil
		})
	require.NoError(p.t, err)
	require.Len(p.t, groups, 1)
	return groups[0]
}

// labels are the true labels of a group of a job, in its item order.
func (p *pair) labels(id uint64, group uint32) []byte {
	j := p.job(id)
	tr := truth(p.t)
	items := annotationtypes.GroupItems(j.Seed, j.Items.Rows, j.BatchSize, group)
	out := make([]byte, len(items))
	for k, it := range items {
		out[k] = byte(tr[it])
	}
	return out
}

// labelsSalt is annotator i's salt for a group of a job.
func labelsSalt(id uint64, group uint32, i int) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32([]byte{byte(i)}, group), id))
	return h[:]
}

// seal is annotator i's seal of its true labels of a group of a job.
func (p *pair) seal(id uint64, group uint32, i int) *annotationtypes.MsgSealLabels {
	return &annotationtypes.MsgSealLabels{Annotator: p.addr(i), JobId: id, Group: group,
		Seal: annotationtypes.LabelsSeal(id, group, p.acc(i).Addr, labelsSalt(id, group, i), p.labels(id, group))}
}

// open is annotator i's opening of its seal.
func (p *pair) open(id uint64, group uint32, i int) *annotationtypes.MsgOpenLabels {
	return &annotationtypes.MsgOpenLabels{Annotator: p.addr(i), JobId: id, Group: group, Labels: p.labels(id, group),
		Salt: labelsSalt(id, group, i)}
}

// setupAnnotation builds the annotation jobs on both chains.
func (p *pair) setupAnnotation() {
	t := p.t
	next, err := p.A.App.AnnotationKeeper.NextJob.Peek(p.A.Ctx())
	require.NoError(t, err)
	a := &p.Ann
	first := max(next, 1)
	a.Labelling, a.Full, a.Opening, a.Single = first, first+1, first+2, first+3
	p.both(posterI, p.postJob(1, 16, 24*time.Hour), p.postJob(1, 32, 24*time.Hour), p.postJob(1, 16, time.Minute),
		p.postJob(2, 64, 24*time.Hour))
	for _, i := range []int{workerI, worker2I} {
		var claims []sdk.Msg
		for _, id := range []uint64{a.Labelling, a.Full, a.Opening} {
			claims = append(claims, &annotationtypes.MsgClaimBatch{Annotator: p.addr(i), JobId: id})
		}
		if i == workerI {
			claims = append(claims, &annotationtypes.MsgClaimBatch{Annotator: p.addr(i), JobId: a.Single})
		}
		p.both(i, claims...)
	}
	a.Claimed, a.Sealed = p.groupOf(a.Labelling, workerI), p.groupOf(a.Labelling, worker2I)
	a.Opened, a.Forfeited = p.groupOf(a.Opening, workerI), p.groupOf(a.Opening, worker2I)
	p.both(worker2I, p.seal(a.Labelling, a.Sealed, worker2I))
	p.both(workerI, p.seal(a.Opening, a.Opened, workerI))
	deadline := p.job(a.Opening).LabelDeadline
	for p.A.Time.Before(deadline) {
		p.emptyBlock()
	}
	require.Equal(t, annotationtypes.JOB_STATUS_OPENING, p.job(a.Opening).Status)
	require.Equal(t, annotationtypes.JOB_STATUS_LABELLING, p.job(a.Labelling).Status)
	has, err := p.A.App.AnnotationKeeper.OpenCount.Has(p.A.Ctx(), a.Full)
	require.NoError(t, err)
	require.False(t, has, "every group of Full is claimed: no open count is stored")
}
