package annotator

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// SaltLen is the length of a seal's salt.
const SaltLen = 32

// Errors the HTTP API maps to status codes (400, 404, 409); anything else is
// the chain's or the disk's (500).
var (
	ErrBadInput   = errors.New("bad input")
	ErrNotFound   = errors.New("not found")
	ErrWrongPhase = errors.New("wrong phase")
)

// Annotator is one annotator's side of x/annotation: it lists open jobs,
// claims batches, seals the labels a person gives (salt and labels on disk
// first), opens them once the label deadline has passed, and reports what
// each batch earned.
type Annotator struct {
	chain Chain
	store *Store
	items *Items
	log   *slog.Logger

	sealMu sync.Mutex // one seal at a time: a seal reads, then extends, a record

	mu    sync.Mutex
	notes map[[2]uint64]string // (job, group) -> the open loop's last problem; looked up by key only
}

// New returns an annotator keeping its batches in workDir/batches and
// downloaded item sets in workDir/datasets.
func New(chain Chain, workDir string, log *slog.Logger) (*Annotator, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	store, err := OpenStore(workDir)
	if err != nil {
		return nil, err
	}
	return &Annotator{chain: chain, store: store, items: NewItems(filepath.Join(workDir, "datasets")), log: log,
		notes: make(map[[2]uint64]string)}, nil
}

// Address is the annotator's address.
func (a *Annotator) Address() string { return a.chain.Address().String() }

// kindName is how the API names a label kind.
func kindName(k types.LabelKind) string {
	if k == types.LABEL_KIND_PREFERENCE {
		return "preference"
	}
	return "class"
}

// short names a status without its enum prefix, in lower case.
func short(s fmt.Stringer) string {
	n := s.String()
	if i := strings.Index(n, "_STATUS_"); i >= 0 {
		n = n[i+len("_STATUS_"):]
	}
	return strings.ToLower(n)
}

// JobView is an open job as the page lists it.
type JobView struct {
	ID            uint64    `json:"id"`
	Kind          string    `json:"kind"` // class or preference
	Classes       uint32    `json:"classes"`
	Items         uint64    `json:"items"`
	BatchSize     uint32    `json:"batch_size"`
	Redundancy    uint32    `json:"redundancy"`
	BatchesLeft   uint32    `json:"batches_left"`
	PayPerLabel   string    `json:"pay_per_label"`
	Stake         string    `json:"stake"`
	LabelDeadline time.Time `json:"label_deadline"`
	OpenDeadline  time.Time `json:"open_deadline"`
	// Own: the annotator posted it, so it cannot claim a batch of it.
	Own bool `json:"own"`
}

