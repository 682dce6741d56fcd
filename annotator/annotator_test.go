package annotator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// fakeChain is x/annotation for one annotator, in memory: claims draw the
// next group, seals and openings are checked as the chain checks them.
type fakeChain struct {
	mu      sync.Mutex
	me      sdk.AccAddress
	jobs    map[uint64]*types.Job
	batches map[[2]uint64]*types.Batch // (job, group): the annotator's
	record  types.AnnotatorRecord
	// sealLands makes Seal apply the seal and still fail (a lost reply).
	sealLands bool
	opens     int
}

func newFakeChain() *fakeChain {
	return &fakeChain{me: sdk.AccAddress(bytes.Repeat([]byte{7}, 20)), jobs: map[uint64]*types.Job{},
		batches: map[[2]uint64]*types.Batch{}}
}

func (f *fakeChain) Address() sdk.AccAddress { return f.me }

func (f *fakeChain) OpenJobs(context.Context) ([]types.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []types.Job
	for id := uint64(1); f.jobs[id] != nil; id++ {
		if f.jobs[id].Status == types.JOB_STATUS_LABELLING {
			out = append(out, *f.jobs[id])
		}
	}
	return out, nil
}

func (f *fakeChain) Job(_ context.Context, id uint64) (types.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[id]
	if j == nil {
		return types.Job{}, fmt.Errorf("job %d: %w", id, types.ErrJobNotFound)
	}
	return *j, nil
}

func (f *fakeChain) Batches(_ context.Context, jobID uint64) ([]types.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []types.Batch
	for g := uint32(0); g < 64; g++ {
		if b := f.batches[[2]uint64{jobID, uint64(g)}]; b != nil {
			out = append(out, *b)
		}
	}
	return out, nil
}

func (f *fakeChain) GroupItems(_ context.Context, jobID uint64, group uint32) ([]uint32, error) {
	j, err := f.Job(context.Background(), jobID)
	if err != nil {
		return nil, err
	}
	return types.GroupItems(j.Seed, j.Items.Rows, j.BatchSize, group), nil
}

func (f *fakeChain) Record(context.Context) (types.AnnotatorRecord, error) { return f.record, nil }

func (f *fakeChain) Claim(_ context.Context, jobID uint64) (uint32, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[jobID]
	if j == nil || j.Status != types.JOB_STATUS_LABELLING {
		return 0, "", types.ErrWrongPhase
	}
	g := j.Claimed
	j.Claimed++
	f.batches[[2]uint64{jobID, uint64(g)}] = &types.Batch{JobId: jobID, Group: g, Annotator: f.me.String(),
		Status: types.BATCH_STATUS_CLAIMED, Stake: j.Stake, Paid: sdk.NewInt64Coin("uhint", 0)}
	return g, fmt.Sprintf("CLAIM%d", g), nil
}

func (f *fakeChain) Seal(_ context.Context, jobID uint64, group uint32, seal []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.batches[[2]uint64{jobID, uint64(group)}]
	if b == nil || b.Status != types.BATCH_STATUS_CLAIMED || len(seal) != types.HashLen {
		return "", types.ErrAlreadySealed
	}
	b.Seal, b.Status = seal, types.BATCH_STATUS_SEALED
	if f.sealLands {
		return "", errors.New("wait: tx not in a block after 60s")
	}
	return "SEALTX", nil
}

func (f *fakeChain) Open(_ context.Context, jobID uint64, group uint32, labels, salt []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	b := f.batches[[2]uint64{jobID, uint64(group)}]
	if f.jobs[jobID].Status != types.JOB_STATUS_OPENING || b == nil || b.Status != types.BATCH_STATUS_SEALED {
		return "", types.ErrWrongPhase
	}
	if !bytes.Equal(types.LabelsSeal(jobID, group, f.me, salt, labels), b.Seal) {
		return "", types.ErrBadSeal
	}
	b.Labels, b.Status = labels, types.BATCH_STATUS_OPENED
	return "OPENTX", nil
}

func (f *fakeChain) setJobStatus(id uint64, s types.JobStatus) {
	f.mu.Lock()
	f.jobs[id].Status = s
	f.mu.Unlock()
}

func (f *fakeChain) batch(job uint64, group uint32) types.Batch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.batches[[2]uint64{job, uint64(group)}]
}

