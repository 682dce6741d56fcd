package cmd

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/worker"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The command-line side of x/annotation: `annotate post`, `reveal-gold`,
// `simulate` and `accuracy`, added under the `annotate` command that serves
// the annotator's web page.
//
// A requester's gold set stays on its machine until the reveal: `annotate
// post` draws a 32-byte salt and keeps {gold, salt} under
// <home>/annotation/<gold commitment hex>.json (mode 0600), where
// `annotate reveal-gold` finds it again through the job's commitment.

const (
	flagAnnItems           = "items"
	flagAnnItemsURI        = "items-uri"
	flagAnnClasses         = "classes"
	flagAnnPreference      = "preference"
	flagAnnRedundancy      = "redundancy"
	flagAnnBatchSize       = "batch-size"
	flagAnnPay             = "pay"
	flagAnnStake           = "stake"
	flagAnnGoldDeposit     = "gold-deposit"
	flagAnnMinGoldAccuracy = "min-gold-accuracy"
	flagAnnLabelWindow     = "label-window"
	flagAnnGold            = "gold"
	flagAnnGoldFromLabels  = "gold-from-labels"
	flagAnnJob             = "job"
	flagAnnCrowd           = "crowd"
	flagAnnFromPrefix      = "from-prefix"
	flagAnnKeys            = "keys"
	flagAnnSeed            = "seed"
	flagAnnClaimMargin     = "claim-margin"
)

// pollEvery is how often the commands re-read a job while they wait.
const pollEvery = time.Second

// maxRetries bounds how often a simulated annotator resubmits transactions
// that failed in a block.
const maxRetries = 5

// withAnnotateSubcommands adds the command-line subcommands to `annotate`.
func withAnnotateSubcommands(cmd *cobra.Command) *cobra.Command {
	cmd.AddCommand(annotatePostCmd(), annotateRevealGoldCmd(), annotateSimulateCmd(), annotateAccuracyCmd())
	return cmd
}

// ---------------------------------------------------------------------------
// Items and gold sets.
// ---------------------------------------------------------------------------

// itemTruth is the items file's own answer per item: the label of a
// classification row; 0 (the first candidate, which a packed preference row
// holds as the chosen one) for a preference row. The chain never sees it;
// the simulated crowd and --gold-from-labels use it as the truth.
func itemTruth(f *dataset.File) ([]uint32, error) {
	s := f.Schema()
	truth := make([]uint32, f.Len())
	switch s.Kind {
	case dataset.KindClassification:
		for i := range truth {
			r, err := f.Row(uint64(i))
			if err != nil {
				return nil, err
			}
			truth[i] = r.Label
		}
	case dataset.KindPreference:
	default:
		return nil, fmt.Errorf("items must be classification or preference rows, not %s", worker.SchemaString(s))
	}
	return truth, nil
}

// goldEntry is one gold item in a gold file and in the stored gold set.
type goldEntry struct {
	Item  uint32 `json:"item"`
	Label uint32 `json:"label"`
}

// parseGold reads a gold file, a JSON array of {"item": I, "label": L}, in
// any order, and returns it sorted by item after the chain's own checks.
func parseGold(bz []byte, items uint64, classes uint32) ([]types.GoldItem, error) {
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	var entries []goldEntry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf(`want a JSON array of {"item": I, "label": L}: %w`, err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON array")
	}
	gold := make([]types.GoldItem, len(entries))
	for i, e := range entries {
		gold[i] = types.GoldItem{Item: e.Item, Label: e.Label}
	}
	slices.SortFunc(gold, func(a, b types.GoldItem) int { return cmp.Compare(a.Item, b.Item) })
	for i := 1; i < len(gold); i++ {
		if gold[i].Item == gold[i-1].Item {
			return nil, fmt.Errorf("item %d is given twice", gold[i].Item)
		}
	}
	if err := types.ValidateGold(gold, items, classes); err != nil {
		return nil, err
	}
	return gold, nil
}

// goldFromLabels picks round(N * fraction) items with their own labels as
// the gold set, drawn by crowd.Gold from a seed taken from the items' Merkle
// root: the same file and fraction always give the same gold set.
func goldFromLabels(root []byte, truth []uint32, fraction float64) ([]types.GoldItem, error) {
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("--%s %v: want a fraction in (0, 1], e.g. 0.05", flagAnnGoldFromLabels, fraction)
	}
	if len(root) < 8 {
		return nil, errors.New("items root too short")
	}
	picked := crowd.Gold(binary.BigEndian.Uint64(root[:8]), truth, uint32(math.Round(fraction*10_000)))
	if len(picked) == 0 {
		return nil, fmt.Errorf("--%s %v of %d items picks none", flagAnnGoldFromLabels, fraction, len(truth))
	}
	gold := make([]types.GoldItem, len(picked))
	for i, g := range picked {
		gold[i] = types.GoldItem{Item: g.Item, Label: g.Value}
	}
	return gold, nil
}

// storedGold is <home>/annotation/<commitment hex>.json.
type storedGold struct {
	ItemsRoot string      `json:"items_root"`
	Salt      string      `json:"salt"`
	Gold      []goldEntry `json:"gold"`
}

func goldPath(home string, commitment []byte) string {
	return filepath.Join(home, "annotation", hex.EncodeToString(commitment)+".json")
}

// storeGold writes the gold set and salt where reveal-gold looks for them.
func storeGold(home string, itemsRoot, salt []byte, gold []types.GoldItem) (string, error) {
	s := storedGold{ItemsRoot: hex.EncodeToString(itemsRoot), Salt: hex.EncodeToString(salt), Gold: make([]goldEntry, len(gold))}
	for i, g := range gold {
		s.Gold[i] = goldEntry{Item: g.Item, Label: g.Label}
	}
	bz, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	path := goldPath(home, types.GoldCommitment(salt, gold))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return path, writeFileAtomic(path, bz, 0o600)
}

