package types

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// DefaultGenesis is an empty market with default params.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextJobId: 1}
}

// batchStatuses are the statuses a job's batches can have in each phase of
// the job (the end blocker forfeits unsealed batches when labelling ends,
// unopened ones when opening ends, and pays the opened ones at settlement;
// a batch opens as soon as the label deadline passes, before the end
// blocker moves its job on).
var batchStatuses = map[JobStatus][]BatchStatus{
	JOB_STATUS_LABELLING:   {BATCH_STATUS_CLAIMED, BATCH_STATUS_SEALED, BATCH_STATUS_OPENED},
	JOB_STATUS_OPENING:     {BATCH_STATUS_SEALED, BATCH_STATUS_OPENED, BATCH_STATUS_FORFEITED},
	JOB_STATUS_AGGREGATING: {BATCH_STATUS_OPENED, BATCH_STATUS_SLASHED, BATCH_STATUS_FORFEITED},
	JOB_STATUS_SETTLED:     {BATCH_STATUS_PAID, BATCH_STATUS_SLASHED, BATCH_STATUS_FORFEITED},
	JOB_STATUS_CANCELLED:   {},
}

// Validate checks params, ids, addresses, statuses and the references
// between jobs, batches, annotator records, gold sets, labels and
// aggregations: what InitGenesis and the end blocker rely on, and what the
// live chain always keeps true.
func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if g.NextJobId == 0 {
		return fmt.Errorf("next_job_id must be at least 1")
	}
	jobs := make(map[uint64]Job, len(g.Jobs))
	for i, j := range g.Jobs {
		if j.Id == 0 || j.Id >= g.NextJobId {
			return fmt.Errorf("jobs[%d]: id %d must be in 1..next_job_id-1 (%d)", i, j.Id, g.NextJobId-1)
		}
		if _, dup := jobs[j.Id]; dup {
			return fmt.Errorf("jobs[%d]: duplicate id %d", i, j.Id)
		}
		if err := j.Validate(); err != nil {
			return fmt.Errorf("jobs[%d] (job %d): %w", i, j.Id, err)
		}
		jobs[j.Id] = j
	}
	records, err := g.validateAnnotators()
	if err != nil {
		return err
	}
	if err := g.validateBatches(jobs, records); err != nil {
		return err
	}
	gold := make(map[uint64]bool, len(g.Gold))
	for i, gd := range g.Gold {
		j, ok := jobs[gd.JobId]
		if !ok {
			return fmt.Errorf("gold[%d]: unknown job %d", i, gd.JobId)
		}
		if gold[gd.JobId] {
			return fmt.Errorf("gold[%d]: duplicate gold set of job %d", i, gd.JobId)
		}
		gold[gd.JobId] = true
		if !j.GoldRevealed {
			return fmt.Errorf("gold[%d]: job %d has not revealed its gold set", i, gd.JobId)
		}
		if len(gd.Gold) == 0 {
			return fmt.Errorf("gold[%d]: empty gold set of job %d", i, gd.JobId)
		}
		if err := ValidateGold(gd.Gold, j.Items.Rows, j.Classes); err != nil {
			return fmt.Errorf("gold[%d]: %w", i, err)
		}
	}
	labels := make(map[uint64]bool, len(g.Labels))
	for i, l := range g.Labels {
		j, ok := jobs[l.JobId]
		if !ok {
			return fmt.Errorf("labels[%d]: unknown job %d", i, l.JobId)
		}
		if labels[l.JobId] {
			return fmt.Errorf("labels[%d]: duplicate labels of job %d", i, l.JobId)
		}
		labels[l.JobId] = true
		if j.Status != JOB_STATUS_SETTLED {
			return fmt.Errorf("labels[%d]: job %d is %s; only a settled job has labels", i, l.JobId, j.Status)
		}
		if uint64(len(l.Data)) != j.Items.Rows {
			return fmt.Errorf("labels[%d]: %d labels for the %d items of job %d", i, len(l.Data), j.Items.Rows, l.JobId)
		}
		for item, v := range l.Data {
			if uint32(v) >= j.Classes {
				return fmt.Errorf("labels[%d]: label %d of item %d outside 0..%d", i, v, item, j.Classes-1)
			}
		}
		if h := sha256.Sum256(l.Data); !bytes.Equal(h[:], j.LabelsHash) {
			return fmt.Errorf("labels[%d]: the labels hash to %X, job %d's labels_hash is %X", i, h, l.JobId, j.LabelsHash)
		}
	}
	aggregations := make(map[uint64]bool, len(g.Aggregations))
	for i, a := range g.Aggregations {
		j, ok := jobs[a.JobId]
		if !ok {
			return fmt.Errorf("aggregations[%d]: unknown job %d", i, a.JobId)
		}
		if aggregations[a.JobId] {
			return fmt.Errorf("aggregations[%d]: duplicate aggregation of job %d", i, a.JobId)
		}
		aggregations[a.JobId] = true
		if j.Status != JOB_STATUS_AGGREGATING {
			return fmt.Errorf("aggregations[%d]: job %d is %s; only an aggregating job has an aggregation in flight", i, a.JobId, j.Status)
		}
		agg, err := annotation.DecodeAggregation(a.Data)
		if err != nil {
			return fmt.Errorf("aggregations[%d]: %w", i, err)
		}
		// Posterior is nil past the last item and has one entry per class.
		if n := j.Items.Rows; agg.Posterior(uint32(n-1)) == nil || agg.Posterior(uint32(n)) != nil || uint32(len(agg.Posterior(0))) != j.Classes {
			return fmt.Errorf("aggregations[%d]: not an aggregation of job %d's %d items and %d classes", i, a.JobId, n, j.Classes)
		}
	}
	for _, j := range g.Jobs {
		if j.GoldRevealed != gold[j.Id] {
			return fmt.Errorf("job %d: gold_revealed is %t but the genesis %s its gold set", j.Id, j.GoldRevealed, map[bool]string{true: "holds", false: "lacks"}[gold[j.Id]])
		}
		// Labels exist exactly for settled jobs with a labels hash (a job
		// with nothing to aggregate settles without labels).
		if (j.Status == JOB_STATUS_SETTLED && len(j.LabelsHash) != 0) != labels[j.Id] {
			return fmt.Errorf("job %d is %s and the genesis %s its labels: a job has labels exactly when it is settled with a labels hash", j.Id, j.Status, map[bool]string{true: "holds", false: "lacks"}[labels[j.Id]])
		}
		if (j.Status == JOB_STATUS_AGGREGATING) != aggregations[j.Id] {
			return fmt.Errorf("job %d is %s and the genesis %s an aggregation of it: a job has one exactly while it aggregates", j.Id, j.Status, map[bool]string{true: "holds", false: "lacks"}[aggregations[j.Id]])
		}
	}
	return nil
}