// itemSet packs rows into dir/name and returns the file and its reference.
func itemSet(t *testing.T, dir, name string, s dataset.Schema, rows []dataset.Row) (*dataset.File, taskstypes.DatasetRef) {
	t.Helper()
	var enc [][]byte
	for _, r := range rows {
		b, err := dataset.EncodeRow(s, r)
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, b)
	}
	f, err := dataset.NewFile(s, enc)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, taskstypes.DatasetRef{Root: f.Root(), Rows: f.Len(), Schema: taskstypes.FromDatasetSchema(s), Uri: "file://" + path}
}

// digits are n 28x28 "images", each with its own pattern.
func digits(n int) []dataset.Row {
	rows := make([]dataset.Row, n)
	for i := range rows {
		px := make([]int32, 784)
		for p := range px {
			px[p] = int32((p*(i+3) + 11*i) % 256)
		}
		rows[i] = dataset.Row{Features: px, Label: uint32(i % 10)}
	}
	return rows
}

var mnistSchema = dataset.Schema{Kind: dataset.KindClassification, Feature: dataset.FeatureUint8, Features: 784, Classes: 10}

func (f *fakeChain) addJob(ref taskstypes.DatasetRef, kind types.LabelKind, classes, batch uint32) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uint64(len(f.jobs) + 1)
	f.jobs[id] = &types.Job{Id: id, Requester: sdk.AccAddress(bytes.Repeat([]byte{9}, 20)).String(), Items: ref, Kind: kind,
		Classes: classes, Redundancy: 1, BatchSize: batch, Groups: types.Groups(ref.Rows, batch),
		PayPerLabel: sdk.NewInt64Coin("uhint", 1000), Stake: sdk.NewInt64Coin("uhint", 5000),
		LabelDeadline: time.Now().Add(time.Hour), OpenDeadline: time.Now().Add(2 * time.Hour),
		Seed: bytes.Repeat([]byte{byte(id)}, 32), Status: types.JOB_STATUS_LABELLING}
	return id
}

// page is an httptest server for an annotator on a fake chain.
type page struct {
	t     *testing.T
	chain *fakeChain
	a     *Annotator
	srv   *Server
	http  *httptest.Server
	dir   string
}

func newPage(t *testing.T, chain *fakeChain, dir string) *page {
	t.Helper()
	a, err := New(chain, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return &page{t: t, chain: chain, a: a, srv: srv, http: h, dir: dir}
}

// call sends a request with the token and decodes a JSON reply into out;
// it returns the status code and the body.
func (p *page) call(method, path string, body, out any) (int, []byte) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		bz, _ := json.Marshal(body)
		rd = bytes.NewReader(bz)
	}
	req, err := http.NewRequest(method, p.http.URL+path, rd)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set(TokenHeader, p.srv.Token())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	bz, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(bz, out); err != nil {
			p.t.Fatalf("%s %s: %v: %s", method, path, err, bz)
		}
	}
	return res.StatusCode, bz
}

func (p *page) must(method, path string, body, out any) {
	p.t.Helper()
	if code, bz := p.call(method, path, body, out); code != http.StatusOK {
		p.t.Fatalf("%s %s: %d %s", method, path, code, bz)
	}
}