// loadGold finds the gold set committed to and checks it against the
// commitment.
func loadGold(home string, commitment []byte) ([]types.GoldItem, []byte, error) {
	path := goldPath(home, commitment)
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("the job's gold set is not stored here (%s): reveal it from the machine and --home that posted the job: %w", path, err)
	}
	var s storedGold
	if err := json.Unmarshal(bz, &s); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	salt, err := hex.DecodeString(s.Salt)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: salt: %w", path, err)
	}
	gold := make([]types.GoldItem, len(s.Gold))
	for i, g := range s.Gold {
		gold[i] = types.GoldItem{Item: g.Item, Label: g.Label}
	}
	if !bytes.Equal(types.GoldCommitment(salt, gold), commitment) {
		return nil, nil, fmt.Errorf("%s does not match the job's gold commitment %X", path, commitment)
	}
	return gold, salt, nil
}

// writeFileAtomic replaces path, never leaving it half written.
func writeFileAtomic(path string, bz []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bz, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func randomSalt() ([]byte, error) {
	salt := make([]byte, types.HashLen)
	_, err := rand.Read(salt)
	return salt, err
}

// ---------------------------------------------------------------------------
// annotate post.
// ---------------------------------------------------------------------------

func annotatePostCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "post --items FILE (--classes K | --preference) --redundancy R --batch-size B --pay COIN --stake COIN --gold-deposit COIN (--gold FILE | --gold-from-labels F)",
		Short: "Post an annotation job over a packed dataset and escrow its pay",
		Long: `Post an annotation job. The items are a packed dataset (hinterlandd dataset pack):
classification rows for a K-class job (--classes K, the rows' schema must have K
classes), preference rows for a pairwise-preference job (--preference: 0 = the
first candidate is better, 1 = the second). The rows' own labels are ignored by
the chain. Annotators fetch the items from --items-uri (default file://<abs path>).

Each of the job's groups of --batch-size items is labelled by --redundancy
annotators; each locks --stake per batch, lost if it does not seal and open in
time or falls under --min-gold-accuracy on the gold items it labelled. The gold
set is hidden: only its salted commitment is posted. It is either
  --gold FILE              a JSON array of {"item": I, "label": L}, or
  --gold-from-labels F     a fraction F of the items with the items file's own
                           labels, picked deterministically from the items' root.
                           For tests and demos, where the truth is known.
The gold set and a fresh 32-byte salt are stored under
<home>/annotation/<commitment hex>.json (mode 0600) before anything is signed;
after the label deadline reveal them with 'hinterlandd annotate reveal-gold'.
Never revealing them loses --gold-deposit, and annotators are then paid on
agreement alone.

The escrow is items x redundancy x pay + the aggregation fee (priced by the
chain) + the gold deposit; it is printed to stderr before signing.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msg, gold, err := buildPostJob(cmd)
			if err != nil {
				return err
			}
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return fmt.Errorf("--%s: %w", flags.FlagFrom, err)
			}
			msg.Requester = cctx.GetFromAddress().String()
			salt, err := randomSalt()
			if err != nil {
				return err
			}
			msg.GoldCommitment = types.GoldCommitment(salt, gold)
			if !cctx.Offline && !cctx.GenerateOnly {
				if err := checkPostJob(cmd, cctx, msg, len(gold)); err != nil {
					return err
				}
			}
			path, err := storeGold(cctx.HomeDir, msg.Items.Root, salt, gold)
			if err != nil {
				return fmt.Errorf("storing the gold set: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "gold set (%d items) and salt stored in %s: after the label deadline reveal them with\n  hinterlandd annotate reveal-gold <job-id> --from %s --wait 1h\n",
				len(gold), path, cctx.GetFromName())
			return tx.GenerateOrBroadcastTxCLI(cctx, cmd.Flags(), msg)
		},
	}
	f := cmd.Flags()
	f.String(flagAnnItems, "", "Packed dataset file of the items (reads root, rows and schema)")
	f.String(flagAnnItemsURI, "", "Where annotators fetch the items (default file://<abs path of --items>)")
	f.Uint32(flagAnnClasses, 0, "Number of classes K of a labelling job (the items' schema must have K)")
	f.Bool(flagAnnPreference, false, "A pairwise-preference job over preference rows (K = 2)")
	f.Uint32(flagAnnRedundancy, 5, "Annotators per item")
	f.Uint32(flagAnnBatchSize, 50, "Items per batch")
	f.String(flagAnnPay, "", "Pay per accepted label (e.g. 100uhint)")
	f.String(flagAnnStake, "", "Stake an annotator locks per batch (e.g. 10000uhint)")
	f.String(flagAnnGoldDeposit, "", "Requester deposit, lost if the gold set is never revealed (e.g. 100000uhint)")
	f.Float64(flagAnnMinGoldAccuracy, 0.7, "Gold accuracy under which an annotator is slashed and its labels dropped")
	f.Duration(flagAnnLabelWindow, time.Hour, "How long annotators claim and seal batches")
	f.String(flagAnnGold, "", `Gold file: a JSON array of {"item": I, "label": L}`)
	f.Float64(flagAnnGoldFromLabels, 0, "Use this fraction of the items, with the items file's own labels, as the gold set (tests and demos)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// buildPostJob builds the job from the flags (all but requester and gold
// commitment) and its gold set.
func buildPostJob(cmd *cobra.Command) (*types.MsgPostJob, []types.GoldItem, error) {
	f := cmd.Flags()
	path, _ := f.GetString(flagAnnItems)
	if path == "" {
		return nil, nil, fmt.Errorf("give the items with --%s FILE (hinterlandd dataset pack)", flagAnnItems)
	}
	file, err := dataset.Open(path)
	if err != nil {
		return nil, nil, err
	}
	uri, _ := f.GetString(flagAnnItemsURI)
	if uri == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, nil, err
		}
		uri = "file://" + abs
	}
	msg := &types.MsgPostJob{Items: taskstypes.DatasetRef{Root: file.Root(), Rows: file.Len(), Uri: uri,
		Schema: taskstypes.FromDatasetSchema(file.Schema())}}
	preference, _ := f.GetBool(flagAnnPreference)
	msg.Classes, _ = f.GetUint32(flagAnnClasses)
	switch {
	case preference && msg.Classes != 0 && msg.Classes != 2:
		return nil, nil, fmt.Errorf("--%s is K = 2: drop --%s", flagAnnPreference, flagAnnClasses)
	case preference:
		msg.Kind, msg.Classes = types.LABEL_KIND_PREFERENCE, 2
		if file.Schema().Kind != dataset.KindPreference {
			return nil, nil, fmt.Errorf("--%s needs preference rows; %s has %s", flagAnnPreference, path, worker.SchemaString(file.Schema()))
		}
	case msg.Classes == 0:
		return nil, nil, fmt.Errorf("give --%s K (a labelling job) or --%s", flagAnnClasses, flagAnnPreference)
	default:
		msg.Kind = types.LABEL_KIND_CLASS
		if s := file.Schema(); s.Kind != dataset.KindClassification || s.Classes != msg.Classes {
			return nil, nil, fmt.Errorf("--%s %d needs classification rows with %d classes; %s has %s", flagAnnClasses, msg.Classes, msg.Classes, path, worker.SchemaString(s))
		}
	}
	msg.Redundancy, _ = f.GetUint32(flagAnnRedundancy)
	msg.BatchSize, _ = f.GetUint32(flagAnnBatchSize)
	for _, c := range []struct {
		flag string
		to   *sdk.Coin
	}{{flagAnnPay, &msg.PayPerLabel}, {flagAnnStake, &msg.Stake}, {flagAnnGoldDeposit, &msg.GoldDeposit}} {
		s, _ := f.GetString(c.flag)
		if *c.to, err = sdk.ParseCoinNormalized(s); err != nil {
			return nil, nil, fmt.Errorf("--%s %q: want a coin such as 100uhint: %w", c.flag, s, err)
		}
	}
	acc, _ := f.GetFloat64(flagAnnMinGoldAccuracy)
	if !(acc >= 0 && acc <= 1) {
		return nil, nil, fmt.Errorf("--%s %v: want a fraction in [0, 1]", flagAnnMinGoldAccuracy, acc)
	}
	msg.MinGoldAccuracyBps = uint32(math.Round(acc * 10_000))
	msg.LabelWindow, _ = f.GetDuration(flagAnnLabelWindow)

	goldFile, _ := f.GetString(flagAnnGold)
	fraction, _ := f.GetFloat64(flagAnnGoldFromLabels)
	var gold []types.GoldItem
	switch {
	case goldFile != "" && fraction != 0:
		return nil, nil, fmt.Errorf("give --%s or --%s, not both", flagAnnGold, flagAnnGoldFromLabels)
	case goldFile != "":
		bz, err := os.ReadFile(goldFile)
		if err != nil {
			return nil, nil, err
		}
		if gold, err = parseGold(bz, file.Len(), msg.Classes); err != nil {
			return nil, nil, fmt.Errorf("--%s %s: %w", flagAnnGold, goldFile, err)
		}
	case fraction != 0:
		truth, err := itemTruth(file)
		if err != nil {
			return nil, nil, err
		}
		if gold, err = goldFromLabels(file.Root(), truth, fraction); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("give the hidden gold set with --%s FILE or --%s FRACTION", flagAnnGold, flagAnnGoldFromLabels)
	}
	return msg, gold, nil
}

// checkPostJob refuses, before anything is stored or signed, a gold set the
// chain would refuse at the reveal, and a job the chain refuses now (by
// simulating it); it prints the escrow the simulation reports.
func checkPostJob(cmd *cobra.Command, cctx client.Context, msg *types.MsgPostJob, goldItems int) error {
	q := types.NewQueryClient(cctx)
	params, err := q.Params(cmd.Context(), &types.QueryParamsRequest{})
	if err != nil {
		return fmt.Errorf("reading the x/annotation params: %w", err)
	}
	if uint32(goldItems) < params.Params.MinGoldItems {
		return fmt.Errorf("%d gold items: the chain's min_gold_items is %d", goldItems, params.Params.MinGoldItems)
	}
	txf, err := tx.NewFactoryCLI(cctx, cmd.Flags())
	if err != nil {
		return err
	}
	if txf, err = txf.Prepare(cctx); err != nil {
		return err
	}
	sim, _, err := tx.CalculateGas(cctx, txf, msg)
	if err != nil {
		return fmt.Errorf("the chain refuses the job: %w", err)
	}
	var res types.MsgPostJobResponse
	if sim.Result == nil || len(sim.Result.MsgResponses) != 1 {
		return errors.New("the simulation returned no MsgPostJobResponse")
	}
	if err := res.Unmarshal(sim.Result.MsgResponses[0].Value); err != nil {
		return fmt.Errorf("decoding the simulated MsgPostJobResponse: %w", err)
	}
	labels := msg.Items.Rows * uint64(msg.Redundancy)
	pay := msg.PayPerLabel.Amount.Mul(sdkmath.NewIntFromUint64(labels))
	fee := res.Escrow.Amount.Sub(pay).Sub(msg.GoldDeposit.Amount)
	fmt.Fprintf(cmd.ErrOrStderr(), "escrow %s = %d items x %d annotators x %s (%s%s) + aggregation fee %s%s + gold deposit %s; %d groups of %d\n",
		res.Escrow, msg.Items.Rows, msg.Redundancy, msg.PayPerLabel, pay, res.Escrow.Denom, fee, res.Escrow.Denom, msg.GoldDeposit,
		res.Groups, msg.BatchSize)
	return nil
}

// ---------------------------------------------------------------------------
// annotate reveal-gold.
// ---------------------------------------------------------------------------

func annotateRevealGoldCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reveal-gold [job-id]",
		Short: "Reveal a job's gold set after its label deadline (run by the requester)",
		Long: `Reveal the gold set and salt that 'annotate post' stored under
<home>/annotation/<commitment hex>.json. The chain takes them once the job's label
deadline has passed (the job is JOB_STATUS_OPENING) and until its gold deadline;
with --wait the command polls until then. Revealed before the open deadline, the
gold set is scored as soon as the batches are opened; never revealed, the gold
deposit is lost and annotators are paid on agreement alone.`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("job id %q: %w", args[0], err)
			}
			wait, _ := cmd.Flags().GetDuration(flagWait)
			q := types.NewQueryClient(cctx)
			deadline := time.Now().Add(wait)
			var job types.Job
			for {
				res, err := q.Job(cmd.Context(), &types.QueryJobRequest{Id: id})
				if err != nil {
					return err
				}
				job = res.Job
				if job.GoldRevealed {
					return fmt.Errorf("job %d: the gold set is already revealed", id)
				}
				if job.Status == types.JOB_STATUS_OPENING {
					break
				}
				if job.Status != types.JOB_STATUS_LABELLING {
					return fmt.Errorf("job %d is %s: the gold window (until %s) is over", id, job.Status, job.GoldDeadline)
				}
				if !time.Now().Before(deadline) {
					return fmt.Errorf("job %d is still labelling until %s: retry then, or use --%s", id, job.LabelDeadline, flagWait)
				}
				if err := sleepCtx(cmd.Context(), pollEvery); err != nil {
					return err
				}
			}
			gold, salt, err := loadGold(cctx.HomeDir, job.GoldCommitment)
			if err != nil {
				return err
			}
			msg := &types.MsgRevealGold{Requester: cctx.GetFromAddress().String(), JobId: id, Gold: gold, Salt: salt}
			return tx.GenerateOrBroadcastTxCLI(cctx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Duration(flagWait, 0, "Wait up to this long for the label deadline (e.g. 1h)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// ---------------------------------------------------------------------------
// annotate simulate.
// ---------------------------------------------------------------------------

// crowdKinds are the names --crowd takes, in crowd.Mix's field order (the
// order in which crowd.New numbers the annotators).
var crowdKinds = []struct {
	names []string
	count func(*crowd.Mix) *uint32
}{
	{[]string{"good"}, func(m *crowd.Mix) *uint32 { return &m.Good }},
	{[]string{"noisy"}, func(m *crowd.Mix) *uint32 { return &m.Noisy }},
	{[]string{"random", "random-spammer"}, func(m *crowd.Mix) *uint32 { return &m.RandomSpammers }},
	{[]string{"constant", "constant-spammer"}, func(m *crowd.Mix) *uint32 { return &m.ConstantSpammers }},
	{[]string{"flipper"}, func(m *crowd.Mix) *uint32 { return &m.Flippers }},
	{[]string{"copier"}, func(m *crowd.Mix) *uint32 { return &m.Copiers }},
}

// parseCrowd reads a crowd spec such as "good:4,noisy:1,random:1,constant:1"
// (a kind without a count is one annotator).
func parseCrowd(spec string) (crowd.Mix, error) {
	var mix crowd.Mix
	seen := map[string]bool{} // looked up by name only
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, countText, hasCount := strings.Cut(part, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		n := uint64(1)
		if hasCount {
			var err error
			if n, err = strconv.ParseUint(strings.TrimSpace(countText), 10, 16); err != nil || n == 0 {
				return mix, fmt.Errorf("crowd %q: count %q of %s: want a positive integer", spec, countText, name)
			}
		}
		found := false
		for _, k := range crowdKinds {
			if slices.Contains(k.names, name) {
				if seen[k.names[0]] {
					return mix, fmt.Errorf("crowd %q: %s given twice", spec, k.names[0])
				}
				seen[k.names[0]], found = true, true
				*k.count(&mix) = uint32(n)
			}
		}
		if !found {
			return mix, fmt.Errorf("crowd %q: unknown kind %q (want good, noisy, random, constant, flipper, copier)", spec, name)
		}
	}
	if mix.Total() == 0 {
		return mix, fmt.Errorf("crowd %q: no annotators (e.g. good:5,constant:1,random:1)", spec)
	}
	if mix.Copiers == mix.Total() {
		return mix, fmt.Errorf("crowd %q: copiers need someone to copy", spec)
	}
	return mix, nil
}

// simBatch is one batch as the simulated annotator keeps it: its labels and
// the salt that opens its seal.
type simBatch struct {
	Group  uint32 `json:"group"`
	Labels []byte `json:"labels"`
	Salt   []byte `json:"salt"`
}

// simState is <work-dir>/<key>.json, rewritten after every batch labelled:
// a restarted simulation seals and opens what it had claimed.
type simState struct {
	Job     uint64     `json:"job"`
	Address string     `json:"address"`
	Batches []simBatch `json:"batches"`
}

func (s *simState) batch(g uint32) *simBatch {
	for i := range s.Batches {
		if s.Batches[i].Group == g {
			return &s.Batches[i]
		}
	}
	return nil
}

// simAnnotator is one simulated annotator: a keyring key and a crowd member.
type simAnnotator struct {
	index int
	name  string
	addr  sdk.AccAddress
	c     *worker.Client
	path  string
	state simState
	start sdk.Coin
}

// simulation is a crowd labelling one job through the chain.
type simulation struct {
	q       types.QueryClient
	job     types.Job
	truth   []uint32
	crowd   *crowd.Crowd
	uniform crowd.Annotator // what a copier answers when it has nothing to copy
	seed    uint64
	margin  time.Duration
	out     io.Writer
	mu      sync.Mutex // guards the annotators' states (copiers read their sources')
	members []*simAnnotator
}

func annotateSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate --job ID --items FILE --crowd SPEC --from-prefix NAME --keys N",
		Short: "Label a job with a simulated crowd of keyring keys, through the chain (tests and demos)",
		Long: `Run a simulated crowd on a job: N keyring keys <prefix>1 .. <prefix>N, annotator i
behaving as the i-th member of a pkg/annotation/crowd crowd drawn from --seed. The
crowd spec counts each kind, e.g. good:4,noisy:1,random:1,constant:1; members are
numbered in the order good, noisy, random, constant, flipper, copier, whatever the
order of the spec:
  good       accuracy 0.85-0.95, errors lean towards one confusable class
  noisy      accuracy 0.60-0.80, the same shape
  random     a spammer answering uniformly at random
  constant   a spammer answering always the same class
  flipper    an adversary answering a fixed other class (90%)
  copier     colludes off-chain: copies its source's labels on a batch they share
             (sealed labels keep it from copying anyone else), else answers at random

Each annotator claims batches until none is left for it (or the label deadline is
within --claim-margin), labels the items the chain assigned with its behaviour
against the items file's own labels (the truth), and seals them (each seal travels
with the next claim). Labels and salts are kept in --work-dir (one file per key),
so a restarted simulation seals and opens what it had claimed. After the label
deadline every annotator opens its batches in one transaction; once the job settles
the command prints, per annotator: batches, labels, gold accuracy, accepted labels,
pay, stake lost, status (paid, slashed or forfeited) and the balance change
since the command started (fees included).