// Validate checks one job on its own.
func (j Job) Validate() error {
	if _, err := sdk.AccAddressFromBech32(j.Requester); err != nil {
		return fmt.Errorf("requester: %w", err)
	}
	if _, ok := batchStatuses[j.Status]; !ok {
		return fmt.Errorf("status %s is not a job status", j.Status)
	}
	if err := j.validateItems(); err != nil {
		return err
	}
	if j.Redundancy == 0 || j.BatchSize == 0 || j.Groups != Groups(j.Items.Rows, j.BatchSize) {
		return fmt.Errorf("redundancy %d, batch_size %d and groups %d do not fit %d items", j.Redundancy, j.BatchSize, j.Groups, j.Items.Rows)
	}
	if uint64(j.Claimed) > uint64(j.Groups)*uint64(j.Redundancy) {
		return fmt.Errorf("claimed %d exceeds groups (%d) x redundancy (%d)", j.Claimed, j.Groups, j.Redundancy)
	}
	if len(j.Seed) != HashLen || len(j.GoldCommitment) != HashLen {
		return fmt.Errorf("seed and gold commitment must be %d bytes", HashLen)
	}
	if err := j.PayPerLabel.Validate(); err != nil || !j.PayPerLabel.IsPositive() {
		return fmt.Errorf("pay_per_label %s must be a positive coin", j.PayPerLabel)
	}
	for _, c := range []struct {
		name string
		coin sdk.Coin
	}{{"stake", j.Stake}, {"gold_deposit", j.GoldDeposit}} {
		if err := c.coin.Validate(); err != nil || c.coin.Denom != j.PayPerLabel.Denom {
			return fmt.Errorf("%s %s must be a coin of %s", c.name, c.coin, j.PayPerLabel.Denom)
		}
	}
	if j.MinGoldAccuracyBps > 10_000 {
		return fmt.Errorf("min_gold_accuracy_bps %d must be at most 10000", j.MinGoldAccuracyBps)
	}
	if !j.LabelDeadline.Before(j.OpenDeadline) || !j.OpenDeadline.Before(j.GoldDeadline) {
		return fmt.Errorf("deadlines must satisfy label (%s) < open (%s) < gold (%s)", j.LabelDeadline, j.OpenDeadline, j.GoldDeadline)
	}
	if j.EmIterations == 0 || j.EmIterations > 100 {
		return fmt.Errorf("em_iterations %d must be in 1..100", j.EmIterations)
	}
	// (A labelling job past its label deadline, not yet moved on by the end
	// blocker, may have revealed it.)
	if j.GoldRevealed && j.Status == JOB_STATUS_CANCELLED {
		return fmt.Errorf("a %s job cannot have revealed its gold set", j.Status)
	}
	if j.Status == JOB_STATUS_CANCELLED && j.Claimed != 0 {
		return fmt.Errorf("a cancelled job has no claims (claimed %d)", j.Claimed)
	}
	// A settled job has a labels hash, or none when there was nothing to
	// aggregate (no label opened); an unsettled job has none.
	settled := j.Status == JOB_STATUS_SETTLED
	if (!settled && len(j.LabelsHash) != 0) || (settled && len(j.LabelsHash) != 0 && len(j.LabelsHash) != HashLen) {
		return fmt.Errorf("labels_hash (%d bytes) must be %d bytes (or empty) once settled and empty before", len(j.LabelsHash), HashLen)
	}
	if !settled && j.LabelsAccepted != 0 {
		return fmt.Errorf("labels_accepted %d before settlement", j.LabelsAccepted)
	}
	if j.LabelsAccepted > j.Items.Rows*uint64(j.Redundancy) {
		return fmt.Errorf("labels_accepted %d exceeds items x redundancy", j.LabelsAccepted)
	}
	if (j.Status == JOB_STATUS_LABELLING || j.Status == JOB_STATUS_OPENING) && j.AnnotatorsSlashed != 0 {
		return fmt.Errorf("annotators_slashed %d before aggregation", j.AnnotatorsSlashed)
	}
	return nil
}