// The labels sealed and later opened are exactly the ones sent for the
// items in the order shown, and every image is the row's pixels.
func TestPageSealsAndOpensTheChosenLabels(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	file, ref := itemSet(t, dir, "items.hlds", mnistSchema, digits(12))
	id := chain.addJob(ref, types.LABEL_KIND_CLASS, 10, 5)
	p := newPage(t, chain, filepath.Join(dir, "work"))

	var jobs []JobView
	p.must("GET", "/api/jobs", nil, &jobs)
	if len(jobs) != 1 || jobs[0].ID != id || jobs[0].Kind != "class" || jobs[0].Classes != 10 || jobs[0].Items != 12 ||
		jobs[0].BatchSize != 5 || jobs[0].BatchesLeft != 3 || jobs[0].PayPerLabel != "1000uhint" || jobs[0].Stake != "5000uhint" || jobs[0].Own {
		t.Fatalf("jobs: %+v", jobs)
	}
	var none *BatchItems
	p.must("GET", "/api/batch", nil, &none)
	if none != nil {
		t.Fatalf("a batch before any claim: %+v", none)
	}

	var claim struct {
		Job   uint64   `json:"job"`
		Group uint32   `json:"group"`
		Items []uint32 `json:"items"`
	}
	p.must("POST", "/api/claim", map[string]any{"job": id}, &claim)
	want := types.GroupItems(chain.jobs[id].Seed, 12, 5, claim.Group)
	if claim.Job != id || !slices.Equal(claim.Items, want) {
		t.Fatalf("claim %+v, want items %v", claim, want)
	}

	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if b.Job != id || b.Group != claim.Group || b.Kind != "class" || b.Classes != 10 || len(b.Items) != len(want) || b.Labels != nil {
		t.Fatalf("batch: %+v", b)
	}
	for i, it := range b.Items {
		if it.Item != want[i] || len(it.Sides) != 1 || it.Sides[0].Image == "" {
			t.Fatalf("item %d: %+v, want item %d as one image", i, it, want[i])
		}
		row, _ := file.Row(uint64(it.Item))
		assertImage(t, p, it.Sides[0].Image, row.Features)
	}

	chosen := []uint32{3, 1, 4, 1, 5}
	var sealed Sealing
	p.must("POST", "/api/seal", map[string]any{"job": id, "group": claim.Group, "items": want, "labels": chosen}, &sealed)
	onChain := chain.batch(id, claim.Group)
	rec, ok, err := p.a.store.Get(id, claim.Group)
	if err != nil || !ok || len(rec.Seals) != 1 {
		t.Fatalf("record: %+v %v %v", rec, ok, err)
	}
	s := rec.Seals[0]
	if !bytes.Equal(s.Labels, []byte{3, 1, 4, 1, 5}) || len(s.Salt) != SaltLen || s.Tx != "SEALTX" ||
		!bytes.Equal(onChain.Seal, types.LabelsSeal(id, claim.Group, chain.me, s.Salt, []byte{3, 1, 4, 1, 5})) ||
		sealed.Seal != fmt.Sprintf("%X", onChain.Seal) || onChain.Status != types.BATCH_STATUS_SEALED {
		t.Fatalf("sealed %+v, stored %+v, on chain %+v", sealed, s, onChain)
	}
	p.must("GET", "/api/batch", nil, &none)
	if none != nil {
		t.Fatalf("the sealed batch is still offered: %+v", none)
	}

	// Nothing opens before the job is OPENING; then the stored labels open.
	p.a.OpenDue(context.Background())
	if chain.opens != 0 {
		t.Fatal("opened while labelling")
	}
	chain.setJobStatus(id, types.JOB_STATUS_OPENING)
	p.a.OpenDue(context.Background())
	if got := chain.batch(id, claim.Group); got.Status != types.BATCH_STATUS_OPENED || !bytes.Equal(got.Labels, []byte{3, 1, 4, 1, 5}) {
		t.Fatalf("opened %+v", got)
	}
	p.a.OpenDue(context.Background())
	if chain.opens != 1 {
		t.Fatalf("%d openings, want 1", chain.opens)
	}

	// Settled: the page shows the chain's gold, accepted labels and pay.
	chain.mu.Lock()
	bb := chain.batches[[2]uint64{id, uint64(claim.Group)}]
	bb.Status, bb.GoldSeen, bb.GoldCorrect, bb.Accepted, bb.Paid = types.BATCH_STATUS_PAID, 3, 2, 4, sdk.NewCoin("uhint", sdkmath.NewInt(4000))
	chain.jobs[id].Status = types.JOB_STATUS_SETTLED
	chain.record = types.AnnotatorRecord{Address: chain.me.String(), Batches: 1, LabelsOpened: 5, LabelsAccepted: 4, GoldSeen: 3, GoldCorrect: 2}
	chain.mu.Unlock()
	var st Status
	p.must("GET", "/api/status", nil, &st)
	if len(st.Batches) != 1 || st.Earned != "4000uhint" || st.Record.LabelsAccepted != 4 || st.Address != chain.me.String() {
		t.Fatalf("status %+v", st)
	}
	if v := st.Batches[0]; v.Status != "paid" || v.JobStatus != "settled" || v.GoldSeen != 3 || v.GoldCorrect != 2 || v.Accepted != 4 || v.Paid != "4000uhint" || v.Items != 5 {
		t.Fatalf("batch view %+v", v)
	}
}

func assertImage(t *testing.T, p *page, url string, want []int32) {
	t.Helper()
	res, err := http.Get(p.http.URL + url + "&token=" + p.srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %s %s", url, res.Status, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 28 || b.Dy() != 28 {
		t.Fatalf("image %v, want 28x28", b)
	}
	for i, v := range want {
		r, _, _, _ := img.At(i%28, i/28).RGBA()
		if int32(r>>8) != v {
			t.Fatalf("%s: pixel %d is %d, the row has %d", url, i, r>>8, v)
		}
	}
}

