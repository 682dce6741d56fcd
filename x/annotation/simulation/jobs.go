package simulation

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskssim "github.com/hinterland-ai/hinterland/x/tasks/simulation"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The simulation labels small synthetic datasets that every simulated
// annotator and requester holds: x/tasks's classification datasets (32, 48
// and 64 rows of 4 classes) and a 40-row preference dataset. Every actor's
// behaviour is a pure function of the chain's state and its address, so that
// a factory reproduces what another factory committed to (the labels behind a
// seal, the gold set behind a commitment) without state outside the chain.
const (
	// MaxJobItems bounds the items of a simulated job.
	MaxJobItems = 64
	// MaxJobClasses is the largest label space of a simulated job.
	MaxJobClasses = 4
	// MinJobGold and MaxJobGold bound a simulated gold set.
	MinJobGold = 6
	MaxJobGold = 16
)

var (
	preferenceOnce sync.Once
	preference     *dataset.File
)

// PreferenceDataset is the preference dataset jobs of LABEL_KIND_PREFERENCE
// are posted on: 40 pairs of 8 uint8 features. Deterministic.
func PreferenceDataset() *dataset.File {
	preferenceOnce.Do(func() {
		schema := dataset.Schema{Kind: dataset.KindPreference, Feature: dataset.FeatureUint8, Features: 8}
		rows := make([][]byte, 40)
		x := uint32(424242)
		next := func() int32 { x = x*1664525 + 1013904223; return int32(x >> 24) }
		for i := range rows {
			a, b := make([]int32, 8), make([]int32, 8)
			for j := range a {
				a[j], b[j] = next(), next()
			}
			bz, err := dataset.EncodeRow(schema, dataset.Row{Features: a, Rejected: b})
			if err != nil {
				panic(err)
			}
			rows[i] = bz
		}
		f, err := dataset.NewFile(schema, rows)
		if err != nil {
			panic(err)
		}
		preference = f
	})
	return preference
}

// Datasets are the datasets of each label kind.
func Datasets(kind types.LabelKind) []*dataset.File {
	if kind == types.LABEL_KIND_PREFERENCE {
		return []*dataset.File{PreferenceDataset()}
	}
	return taskssim.Datasets()
}

// DatasetOf returns the simulation dataset a job's items reference, or nil
// if the job was not posted by the simulation.
func DatasetOf(ref taskstypes.DatasetRef) *dataset.File {
	for _, kind := range []types.LabelKind{types.LABEL_KIND_CLASS, types.LABEL_KIND_PREFERENCE} {
		for _, d := range Datasets(kind) {
			if d.Len() == ref.Rows && bytes.Equal(d.Root(), ref.Root) {
				return d
			}
		}
	}
	return nil
}

// Ref is the reference a job posts for d.
func Ref(d *dataset.File) taskstypes.DatasetRef {
	return taskstypes.DatasetRef{
		Root: d.Root(), Rows: d.Len(), Schema: taskstypes.FromDatasetSchema(d.Schema()),
		Uri: fmt.Sprintf("file:///sim/annotation-%d-%d.hlds", d.Schema().Kind, d.Len()),
	}
}

// Truth is every item's true label: a classification row's own label; for
// a preference pair, 0 (the first candidate) when its features sum to at
// least the second's, else 1.
func Truth(d *dataset.File) ([]uint32, error) {
	out := make([]uint32, d.Len())
	for i := range out {
		r, err := d.Row(uint64(i))
		if err != nil {
			return nil, err
		}
		if d.Schema().Kind != dataset.KindPreference {
			out[i] = r.Label
			continue
		}
		var a, b int32
		for j := range r.Features {
			a, b = a+r.Features[j], b+r.Rejected[j]
		}
		if a < b {
			out[i] = 1
		}
	}
	return out, nil
}

func hashOf(parts ...[]byte) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(p)))
		h.Write(l[:])
		h.Write(p)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// GoldSet is the gold set a simulated requester keeps for a dataset: 6 to 16