The requester reveals its gold set separately (annotate reveal-gold).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE:         runSimulate,
	}
	f := cmd.Flags()
	f.Uint64(flagAnnJob, 0, "Job id")
	f.String(flagAnnItems, "", "The job's items file (its own labels are the truth the crowd labels against)")
	f.String(flagAnnCrowd, "", "Crowd: kind:count pairs, e.g. good:4,noisy:1,random:1,constant:1")
	f.String(flagAnnFromPrefix, "annotator", "Key names are this prefix followed by 1..N")
	f.Int(flagAnnKeys, 0, "Number of keys N (default: the crowd's size, which it must equal)")
	f.Uint64(flagAnnSeed, 1, "Seed of the crowd's confusion matrices and answers")
	f.Duration(flagAnnClaimMargin, 5*time.Second, "Stop claiming this long before the label deadline, so that the last seal lands in time")
	f.String(flagWorkDir, "", "Where labels and salts are kept (default <home>/annotation/simulate/job-<id>)")
	f.String(flags.FlagNode, "tcp://localhost:26657", "CometBFT RPC endpoint of a node")
	f.String(flags.FlagGRPC, "", "gRPC endpoint for queries and simulation (default: ABCI queries over --node)")
	f.Bool(flags.FlagGRPCInsecure, false, "Use gRPC without TLS (local nodes)")
	f.String(flags.FlagChainID, "", "Chain id (default: read from the node)")
	f.String(flags.FlagGasPrices, "", "Gas price to pay fees at (default: the node's minimum gas price)")
	f.Float64(flags.FlagGasAdjustment, 2, "Multiplier of the simulated gas (a crowd's claims race in the same blocks and may cost more than simulated)")
	f.Duration(flagTxTimeout, time.Minute, "How long to wait for a transaction to be included")
	f.StringP(flags.FlagOutput, "o", "text", "Output format of the results (text|json)")
	flags.AddKeyringFlags(f)
	return cmd
}