// validateItems checks the items' reference and that its rows fit the label
// kind.
func (j Job) validateItems() error {
	d := j.Items
	if len(d.Root) != HashLen {
		return fmt.Errorf("items root must be %d bytes", HashLen)
	}
	if d.Rows == 0 || d.Rows > 1<<24 {
		return fmt.Errorf("items %d must be in 1..2^24", d.Rows)
	}
	if _, err := d.Schema.DatasetSchema(); err != nil {
		return fmt.Errorf("items schema: %w", err)
	}
	if j.Classes < 2 || j.Classes > 255 {
		return fmt.Errorf("classes %d must be in 2..255 (labels are bytes)", j.Classes)
	}
	switch j.Kind {
	case LABEL_KIND_CLASS:
		if d.Schema.Kind != taskstypes.ROW_KIND_CLASSIFICATION || d.Schema.Classes != j.Classes {
			return fmt.Errorf("a %d-class labelling job needs classification rows with %d classes, got %s with %d",
				j.Classes, j.Classes, d.Schema.Kind, d.Schema.Classes)
		}
	case LABEL_KIND_PREFERENCE:
		if !PreferenceRows(d.Schema.Kind) || j.Classes != 2 {
			return fmt.Errorf("a preference job needs preference or token preference rows and classes 2, got %s and %d", d.Schema.Kind, j.Classes)
		}
	default:
		return fmt.Errorf("kind %s is not a label kind", j.Kind)
	}
	return nil
}