// Jobs lists the jobs taking labels, oldest first.
func (a *Annotator) Jobs(ctx context.Context) ([]JobView, error) {
	jobs, err := a.chain.OpenJobs(ctx)
	if err != nil {
		return nil, err
	}
	me := a.chain.Address()
	out := make([]JobView, 0, len(jobs))
	for _, j := range jobs {
		requester, _ := sdk.AccAddressFromBech32(j.Requester)
		out = append(out, JobView{ID: j.Id, Kind: kindName(j.Kind), Classes: j.Classes, Items: j.Items.Rows,
			BatchSize: j.BatchSize, Redundancy: j.Redundancy, BatchesLeft: j.Groups*j.Redundancy - min(j.Claimed, j.Groups*j.Redundancy),
			PayPerLabel: j.PayPerLabel.String(), Stake: j.Stake.String(), LabelDeadline: j.LabelDeadline,
			OpenDeadline: j.OpenDeadline, Own: requester.Equals(me)})
	}
	slices.SortFunc(out, func(x, y JobView) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// Claim claims a batch of a job (the chain draws the group) and records it.
func (a *Annotator) Claim(ctx context.Context, jobID uint64) (Record, error) {
	job, err := a.chain.Job(ctx, jobID)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if job.Status != types.JOB_STATUS_LABELLING {
		return Record{}, fmt.Errorf("%w: job %d is %s, it takes no claims", ErrWrongPhase, jobID, short(job.Status))
	}
	group, tx, err := a.chain.Claim(ctx, jobID)
	if err != nil {
		return Record{}, err
	}
	items, err := a.chain.GroupItems(ctx, jobID, group)
	if err != nil {
		return Record{}, fmt.Errorf("claimed job %d group %d (tx %s) but cannot list its items: %w; a restart recovers it", jobID, group, tx, err)
	}
	r := Record{Job: jobID, Group: group, Items: items, ClaimTx: tx, Claimed: time.Now().UTC()}
	if err := a.store.Put(r); err != nil {
		return Record{}, fmt.Errorf("claimed job %d group %d (tx %s) but cannot record it: %w; a restart recovers it", jobID, group, tx, err)
	}
	a.log.Info("batch claimed", "job", jobID, "group", group, "items", len(items), "tx", tx)
	return r, nil
}

// Recover records the annotator's claimed batches of open jobs that are not
// on disk (a crash between a claim landing and its record being written).
func (a *Annotator) Recover(ctx context.Context) error {
	jobs, err := a.chain.OpenJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		bs, err := a.chain.Batches(ctx, j.Id)
		if err != nil {
			return err
		}
		for _, b := range bs {
			_, ok, err := a.store.Get(j.Id, b.Group)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
			if b.Status != types.BATCH_STATUS_CLAIMED {
				a.log.Error("a batch sealed on chain has no record here: it cannot be opened", "job", j.Id, "group", b.Group)
				continue
			}
			items, err := a.chain.GroupItems(ctx, j.Id, b.Group)
			if err != nil {
				return err
			}
			if err := a.store.Put(Record{Job: j.Id, Group: b.Group, Items: items, Claimed: b.ClaimedAt}); err != nil {
				return err
			}
			a.log.Info("recovered a claimed batch from the chain", "job", j.Id, "group", b.Group)
		}
	}
	return nil
}

// SideView is one thing to look at: an image (a URL of a PNG the server
// renders) or numbers.
type SideView struct {
	Image  string   `json:"image,omitempty"`
	Values []string `json:"values,omitempty"`
	// Text is a response of a token preference row (after the shared prompt).
	Text string `json:"text,omitempty"`
}

// ItemView is one item of a batch: one side for a class job, two (A, B)
// for a preference job. The row's own label, if any, is never shown.
type ItemView struct {
	Item  uint32     `json:"item"`
	Sides []SideView `json:"sides"`
	// Prompt is the shared prompt of a token preference row.
	Prompt string `json:"prompt,omitempty"`
}

// BatchItems is a batch to label.
type BatchItems struct {
	Job           uint64     `json:"job"`
	Group         uint32     `json:"group"`
	Kind          string     `json:"kind"`
	Classes       uint32     `json:"classes"`
	LabelDeadline time.Time  `json:"label_deadline"`
	Items         []ItemView `json:"items"`
	// Labels of the last seal prepared for the batch, if one failed.
	Labels []uint32 `json:"labels,omitempty"`
}

// Current returns the oldest batch still to be sealed whose job still takes
// labels, or nil.
func (a *Annotator) Current(ctx context.Context) (*BatchItems, error) {
	recs, err := a.store.List()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Done || slices.ContainsFunc(r.Seals, func(s Sealed) bool { return s.Tx != "" }) {
			continue
		}
		job, err := a.chain.Job(ctx, r.Job)
		if err != nil {
			return nil, err
		}
		if job.Status != types.JOB_STATUS_LABELLING || !time.Now().Before(job.LabelDeadline) {
			continue
		}
		return a.batchItems(ctx, job, r)
	}
	return nil, nil
}