func runSimulate(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	id, _ := f.GetUint64(flagAnnJob)
	itemsPath, _ := f.GetString(flagAnnItems)
	spec, _ := f.GetString(flagAnnCrowd)
	prefix, _ := f.GetString(flagAnnFromPrefix)
	keys, _ := f.GetInt(flagAnnKeys)
	seed, _ := f.GetUint64(flagAnnSeed)
	if id == 0 || itemsPath == "" || spec == "" {
		return fmt.Errorf("give --%s, --%s and --%s", flagAnnJob, flagAnnItems, flagAnnCrowd)
	}
	mix, err := parseCrowd(spec)
	if err != nil {
		return err
	}
	if keys == 0 {
		keys = int(mix.Total())
	}
	if keys != int(mix.Total()) {
		return fmt.Errorf("--%s %d, but the crowd %q has %d annotators", flagAnnKeys, keys, spec, mix.Total())
	}
	cctx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext(cmd)
	defer cancel()
	s := &simulation{q: types.NewQueryClient(cctx), seed: seed, out: cmd.ErrOrStderr()}
	s.margin, _ = f.GetDuration(flagAnnClaimMargin)
	res, err := s.q.Job(ctx, &types.QueryJobRequest{Id: id})
	if err != nil {
		return err
	}
	s.job = res.Job
	file, err := dataset.Open(itemsPath)
	if err != nil {
		return err
	}
	if !bytes.Equal(file.Root(), s.job.Items.Root) {
		return fmt.Errorf("%s has root %X, job %d's items %X", itemsPath, file.Root(), id, s.job.Items.Root)
	}
	if s.truth, err = itemTruth(file); err != nil {
		return err
	}
	if s.crowd, err = crowd.New(seed, s.job.Classes, mix); err != nil {
		return err
	}
	uniform, err := crowd.New(seed, s.job.Classes, crowd.Mix{RandomSpammers: 1})
	if err != nil {
		return err
	}
	s.uniform = uniform.Annotators[0]

	dir, _ := f.GetString(flagWorkDir)
	if dir == "" {
		dir = filepath.Join(cctx.HomeDir, "annotation", "simulate", fmt.Sprintf("job-%d", id))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	prices, _ := f.GetString(flags.FlagGasPrices)
	adj, _ := f.GetFloat64(flags.FlagGasAdjustment)
	timeout, _ := f.GetDuration(flagTxTimeout)
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := range keys {
		name := fmt.Sprintf("%s%d", prefix, i+1)
		rec, err := cctx.Keyring.Key(name)
		if err != nil {
			return fmt.Errorf("key %s (--%s %s, --%s %d): %w", name, flagAnnFromPrefix, prefix, flagAnnKeys, keys, err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			return err
		}
		c, err := worker.NewClient(ctx, cctx.WithFrom(name).WithFromName(name).WithFromAddress(addr),
			worker.ClientConfig{GasAdjustment: adj, GasPrices: prices, TxTimeout: timeout}, log)
		if err != nil {
			return err
		}
		a := &simAnnotator{index: i, name: name, addr: addr, c: c, path: filepath.Join(dir, name+".json"),
			state: simState{Job: id, Address: addr.String()}}
		if bz, err := os.ReadFile(a.path); err == nil {
			if err := json.Unmarshal(bz, &a.state); err != nil {
				return fmt.Errorf("%s: %w", a.path, err)
			}
			if a.state.Job != id || a.state.Address != addr.String() {
				return fmt.Errorf("%s belongs to job %d and %s, not job %d and %s", a.path, a.state.Job, a.state.Address, id, addr)
			}
		}
		if a.start, err = c.Balance(ctx, addr.String(), s.job.PayPerLabel.Denom); err != nil {
			return err
		}
		s.members = append(s.members, a)
		fmt.Fprintf(s.out, "%-12s %-16s %s\n", name, s.crowd.Annotators[i].Kind, addr)
	}
	fmt.Fprintf(s.out, "job %d: %d items in %d groups of %d, r = %d, label deadline %s; labels and salts in %s\n",
		id, s.job.Items.Rows, s.job.Groups, s.job.BatchSize, s.job.Redundancy, s.job.LabelDeadline.Format(time.RFC3339), dir)

	errs := make([]error, len(s.members))
	var wg sync.WaitGroup
	for i, a := range s.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = s.run(ctx, a); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", a.name, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	job, err := s.waitJob(ctx, "the job to settle", func(j types.Job) bool {
		return j.Status == types.JOB_STATUS_SETTLED || j.Status == types.JOB_STATUS_CANCELLED
	}, s.job.GoldDeadline.Add(5*time.Minute))
	if err != nil {
		return err
	}
	results, err := s.results(ctx, job)
	if err != nil {
		return err
	}
	if o, _ := f.GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(results)
	}
	printSimResults(cmd.OutOrStdout(), job, results)
	return nil
}