// A seal whose reply was lost is found on chain; a restarted annotator
// (a new process on the same work dir) opens it from disk.
func TestRestartLosesNothing(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	_, ref := itemSet(t, dir, "items.hlds", mnistSchema, digits(4))
	id := chain.addJob(ref, types.LABEL_KIND_CLASS, 10, 4)
	work := filepath.Join(dir, "work")
	p := newPage(t, chain, work)
	var claim Record
	p.must("POST", "/api/claim", map[string]any{"job": id}, &claim)
	items := types.GroupItems(chain.jobs[id].Seed, 4, 4, 0)

	chain.sealLands = true
	if code, bz := p.call("POST", "/api/seal", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{9, 8, 7, 6}}, nil); code != http.StatusInternalServerError {
		t.Fatalf("seal with a lost reply: %d %s", code, bz)
	}
	chain.sealLands = false
	// The page offers the batch again, with the labels of the seal it prepared.
	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if !slices.Equal(b.Labels, []uint32{9, 8, 7, 6}) {
		t.Fatalf("offered again with labels %v", b.Labels)
	}
	// Other labels now would not be what the chain holds: refused.
	if code, bz := p.call("POST", "/api/seal", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{1, 1, 1, 1}}, nil); code != http.StatusConflict {
		t.Fatalf("different labels after a landed seal: %d %s", code, bz)
	}
	var sealed Sealing
	p.must("POST", "/api/seal", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{9, 8, 7, 6}}, &sealed)

	chain.setJobStatus(id, types.JOB_STATUS_OPENING)
	restarted := newPage(t, chain, work)
	restarted.a.OpenDue(context.Background())
	if got := chain.batch(id, 0); got.Status != types.BATCH_STATUS_OPENED || !bytes.Equal(got.Labels, []byte{9, 8, 7, 6}) {
		t.Fatalf("after restart: %+v", got)
	}
	rec, _, _ := restarted.a.store.Get(id, 0)
	if !rec.Done || rec.OpenTx != "OPENTX" {
		t.Fatalf("record after opening: %+v", rec)
	}
}