// GroupSize is the number of items of group g of a job (the last group may
// be short).
func GroupSize(items uint64, batch, g uint32) uint64 {
	first := uint64(g) * uint64(batch)
	if first >= items {
		return 0
	}
	return min(uint64(batch), items-first)
}

// validateAnnotators checks the annotator records and returns them by
// address bytes.
func (g GenesisState) validateAnnotators() (map[string]AnnotatorRecord, error) {
	records := make(map[string]AnnotatorRecord, len(g.Annotators))
	for i, r := range g.Annotators {
		addr, err := sdk.AccAddressFromBech32(r.Address)
		if err != nil {
			return nil, fmt.Errorf("annotators[%d].address: %w", i, err)
		}
		if _, dup := records[string(addr)]; dup {
			return nil, fmt.Errorf("annotators[%d]: duplicate record of %s", i, r.Address)
		}
		records[string(addr)] = r
		switch {
		case r.GoldCorrect > r.GoldSeen:
			return nil, fmt.Errorf("annotators[%d]: gold_correct %d exceeds gold_seen %d", i, r.GoldCorrect, r.GoldSeen)
		case r.LabelsAccepted > r.LabelsOpened:
			return nil, fmt.Errorf("annotators[%d]: labels_accepted %d exceeds labels_opened %d", i, r.LabelsAccepted, r.LabelsOpened)
		case r.BatchesSlashed > r.Batches || r.BatchesForfeited > r.Batches-r.BatchesSlashed:
			return nil, fmt.Errorf("annotators[%d]: batches_slashed %d + batches_forfeited %d exceed batches %d", i, r.BatchesSlashed, r.BatchesForfeited, r.Batches)
		}
	}
	return records, nil
}

// validateBatches checks every batch against its job and its annotator's
// record, and the job's claim counts.
func (g GenesisState) validateBatches(jobs map[uint64]Job, records map[string]AnnotatorRecord) error {
	type groupKey struct {
		job   uint64
		group uint32
	}
	type batchKey struct {
		groupKey
		annotator string
	}
	seen := make(map[batchKey]bool, len(g.Batches))
	perGroup := make(map[groupKey]uint32)
	perJob := make(map[uint64]uint32)
	perAnnotator := make(map[string]uint64)
	for i, b := range g.Batches {
		j, ok := jobs[b.JobId]
		if !ok {
			return fmt.Errorf("batches[%d]: unknown job %d", i, b.JobId)
		}
		if b.Group >= j.Groups {
			return fmt.Errorf("batches[%d]: group %d of a %d-group job", i, b.Group, j.Groups)
		}
		addr, err := sdk.AccAddressFromBech32(b.Annotator)
		if err != nil {
			return fmt.Errorf("batches[%d].annotator: %w", i, err)
		}
		if requester, err := sdk.AccAddressFromBech32(j.Requester); err == nil && requester.Equals(addr) {
			return fmt.Errorf("batches[%d]: the requester of job %d annotates it", i, b.JobId)
		}
		k := batchKey{groupKey{b.JobId, b.Group}, string(addr)}
		if seen[k] {
			return fmt.Errorf("batches[%d]: duplicate batch of job %d group %d by %s", i, b.JobId, b.Group, b.Annotator)
		}
		seen[k] = true
		if perGroup[k.groupKey]++; perGroup[k.groupKey] > j.Redundancy {
			return fmt.Errorf("batches[%d]: job %d group %d has more batches than its redundancy %d", i, b.JobId, b.Group, j.Redundancy)
		}
		perJob[b.JobId]++
		perAnnotator[string(addr)]++
		if err := b.validate(j); err != nil {
			return fmt.Errorf("batches[%d] (job %d group %d): %w", i, b.JobId, b.Group, err)
		}
	}
	for _, j := range g.Jobs {
		if perJob[j.Id] != j.Claimed {
			return fmt.Errorf("job %d: claimed is %d but the genesis holds %d of its batches", j.Id, j.Claimed, perJob[j.Id])
		}
	}
	for i, r := range g.Annotators {
		addr, _ := sdk.AccAddressFromBech32(r.Address) // checked above
		if r.Batches < perAnnotator[string(addr)] {
			return fmt.Errorf("annotators[%d]: %d batches on record, %d in the genesis", i, r.Batches, perAnnotator[string(addr)])
		}
	}
	for i, b := range g.Batches {
		addr, _ := sdk.AccAddressFromBech32(b.Annotator) // checked above
		if _, ok := records[string(addr)]; !ok {
			return fmt.Errorf("batches[%d]: annotator %s has no record", i, b.Annotator)
		}
	}
	return nil
}