// run is one annotator's whole part: claim and seal, then open.
func (s *simulation) run(ctx context.Context, a *simAnnotator) error {
	// The chain is the record of what this annotator holds: every round
	// re-reads its batches and seals those still claimed (also those claimed
	// before a restart, or by a transaction that landed after its sender
	// gave up on it), together with the next claim.
	stop, failures := false, 0
	for {
		job, err := s.jobNow(ctx)
		if err != nil {
			return err
		}
		if job.Status != types.JOB_STATUS_LABELLING || !time.Now().Before(job.LabelDeadline) {
			break
		}
		mine, err := s.myBatches(ctx, a)
		if err != nil {
			return err
		}
		var msgs []sdk.Msg
		for _, b := range mine {
			if b.Status != types.BATCH_STATUS_CLAIMED {
				continue
			}
			sb, err := s.labelBatch(a, b.Group)
			if err != nil {
				return err
			}
			msgs = append(msgs, &types.MsgSealLabels{Annotator: a.addr.String(), JobId: job.Id, Group: sb.Group,
				Seal: types.LabelsSeal(job.Id, sb.Group, a.addr, sb.Salt, sb.Labels)})
		}
		claim := !stop && time.Until(job.LabelDeadline) > s.margin
		if claim {
			msgs = append(msgs, &types.MsgClaimBatch{Annotator: a.addr.String(), JobId: job.Id})
		}
		if len(msgs) == 0 {
			break
		}
		if _, err := a.c.Submit(ctx, msgs...); err != nil {
			// A failed transaction changed nothing; the next round
			// re-reads the chain and seals again, alone once claiming
			// has stopped.
			switch {
			case claim && strings.Contains(err.Error(), types.ErrNoBatchLeft.Error()):
				stop = true // the crowd's claims race: the last groups went to others
			case failures < maxRetries: // e.g. out of gas: claims in one block cost more than simulated
				failures++
				if err := sleepCtx(ctx, pollEvery); err != nil {
					return err
				}
			case claim:
				fmt.Fprintf(s.out, "%s stops claiming: %v\n", a.name, err)
				stop, failures = true, 0
			default:
				return err
			}
			continue
		}
		failures = 0
	}
	held, err := s.myBatches(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%-12s %-16s holds %d batches\n", a.name, s.crowd.Annotators[a.index].Kind, len(held))

	job, err := s.waitJob(ctx, "the label deadline", func(j types.Job) bool { return j.Status != types.JOB_STATUS_LABELLING },
		s.job.LabelDeadline.Add(5*time.Minute))
	if err != nil || job.Status != types.JOB_STATUS_OPENING {
		return err
	}
	mine, err := s.myBatches(ctx, a)
	if err != nil {
		return err
	}
	var msgs []sdk.Msg
	for _, b := range mine {
		if b.Status != types.BATCH_STATUS_SEALED {
			continue
		}
		s.mu.Lock()
		sb := a.state.batch(b.Group)
		s.mu.Unlock()
		if sb == nil {
			fmt.Fprintf(s.out, "%s: no labels or salt kept for group %d: it cannot be opened and will be forfeited\n", a.name, b.Group)
			continue
		}
		msgs = append(msgs, &types.MsgOpenLabels{Annotator: a.addr.String(), JobId: job.Id, Group: b.Group, Labels: sb.Labels, Salt: sb.Salt})
	}
	if len(msgs) == 0 {
		return nil
	}
	res, err := a.c.Submit(ctx, msgs...)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%-12s %-16s opened %d batches (tx %s, gas %d)\n", a.name, s.crowd.Annotators[a.index].Kind, len(msgs), res.Hash[:16], res.GasUsed)
	return nil
}

// labelBatch labels a group (or returns the labels kept for it) and keeps
// labels and salt on disk before anything is sealed.
func (s *simulation) labelBatch(a *simAnnotator, group uint32) (*simBatch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := a.state.batch(group); b != nil {
		return b, nil
	}
	items := types.GroupItems(s.job.Seed, s.job.Items.Rows, s.job.BatchSize, group)
	labels, err := s.answer(a.index, group, items)
	if err != nil {
		return nil, err
	}
	salt, err := randomSalt()
	if err != nil {
		return nil, err
	}
	a.state.Batches = append(a.state.Batches, simBatch{Group: group, Labels: labels, Salt: salt})
	bz, err := json.Marshal(a.state)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(a.path, bz, 0o600); err != nil {
		return nil, err
	}
	return a.state.batch(group), nil
}

// answer is annotator a's labels for a group's items: drawn from its
// confusion matrix by pkg/annotation/crowd, seeded by the crowd seed, the job,
// the group and the annotator. A copier takes its source's labels when the
// source has labelled the same group (s.mu held), else answers at random.
func (s *simulation) answer(a int, group uint32, items []uint32) ([]byte, error) {
	ann := s.crowd.Annotators[a]
	if ann.Kind == crowd.Copier {
		if src := s.members[ann.CopyOf].state.batch(group); src != nil {
			return slices.Clone(src.Labels), nil
		}
		ann = s.uniform
	}
	truth := make([]uint32, len(items))
	for i, it := range items {
		truth[i] = s.truth[it]
	}
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], s.seed)
	binary.BigEndian.PutUint64(b[8:16], s.job.Id)
	binary.BigEndian.PutUint32(b[16:20], group)
	binary.BigEndian.PutUint32(b[20:], uint32(a))
	h := sha256.Sum256(b[:])
	one := crowd.Crowd{K: s.crowd.K, Annotators: []crowd.Annotator{ann}}
	ls, err := one.Label(binary.BigEndian.Uint64(h[:8]), truth, 1, uint32(len(truth)))
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(items))
	for _, l := range ls {
		out[l.Item] = byte(l.Value)
	}
	return out, nil
}