// A claim that landed before its record was written is found on chain.
func TestRecoverClaimFromChain(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	_, ref := itemSet(t, dir, "items.hlds", mnistSchema, digits(6))
	id := chain.addJob(ref, types.LABEL_KIND_CLASS, 10, 3)
	if _, _, err := chain.Claim(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	p := newPage(t, chain, filepath.Join(dir, "work"))
	if err := p.a.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if b.Job != id || b.Group != 0 || len(b.Items) != 3 {
		t.Fatalf("recovered batch %+v", b)
	}
}

func TestAPIRefusesBadInput(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	_, ref := itemSet(t, dir, "items.hlds", mnistSchema, digits(4))
	id := chain.addJob(ref, types.LABEL_KIND_CLASS, 3, 4)
	p := newPage(t, chain, filepath.Join(dir, "work"))
	p.must("POST", "/api/claim", map[string]any{"job": id}, nil)
	items := types.GroupItems(chain.jobs[id].Seed, 4, 4, 0)
	reversed := slices.Clone(items)
	slices.Reverse(reversed)

	for _, tc := range []struct {
		name string
		body map[string]any
		code int
		text string
	}{
		{"too few labels", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{0, 1, 2}}, 400, "3 labels for 4 items"},
		{"label outside the classes", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{0, 1, 2, 3}}, 400, "outside 0..2"},
		{"items in another order", map[string]any{"job": id, "group": 0, "items": reversed, "labels": []uint32{0, 1, 2, 0}}, 400, "not the batch's items"},
		{"a group not claimed", map[string]any{"job": id, "group": 1, "items": items, "labels": []uint32{0, 1, 2, 0}}, 404, "no batch"},
		{"unknown field", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{0, 1, 2, 0}, "salt": "00"}, 400, "unknown field"},
	} {
		if code, bz := p.call("POST", "/api/seal", tc.body, nil); code != tc.code || !strings.Contains(string(bz), tc.text) {
			t.Errorf("%s: %d %s, want %d %q", tc.name, code, bz, tc.code, tc.text)
		}
	}
	if code, bz := p.call("POST", "/api/claim", map[string]any{"job": 99}, nil); code != 404 {
		t.Errorf("claim of an unknown job: %d %s", code, bz)
	}
	if code, bz := p.call("GET", "/api/image?job=1&item=99&side=0", nil, nil); code != 404 {
		t.Errorf("image of an item in no batch: %d %s", code, bz)
	}
	if code, bz := p.call("GET", fmt.Sprintf("/api/image?job=1&item=%d&side=1", items[0]), nil, nil); code != 400 {
		t.Errorf("side B of a class item: %d %s", code, bz)
	}
	if chain.batch(id, 0).Status != types.BATCH_STATUS_CLAIMED {
		t.Fatal("a refused seal reached the chain")
	}
	chain.setJobStatus(id, types.JOB_STATUS_OPENING)
	if code, bz := p.call("POST", "/api/seal", map[string]any{"job": id, "group": 0, "items": items, "labels": []uint32{0, 1, 2, 0}}, nil); code != 409 {
		t.Errorf("seal after the label deadline: %d %s", code, bz)
	}

	// No token, a wrong token, a foreign host name, a form post: refused.
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"no token", func() *http.Request { r, _ := http.NewRequest("GET", p.http.URL+"/api/status", nil); return r }},
		{"wrong token", func() *http.Request {
			r, _ := http.NewRequest("GET", p.http.URL+"/api/status", nil)
			r.Header.Set(TokenHeader, strings.Repeat("0", 32))
			return r
		}},
		{"rebinding host", func() *http.Request {
			r, _ := http.NewRequest("GET", p.http.URL+"/api/status", nil)
			r.Header.Set(TokenHeader, p.srv.Token())
			r.Host = "evil.example:80"
			return r
		}},
		{"token in the query of a post", func() *http.Request {
			r, _ := http.NewRequest("POST", p.http.URL+"/api/claim?token="+p.srv.Token(), strings.NewReader(`{"job":1}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	} {
		res, err := http.DefaultClient.Do(tc.req())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", tc.name, res.Status)
		}
	}
	req, _ := http.NewRequest("POST", p.http.URL+"/api/claim", strings.NewReader("job=1"))
	req.Header.Set(TokenHeader, p.srv.Token())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("form post: %v %v", res, err)
	}

	if _, err := p.srv.Listen("0.0.0.0:0"); err == nil {
		t.Error("listening on every interface was allowed")
	}
}

// Preference items show both candidates, A first; rows that are not 784
// bytes show as numbers.
func TestPreferenceItems(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	s := dataset.Schema{Kind: dataset.KindPreference, Feature: dataset.FeatureFixed32, Features: 3, FracBits: 16}
	rows := []dataset.Row{
		{Features: []int32{1 << 16, 1 << 15, -3 << 16}, Rejected: []int32{0, 2 << 16, 1 << 14}},
		{Features: []int32{5 << 16, 0, 0}, Rejected: []int32{0, 0, 7 << 16}},
	}
	_, ref := itemSet(t, dir, "pairs.hlds", s, rows)
	id := chain.addJob(ref, types.LABEL_KIND_PREFERENCE, 2, 2)
	p := newPage(t, chain, filepath.Join(dir, "work"))
	p.must("POST", "/api/claim", map[string]any{"job": id}, nil)
	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if b.Kind != "preference" || len(b.Items) != 2 {
		t.Fatalf("batch %+v", b)
	}
	for _, it := range b.Items {
		r := rows[it.Item]
		if len(it.Sides) != 2 || !slices.Equal(it.Sides[0].Values, values(s, r.Features)) || !slices.Equal(it.Sides[1].Values, values(s, r.Rejected)) {
			t.Fatalf("item %d: %+v", it.Item, it.Sides)
		}
	}
	if got := values(s, rows[0].Features); !slices.Equal(got, []string{"1", "0.5", "-3"}) {
		t.Fatalf("fixed point shown as %v", got)
	}
	var sealed Sealing
	p.must("POST", "/api/seal", map[string]any{"job": id, "group": 0, "items": []uint32{b.Items[0].Item, b.Items[1].Item}, "labels": []uint32{1, 0}}, &sealed)
	rec, _, _ := p.a.store.Get(id, 0)
	if !bytes.Equal(rec.Seals[0].Labels, []byte{1, 0}) {
		t.Fatalf("sealed %v", rec.Seals[0].Labels)
	}
}

// Token preference items (DPO pairs: two continuations of one prompt) show
// the prompt and the two responses as text, without their padding; the
// labels swap the pair in the labelled dataset (dataset.WithLabels).
func TestTokenPreferenceItems(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	const T = 16
	s := dataset.Schema{Kind: dataset.KindTokenPreference, Feature: dataset.FeatureUint8, Features: T + 1}
	pad := func(b string) []byte { r := make([]byte, T+1); copy(r, b); return r }
	rows := []dataset.Row{
		{Tokens: pad("\tx := f(a)\n"), RejectedTokens: pad("\tx := f(a))\n"), PromptLen: 6},
		{Tokens: pad("\treturn nil\n"), RejectedTokens: pad("\treturn ni\n"), PromptLen: 4},
	}
	items, ref := itemSet(t, dir, "pairs.hlds", s, rows)
	id := chain.addJob(ref, types.LABEL_KIND_PREFERENCE, 2, 2)
	p := newPage(t, chain, filepath.Join(dir, "work"))
	p.must("POST", "/api/claim", map[string]any{"job": id}, nil)
	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if b.Kind != "preference" || len(b.Items) != 2 {
		t.Fatalf("batch %+v", b)
	}
	for _, it := range b.Items {
		r := rows[it.Item]
		p := int(r.PromptLen)
		want := [2]string{strings.TrimRight(string(r.Tokens[p:]), "\x00"), strings.TrimRight(string(r.RejectedTokens[p:]), "\x00")}
		if it.Prompt != string(r.Tokens[:p]) || len(it.Sides) != 2 || it.Sides[0].Text != want[0] || it.Sides[1].Text != want[1] {
			t.Fatalf("item %d: prompt %q, sides %+v; want %q, %q", it.Item, it.Prompt, it.Sides, r.Tokens[:p], want)
		}
	}
	labelled, err := dataset.WithLabels(items, []byte{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	r0, _ := labelled.Row(0)
	r1, _ := labelled.Row(1)
	if !bytes.Equal(r0.Tokens, rows[0].RejectedTokens) || !bytes.Equal(r0.RejectedTokens, rows[0].Tokens) || r0.PromptLen != 6 ||
		!bytes.Equal(r1.Tokens, rows[1].Tokens) {
		t.Fatalf("labelled pairs: %+v %+v", r0, r1)
	}
}

// Items served over http are downloaded and checked; a set whose root is
// not the job's is refused, and nothing of it is shown.
func TestItemsOverHTTPAndTamperedItems(t *testing.T) {
	chain := newFakeChain()
	dir := t.TempDir()
	_, ref := itemSet(t, dir, "items.hlds", mnistSchema, digits(3))
	other, _ := itemSet(t, dir, "other.hlds", mnistSchema, digits(4)[1:])
	files := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer files.Close()
	ref.Uri = files.URL + "/items.hlds"
	good := chain.addJob(ref, types.LABEL_KIND_CLASS, 10, 3)
	bad := ref
	bad.Uri = files.URL + "/other.hlds"
	bad.Root = bytes.Repeat([]byte{1}, 32) // other.hlds hashes to other.Root()
	badID := chain.addJob(bad, types.LABEL_KIND_CLASS, 10, 3)
	if bytes.Equal(other.Root(), bad.Root) {
		t.Fatal("roots collide")
	}

	p := newPage(t, chain, filepath.Join(dir, "work"))
	p.must("POST", "/api/claim", map[string]any{"job": good}, nil)
	var b BatchItems
	p.must("GET", "/api/batch", nil, &b)
	if len(b.Items) != 3 {
		t.Fatalf("batch over http: %+v", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "work", "datasets", fmt.Sprintf("%x.hlds", ref.Root))); err != nil {
		t.Fatalf("download not kept: %v", err)
	}
	chain.setJobStatus(good, types.JOB_STATUS_OPENING) // the bad job's batch comes next
	p.must("POST", "/api/claim", map[string]any{"job": badID}, nil)
	code, bz := p.call("GET", "/api/batch", nil, nil)
	if code != http.StatusInternalServerError || !strings.Contains(string(bz), "refusing to show them") {
		t.Fatalf("tampered items: %d %s", code, bz)
	}
}

// The page itself needs no token (it carries none); it is embedded, and
// every response forbids framing and foreign scripts.
func TestStaticPage(t *testing.T) {
	p := newPage(t, newFakeChain(), t.TempDir())
	for path, want := range map[string]string{"/": `<script src="app.js">`, "/app.js": `"` + TokenHeader + `"`, "/style.css": "image-rendering: pixelated"} {
		res, err := http.Get(p.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		bz, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(bz), want) {
			t.Errorf("GET %s: %s, body lacks %q", path, res.Status, want)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}
}