// evenly spaced items (a function of the requester and the dataset) with
// their true labels, sorted by item.
func GoldSet(requester []byte, d *dataset.File) ([]types.GoldItem, error) {
	truth, err := Truth(d)
	if err != nil {
		return nil, err
	}
	h := hashOf([]byte("hinterland/sim/gold/v1"), requester, d.Root())
	rows := uint32(len(truth))
	n := min(uint32(MinJobGold)+uint32(h[0])%(MaxJobGold-MinJobGold+1), rows)
	step := rows / n
	offset := uint32(h[1]) % step
	gold := make([]types.GoldItem, n)
	for j := range gold {
		item := offset + uint32(j)*step
		gold[j] = types.GoldItem{Item: item, Label: truth[item]}
	}
	return gold, nil
}

// GoldSalt is the salt of a simulated requester's gold commitment.
func GoldSalt(requester []byte, d *dataset.File) []byte {
	h := hashOf([]byte("hinterland/sim/gold-salt/v1"), requester, d.Root())
	return h[:]
}

// Withholds reports whether a simulated requester never reveals the gold set
// of a job (about one job in six): its deposit is burned and the job settles
// on agreement alone.
func Withholds(requester []byte, jobID uint64) bool {
	h := hashOf([]byte("hinterland/sim/withhold/v1"), requester, u64(jobID))
	return h[0]%6 == 0
}

// Behaviour is how a simulated annotator labels a job's items.
type Behaviour int

// Annotators by behaviour: 70% honest (5% of labels wrong), 15% noisy (40%
// wrong), 10% spammers (always 0: slashed once they have seen enough gold)
// and 5% that answer at random.
const (
	Honest Behaviour = iota
	Noisy
	Spammer
	Random
)

func (b Behaviour) String() string {
	return [...]string{"honest", "noisy", "spammer", "random"}[b]
}

// Annotator is a simulated annotator's conduct on a job: a pure function of
// the job's seed and the annotator's address.
type Annotator struct {
	Behaviour Behaviour
	// Lazy annotators claim but never seal (the batch is forfeited at the
	// label deadline); Silent ones seal but never open (forfeited at the
	// open deadline). About one in twenty each.
	Lazy, Silent bool
	key          [32]byte
}

// AnnotatorOf returns an annotator's conduct on the job with the given seed.
func AnnotatorOf(seed, annotator []byte) Annotator {
	h := hashOf([]byte("hinterland/sim/annotator/v1"), seed, annotator)
	a := Annotator{Lazy: h[1]%20 == 0, Silent: h[2]%20 == 0, key: h}
	switch v := h[0] % 20; {
	case v < 14:
		a.Behaviour = Honest
	case v < 17:
		a.Behaviour = Noisy
	case v < 19:
		a.Behaviour = Spammer
	default:
		a.Behaviour = Random
	}
	return a
}

// Label is the annotator's label of an item whose true label is truth.
func (a Annotator) Label(item, truth, classes uint32) byte {
	h := hashOf(a.key[:], binary.BigEndian.AppendUint32(nil, item))
	wrong := uint32(binary.BigEndian.Uint16(h[:2])) % 100
	other := byte((truth + 1 + uint32(h[2])%(classes-1)) % classes)
	switch a.Behaviour {
	case Honest:
		if wrong < 5 {
			return other
		}
	case Noisy:
		if wrong < 40 {
			return other
		}
	case Spammer:
		return 0
	case Random:
		return byte(uint32(h[3]) % classes)
	}
	return byte(truth)
}

// Labels are the annotator's labels of a group of a job, in the group's item
// order.
func Labels(job types.Job, group uint32, annotator []byte) ([]byte, error) {
	d := DatasetOf(job.Items)
	if d == nil {
		return nil, fmt.Errorf("job %d does not use a simulation dataset", job.Id)
	}
	truth, err := Truth(d)
	if err != nil {
		return nil, err
	}
	a := AnnotatorOf(job.Seed, annotator)
	items := types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, group)
	out := make([]byte, len(items))
	for i, it := range items {
		out[i] = a.Label(it, truth[it], job.Classes)
	}
	return out, nil
}

// LabelsSalt is the salt a simulated annotator seals a batch with.
func LabelsSalt(jobID uint64, group uint32, annotator []byte) []byte {
	h := hashOf([]byte("hinterland/sim/labels-salt/v1"), u64(jobID), binary.BigEndian.AppendUint32(nil, group), annotator)
	return h[:]
}