func (a *Annotator) batchItems(ctx context.Context, job types.Job, r Record) (*BatchItems, error) {
	b := &BatchItems{Job: r.Job, Group: r.Group, Kind: kindName(job.Kind), Classes: job.Classes, LabelDeadline: job.LabelDeadline}
	for _, it := range r.Items {
		row, err := a.items.Row(ctx, job, it)
		if err != nil {
			return nil, err
		}
		schema, err := job.Items.Schema.DatasetSchema()
		if err != nil {
			return nil, err
		}
		v := ItemView{Item: it}
		if schema.Kind == dataset.KindTokenPreference {
			// Two continuations of one prompt: shown as text.
			p := row.PromptLen
			v.Prompt = string(row.Tokens[:p])
			v.Sides = []SideView{{Text: responseText(row.Tokens[p:])}, {Text: responseText(row.RejectedTokens[p:])}}
			b.Items = append(b.Items, v)
			continue
		}
		for side, f := range sides(job.Kind, row) {
			if isImage(schema) {
				v.Sides = append(v.Sides, SideView{Image: fmt.Sprintf("/api/image?job=%d&item=%d&side=%d", r.Job, it, side)})
			} else {
				v.Sides = append(v.Sides, SideView{Values: values(schema, f)})
			}
		}
		b.Items = append(b.Items, v)
	}
	if n := len(r.Seals); n > 0 {
		for _, l := range r.Seals[n-1].Labels {
			b.Labels = append(b.Labels, uint32(l))
		}
	}
	return b, nil
}

// Image renders one side of an item of a batch on disk as a PNG.
func (a *Annotator) Image(ctx context.Context, jobID uint64, item uint32, side int) ([]byte, error) {
	recs, err := a.store.List()
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(recs, func(r Record) bool { return r.Job == jobID && slices.Contains(r.Items, item) }) {
		return nil, fmt.Errorf("%w: item %d is in none of your batches of job %d", ErrNotFound, item, jobID)
	}
	job, err := a.chain.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	row, err := a.items.Row(ctx, job, item)
	if err != nil {
		return nil, err
	}
	s := sides(job.Kind, row)
	if side < 0 || side >= len(s) {
		return nil, fmt.Errorf("%w: side %d of a %s item", ErrBadInput, side, kindName(job.Kind))
	}
	return renderPNG(s[side])
}

// Sealing is a seal sent (or found on chain).
type Sealing struct {
	Job   uint64 `json:"job"`
	Group uint32 `json:"group"`
	Seal  string `json:"seal"` // hex
	Tx    string `json:"tx"`
}

// Seal seals the labels a person gave to a batch: items must be the batch's
// items in its order (the page echoes them, so a label never lands on
// another item) and labels one per item in the job's label space. A fresh
// 32-byte salt and the labels are written to disk before the seal is sent.
func (a *Annotator) Seal(ctx context.Context, jobID uint64, group uint32, items, labels []uint32) (Sealing, error) {
	a.sealMu.Lock()
	defer a.sealMu.Unlock()
	r, ok, err := a.store.Get(jobID, group)
	if err != nil {
		return Sealing{}, err
	}
	if !ok {
		return Sealing{}, fmt.Errorf("%w: no batch of job %d group %d was claimed here", ErrNotFound, jobID, group)
	}
	if !slices.Equal(items, r.Items) {
		return Sealing{}, fmt.Errorf("%w: the labelled items %v are not the batch's items %v", ErrBadInput, items, r.Items)
	}
	if len(labels) != len(r.Items) {
		return Sealing{}, fmt.Errorf("%w: %d labels for %d items", ErrBadInput, len(labels), len(r.Items))
	}
	job, err := a.chain.Job(ctx, jobID)
	if err != nil {
		return Sealing{}, err
	}
	lb := make([]byte, len(labels))
	for i, l := range labels {
		if l >= job.Classes {
			return Sealing{}, fmt.Errorf("%w: label %d of item %d is outside 0..%d", ErrBadInput, l, r.Items[i], job.Classes-1)
		}
		lb[i] = byte(l)
	}
	if job.Status != types.JOB_STATUS_LABELLING {
		return Sealing{}, fmt.Errorf("%w: job %d is %s; labels were due by %s", ErrWrongPhase, jobID, short(job.Status), job.LabelDeadline.Format(time.RFC3339))
	}
	b, err := a.batch(ctx, jobID, group)
	if err != nil {
		return Sealing{}, err
	}
	switch {
	case b == nil:
		return Sealing{}, fmt.Errorf("%w: job %d group %d has no batch of yours on chain", ErrNotFound, jobID, group)
	case b.Status == types.BATCH_STATUS_SEALED:
		// An earlier seal landed though its sender saw an error.
		s := r.matching(b.Seal)
		switch {
		case s == nil:
			return Sealing{}, fmt.Errorf("%w: job %d group %d is sealed on chain with a seal none of the stored salts makes", ErrWrongPhase, jobID, group)
		case !bytes.Equal(s.Labels, lb):
			return Sealing{}, fmt.Errorf("%w: job %d group %d is already sealed, with the labels %v sent earlier", ErrWrongPhase, jobID, group, s.Labels)
		}
		return Sealing{Job: jobID, Group: group, Seal: fmt.Sprintf("%X", s.Seal), Tx: s.Tx}, nil
	case b.Status != types.BATCH_STATUS_CLAIMED:
		return Sealing{}, fmt.Errorf("%w: batch is %s", ErrWrongPhase, short(b.Status))
	}
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return Sealing{}, err
	}
	s := Sealed{Labels: lb, Salt: salt, Seal: types.LabelsSeal(jobID, group, a.chain.Address(), salt, lb)}
	if _, err := a.store.Update(jobID, group, func(r *Record) error {
		r.Seals = append(r.Seals, s)
		return nil
	}); err != nil {
		return Sealing{}, fmt.Errorf("cannot store the salt, so nothing was sent: %w", err)
	}
	tx, err := a.chain.Seal(ctx, jobID, group, s.Seal)
	if err != nil {
		return Sealing{}, err
	}
	if _, err := a.store.Update(jobID, group, func(r *Record) error {
		r.Seals[len(r.Seals)-1].Tx = tx
		return nil
	}); err != nil {
		a.log.Warn("sealed, but cannot record the seal's tx", "job", jobID, "group", group, "err", err)
	}
	a.log.Info("labels sealed", "job", jobID, "group", group, "labels", len(lb), "tx", tx)
	return Sealing{Job: jobID, Group: group, Seal: fmt.Sprintf("%X", s.Seal), Tx: tx}, nil
}