// validate checks a batch against its job.
func (b Batch) validate(j Job) error {
	allowed := false
	for _, s := range batchStatuses[j.Status] {
		allowed = allowed || s == b.Status
	}
	if !allowed {
		return fmt.Errorf("a %s batch in a %s job", b.Status, j.Status)
	}
	switch b.Status {
	case BATCH_STATUS_CLAIMED:
		if len(b.Seal) != 0 {
			return fmt.Errorf("a claimed batch has no seal yet")
		}
	case BATCH_STATUS_FORFEITED:
		if len(b.Seal) != 0 && len(b.Seal) != HashLen {
			return fmt.Errorf("seal must be empty or %d bytes", HashLen)
		}
	default:
		if len(b.Seal) != HashLen {
			return fmt.Errorf("seal must be %d bytes", HashLen)
		}
	}
	size := GroupSize(j.Items.Rows, j.BatchSize, b.Group)
	switch b.Status {
	case BATCH_STATUS_OPENED, BATCH_STATUS_PAID, BATCH_STATUS_SLASHED:
		if uint64(len(b.Labels)) != size {
			return fmt.Errorf("%d labels for a group of %d items", len(b.Labels), size)
		}
		for i, l := range b.Labels {
			if uint32(l) >= j.Classes {
				return fmt.Errorf("label %d of item %d outside 0..%d", l, i, j.Classes-1)
			}
		}
	default:
		if len(b.Labels) != 0 {
			return fmt.Errorf("a %s batch has no labels", b.Status)
		}
	}
	if !b.Stake.Equal(j.Stake) {
		return fmt.Errorf("stake %s is not the job's %s", b.Stake, j.Stake)
	}
	if err := b.Paid.Validate(); err != nil || b.Paid.Denom != j.PayPerLabel.Denom {
		return fmt.Errorf("paid %s must be a coin of %s", b.Paid, j.PayPerLabel.Denom)
	}
	if uint64(b.Accepted) > size || b.GoldCorrect > b.GoldSeen || uint64(b.GoldSeen) > size {
		return fmt.Errorf("accepted %d, gold_seen %d and gold_correct %d do not fit a group of %d items", b.Accepted, b.GoldSeen, b.GoldCorrect, size)
	}
	if want := j.PayPerLabel.Amount.MulRaw(int64(b.Accepted)); b.Status == BATCH_STATUS_PAID && !b.Paid.Amount.Equal(want) {
		return fmt.Errorf("paid %s for %d accepted labels at %s", b.Paid, b.Accepted, j.PayPerLabel)
	} else if b.Status != BATCH_STATUS_PAID && (!b.Paid.IsZero() || b.Accepted != 0) {
		return fmt.Errorf("a %s batch has been paid nothing and accepted nothing", b.Status)
	}
	return nil
}

// PreferenceRows reports whether items of this row kind can be labelled by a
// preference job: feature pairs (a Bradley-Terry scorer's data) or token
// pairs sharing a prompt (DPO's data). Label 0 keeps the row's first
// candidate as the chosen one, label 1 swaps the two.
func PreferenceRows(k taskstypes.RowKind) bool {
	return k == taskstypes.ROW_KIND_PREFERENCE || k == taskstypes.ROW_KIND_TOKEN_PREFERENCE
}