func (s *simulation) jobNow(ctx context.Context) (types.Job, error) {
	res, err := s.q.Job(ctx, &types.QueryJobRequest{Id: s.job.Id})
	if err != nil {
		return types.Job{}, err
	}
	return res.Job, nil
}

// waitJob polls the job until done holds, at most until the give-up time.
func (s *simulation) waitJob(ctx context.Context, what string, done func(types.Job) bool, giveUp time.Time) (types.Job, error) {
	for {
		job, err := s.jobNow(ctx)
		if err == nil && done(job) {
			return job, nil
		}
		if time.Now().After(giveUp) {
			return job, fmt.Errorf("job %d: gave up waiting for %s (status %s, last error %v)", s.job.Id, what, job.Status, err)
		}
		if err := sleepCtx(ctx, pollEvery); err != nil {
			return job, err
		}
	}
}

// jobBatches lists every batch of a job, all pages.
func jobBatches(ctx context.Context, q types.QueryClient, id uint64) ([]types.Batch, error) {
	var out []types.Batch
	for {
		res, err := q.Batches(ctx, &types.QueryBatchesRequest{JobId: id, Pagination: &query.PageRequest{Offset: uint64(len(out)), Limit: 1000}})
		if err != nil {
			return nil, fmt.Errorf("query batches of job %d: %w", id, err)
		}
		out = append(out, res.Batches...)
		if len(res.Batches) == 0 || res.Pagination == nil || uint64(len(out)) >= res.Pagination.Total {
			return out, nil
		}
	}
}