// batch returns the annotator's batch of a group on chain, or nil.
func (a *Annotator) batch(ctx context.Context, jobID uint64, group uint32) (*types.Batch, error) {
	bs, err := a.chain.Batches(ctx, jobID)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		if bs[i].Group == group {
			return &bs[i], nil
		}
	}
	return nil, nil
}

// Run opens sealed batches every interval until ctx ends (see OpenDue).
func (a *Annotator) Run(ctx context.Context, interval time.Duration) {
	if err := a.Recover(ctx); err != nil {
		a.log.Warn("cannot look for claimed batches on chain", "err", err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.OpenDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// OpenDue opens every sealed batch on disk whose job is in
// JOB_STATUS_OPENING with the labels and salt of the seal on chain, and
// marks done the batches with nothing left to send. A failure is noted (the
// page shows it) and retried on the next call.
func (a *Annotator) OpenDue(ctx context.Context) {
	recs, err := a.store.List()
	if err != nil {
		a.log.Error("cannot read the batches on disk", "err", err)
		return
	}
	for _, r := range recs {
		if r.Done || ctx.Err() != nil {
			continue
		}
		if err := a.openOne(ctx, r); err != nil {
			a.note(r, err.Error())
			a.log.Warn("cannot open a batch yet; will retry", "job", r.Job, "group", r.Group, "err", err)
		}
	}
}

func (a *Annotator) openOne(ctx context.Context, r Record) error {
	job, err := a.chain.Job(ctx, r.Job)
	if err != nil {
		return err
	}
	switch job.Status {
	case types.JOB_STATUS_LABELLING:
		return nil
	case types.JOB_STATUS_OPENING:
	default: // past opening: nothing left to send
		return a.done(r, "")
	}
	if len(r.Seals) == 0 {
		return a.done(r, "") // never sealed: forfeited at the label deadline
	}
	b, err := a.batch(ctx, r.Job, r.Group)
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("job %d group %d: no batch of yours on chain", r.Job, r.Group)
	}
	if b.Status != types.BATCH_STATUS_SEALED {
		return a.done(r, "") // opened already, or forfeited
	}
	s := r.matching(b.Seal)
	if s == nil {
		a.log.Error("no stored labels and salt make the batch's seal: it cannot be opened", "job", r.Job, "group", r.Group)
		a.note(r, "no stored labels and salt make the seal on chain: it cannot be opened")
		return a.done(r, "")
	}
	tx, err := a.chain.Open(ctx, r.Job, r.Group, s.Labels, s.Salt)
	if err != nil {
		return err
	}
	a.log.Info("labels opened", "job", r.Job, "group", r.Group, "labels", len(s.Labels), "tx", tx)
	a.note(r, "")
	return a.done(r, tx)
}

func (a *Annotator) done(r Record, openTx string) error {
	_, err := a.store.Update(r.Job, r.Group, func(r *Record) error {
		r.Done = true
		if openTx != "" {
			r.OpenTx = openTx
		}
		return nil
	})
	return err
}

func (a *Annotator) note(r Record, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if text == "" {
		delete(a.notes, [2]uint64{r.Job, uint64(r.Group)})
	} else {
		a.notes[[2]uint64{r.Job, uint64(r.Group)}] = text
	}
}

// BatchView is one of the annotator's batches and what it earned.
type BatchView struct {
	Job           uint64    `json:"job"`
	Group         uint32    `json:"group"`
	Kind          string    `json:"kind"`
	Items         int       `json:"items"`
	Status        string    `json:"status"`     // the batch on chain: claimed, sealed, opened, paid, slashed, forfeited
	JobStatus     string    `json:"job_status"` // labelling, opening, aggregating, settled, cancelled
	LabelDeadline time.Time `json:"label_deadline"`
	OpenDeadline  time.Time `json:"open_deadline"`
	Stake         string    `json:"stake"`
	GoldSeen      uint32    `json:"gold_seen"`
	GoldCorrect   uint32    `json:"gold_correct"`
	Accepted      uint32    `json:"accepted"`
	Paid          string    `json:"paid"`
	Note          string    `json:"note,omitempty"`
}

// Status is the annotator's record and batches.
type Status struct {
	Address string                `json:"address"`
	Record  types.AnnotatorRecord `json:"record"`
	Batches []BatchView           `json:"batches"`
	// Earned is the pay of the batches listed.
	Earned string `json:"earned"`
}

// Status reads the annotator's record and every batch on disk from the chain.
func (a *Annotator) Status(ctx context.Context) (Status, error) {
	rec, err := a.chain.Record(ctx)
	if err != nil {
		return Status{}, err
	}
	recs, err := a.store.List()
	if err != nil {
		return Status{}, err
	}
	st := Status{Address: a.Address(), Record: rec, Batches: []BatchView{}}
	earned := sdk.NewCoins()
	var job types.Job
	var onChain []types.Batch
	for _, r := range recs {
		if job.Id != r.Job { // records come by job
			if job, err = a.chain.Job(ctx, r.Job); err != nil {
				return Status{}, err
			}
			if onChain, err = a.chain.Batches(ctx, r.Job); err != nil {
				return Status{}, err
			}
		}
		v := BatchView{Job: r.Job, Group: r.Group, Kind: kindName(job.Kind), Items: len(r.Items), Status: "not on chain",
			JobStatus: short(job.Status), LabelDeadline: job.LabelDeadline, OpenDeadline: job.OpenDeadline, Stake: job.Stake.String()}
		for _, b := range onChain {
			if b.Group == r.Group {
				v.Status, v.GoldSeen, v.GoldCorrect, v.Accepted = short(b.Status), b.GoldSeen, b.GoldCorrect, b.Accepted
				if !b.Paid.Amount.IsNil() && b.Paid.Validate() == nil {
					v.Paid = b.Paid.String()
					earned = earned.Add(b.Paid)
				}
			}
		}
		a.mu.Lock()
		v.Note = a.notes[[2]uint64{r.Job, uint64(r.Group)}]
		a.mu.Unlock()
		st.Batches = append(st.Batches, v)
	}
	st.Earned = earned.String()
	return st, nil
}

// responseText is a response of a token row without its padding (the 0x00
// end-of-document bytes dataset.PackText and align.Pairs fill rows with).
func responseText(b []byte) string {
	return string(bytes.TrimRight(b, "\x00"))
}