func (s *simulation) myBatches(ctx context.Context, a *simAnnotator) ([]types.Batch, error) {
	all, err := jobBatches(ctx, s.q, s.job.Id)
	if err != nil {
		return nil, err
	}
	var out []types.Batch
	for _, b := range all {
		if b.Annotator == a.addr.String() {
			out = append(out, b)
		}
	}
	return out, nil
}

// simResult is one annotator's outcome on the settled job.
type simResult struct {
	Key           string `json:"key"`
	Kind          string `json:"kind"`
	Address       string `json:"address"`
	Batches       int    `json:"batches"`
	Labels        int    `json:"labels"`
	GoldSeen      uint32 `json:"gold_seen"`
	GoldCorrect   uint32 `json:"gold_correct"`
	Accepted      uint32 `json:"accepted"`
	Paid          string `json:"paid"`
	StakeLost     string `json:"stake_lost"`
	Status        string `json:"status"`
	BalanceChange string `json:"balance_change"`
}

func (s *simulation) results(ctx context.Context, job types.Job) ([]simResult, error) {
	all, err := jobBatches(ctx, s.q, job.Id)
	if err != nil {
		return nil, err
	}
	denom := job.PayPerLabel.Denom
	out := make([]simResult, 0, len(s.members))
	for _, a := range s.members {
		r := simResult{Key: a.name, Kind: s.crowd.Annotators[a.index].Kind.String(), Address: a.addr.String()}
		paid, lost := sdkmath.ZeroInt(), sdkmath.ZeroInt()
		var slashed, forfeited int
		for _, b := range all {
			if b.Annotator != r.Address {
				continue
			}
			r.Batches++
			r.Labels += len(b.Labels)
			r.GoldSeen += b.GoldSeen
			r.GoldCorrect += b.GoldCorrect
			r.Accepted += b.Accepted
			paid = paid.Add(b.Paid.Amount)
			switch b.Status {
			case types.BATCH_STATUS_SLASHED:
				slashed++
				lost = lost.Add(b.Stake.Amount)
			case types.BATCH_STATUS_FORFEITED:
				forfeited++
				lost = lost.Add(b.Stake.Amount)
			}
		}
		switch {
		case r.Batches == 0:
			r.Status = "idle"
		case slashed > 0:
			r.Status = "slashed"
		case forfeited > 0:
			r.Status = fmt.Sprintf("forfeited %d", forfeited)
		case job.Status == types.JOB_STATUS_SETTLED:
			r.Status = "paid"
		default:
			r.Status = strings.ToLower(strings.TrimPrefix(job.Status.String(), "JOB_STATUS_"))
		}
		r.Paid, r.StakeLost = paid.String()+denom, lost.String()+denom
		end, err := a.c.Balance(ctx, r.Address, denom)
		if err != nil {
			return nil, err
		}
		r.BalanceChange = end.Amount.Sub(a.start.Amount).String() + denom
		out = append(out, r)
	}
	return out, nil
}

func printSimResults(w io.Writer, job types.Job, rs []simResult) {
	fmt.Fprintf(w, "job %d %s: %d labels accepted, %d annotators slashed, labels hash %X\n", job.Id, job.Status,
		job.LabelsAccepted, job.AnnotatorsSlashed, job.LabelsHash)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "annotator\tkind\tbatches\tlabels\tgold\tgold acc\taccepted\tpaid\tstake lost\tbalance change\tstatus\t")
	for _, r := range rs {
		acc := "-"
		if r.GoldSeen > 0 {
			acc = fmt.Sprintf("%.1f%%", 100*float64(r.GoldCorrect)/float64(r.GoldSeen))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d/%d\t%s\t%d\t%s\t%s\t%s\t%s\t\n", r.Key, r.Kind, r.Batches, r.Labels,
			r.GoldCorrect, r.GoldSeen, acc, r.Accepted, r.Paid, r.StakeLost, r.BalanceChange, r.Status)
	}
	_ = tw.Flush()
}

// ---------------------------------------------------------------------------
// annotate accuracy.
// ---------------------------------------------------------------------------

// labelAccuracy compares a settled job's labels with the items' own.
type labelAccuracy struct {
	Job              uint64  `json:"job"`
	Items            int     `json:"items"`
	Correct          int     `json:"correct"`
	Accuracy         float64 `json:"accuracy"`
	NonGoldItems     int     `json:"non_gold_items"`
	NonGoldCorrect   int     `json:"non_gold_correct"`
	NonGoldAccuracy  float64 `json:"non_gold_accuracy"`
	OpenedLabels     int     `json:"opened_labels"`
	MajorityCorrect  int     `json:"majority_vote_correct"`
	MajorityAccuracy float64 `json:"majority_vote_accuracy"`
}

func annotateAccuracyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accuracy --job ID --items FILE",
		Short: "Compare a settled job's aggregated labels with the items file's own labels",
		Long: `Compare a settled job's aggregated labels (q annotation labels) with the labels of
the items file (for tests and demos, where the items' true labels are known): on all
items, on the items outside the gold set (whose labels the chain takes from the gold
set), and, for comparison, a plain majority vote of every opened label (spammers
included, ties to the lowest class).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cctx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, _ := cmd.Flags().GetUint64(flagAnnJob)
			path, _ := cmd.Flags().GetString(flagAnnItems)
			if id == 0 || path == "" {
				return fmt.Errorf("give --%s and --%s", flagAnnJob, flagAnnItems)
			}
			file, err := dataset.Open(path)
			if err != nil {
				return err
			}
			truth, err := itemTruth(file)
			if err != nil {
				return err
			}
			a, err := jobAccuracy(cmd.Context(), types.NewQueryClient(cctx), id, file.Root(), truth)
			if err != nil {
				return err
			}
			if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(a)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "job %d: aggregated labels against the items' own labels\n", id)
			fmt.Fprintf(w, "  all items            %d/%d (%.2f%%)\n", a.Correct, a.Items, 100*a.Accuracy)
			fmt.Fprintf(w, "  outside the gold set %d/%d (%.2f%%)\n", a.NonGoldCorrect, a.NonGoldItems, 100*a.NonGoldAccuracy)
			fmt.Fprintf(w, "  majority vote of the %d opened labels, for comparison: %d/%d (%.2f%%)\n",
				a.OpenedLabels, a.MajorityCorrect, a.Items, 100*a.MajorityAccuracy)
			return nil
		},
	}
	cmd.Flags().Uint64(flagAnnJob, 0, "Job id (settled)")
	cmd.Flags().String(flagAnnItems, "", "The job's items file")
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

func jobAccuracy(ctx context.Context, q types.QueryClient, id uint64, root []byte, truth []uint32) (labelAccuracy, error) {
	a := labelAccuracy{Job: id, Items: len(truth)}
	res, err := q.Job(ctx, &types.QueryJobRequest{Id: id})
	if err != nil {
		return a, err
	}
	job := res.Job
	if !bytes.Equal(job.Items.Root, root) {
		return a, fmt.Errorf("the items file has root %X, job %d's items %X", root, id, job.Items.Root)
	}
	var labels []uint32
	for uint64(len(labels)) < job.Items.Rows {
		res, err := q.Labels(ctx, &types.QueryLabelsRequest{JobId: id, Offset: uint32(len(labels)), Limit: 1000})
		if err != nil {
			return a, err
		}
		if len(res.Labels) == 0 {
			return a, fmt.Errorf("job %d: %d of %d labels", id, len(labels), job.Items.Rows)
		}
		labels = append(labels, res.Labels...)
	}
	isGold := make([]bool, len(truth))
	if job.GoldRevealed {
		g, err := q.Gold(ctx, &types.QueryGoldRequest{JobId: id})
		if err != nil {
			return a, err
		}
		for _, it := range g.Gold {
			isGold[it.Item] = true
		}
	}
	batches, err := jobBatches(ctx, q, id)
	if err != nil {
		return a, err
	}
	votes := make([][]uint32, len(truth))
	for _, b := range batches {
		if len(b.Labels) == 0 {
			continue
		}
		for j, it := range types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, b.Group) {
			if votes[it] == nil {
				votes[it] = make([]uint32, job.Classes)
			}
			votes[it][b.Labels[j]]++
			a.OpenedLabels++
		}
	}
	for i, t := range truth {
		if labels[i] == t {
			a.Correct++
		}
		if !isGold[i] {
			a.NonGoldItems++
			if labels[i] == t {
				a.NonGoldCorrect++
			}
		}
		if votes[i] != nil && uint32(slices.Index(votes[i], slices.Max(votes[i]))) == t {
			a.MajorityCorrect++
		}
	}
	ratio := func(n, d int) float64 { return float64(n) / float64(max(d, 1)) }
	a.Accuracy, a.NonGoldAccuracy, a.MajorityAccuracy = ratio(a.Correct, a.Items), ratio(a.NonGoldCorrect, a.NonGoldItems), ratio(a.MajorityCorrect, a.Items)
	return a, nil
}
