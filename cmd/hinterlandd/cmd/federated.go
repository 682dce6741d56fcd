package cmd

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/worker"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

const (
	flagLocalSteps        = "local-steps"
	flagShards            = "shards"
	flagRounds            = "rounds"
	flagMinParticipants   = "min-participants"
	flagMaxParticipants   = "max-participants"
	flagChunkSamples      = "chunk-samples"
	flagPayPerUpdate      = "pay-per-update"
	flagPayPerAggregation = "pay-per-aggregation"
	flagBudget            = "budget"
	flagTrainWindow       = "train-window"
	flagRevealWindow      = "reveal-window"
	flagFraudWindow       = "fraud-window"
	flagInitialModel      = "initial-model"
	flagInitialModelURI   = "initial-model-uri"
	flagParticipants      = "participants"
	flagClassesPer        = "classes-per"
	flagSplitSeed         = "seed"
	flagTest              = "test"
)

// A federated preset's local schedule unless --local-steps and
// --segment-steps say otherwise: 100 local steps (about one epoch of a
// 3,000-row shard at batch 32) in 50 segments of 2, so that 2 sampled
// segments recompute 4% of each update.
const (
	federatedLocalSteps   = 100
	federatedSegmentSteps = 2
)

// federatedTxCmd is `tx federated`; AutoCLI adds the other messages to it.
func federatedTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        fedtypes.ModuleName,
		Short:                      "Transactions of federated jobs",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(federatedPostCmd())
	return cmd
}

func federatedPostCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "post (--spec FILE | --preset NAME) (--dataset FILE | --schema S) --rounds R --max-participants N --pay-per-update COIN --pay-per-aggregation COIN --bond COIN",
		Short: "Post a federated job: R rounds of local training and verified FedAvg; escrows its budget",
		Long: `Post a federated job. The local training of one participant in one round is a
TrainingSpec (--spec FILE, proto JSON) or a preset (mnist-softmax, mnist-softmax-adam,
mnist-mlp), with --local-steps steps in segments of --segment-steps (preset default
100 in 50 segments of 2).

Data: public shards of a packed dataset (--dataset FILE, or --dataset-root, --rows
and --schema, fetched from --dataset-uri; --shards contiguous index ranges,
default --max-participants: pack the file with 'hinterlandd federated split' for a
non-IID split), or, with --shards 0, bring your own data: --schema only (or the
schema of --dataset), each participant commits its own dataset root when it joins.

Round 0 starts from a seed-derived model unless --initial-model FILE (an engine
model or state encoding, served at --initial-model-uri, default file://<abs path>).

Verification: --samples segments of every update are recomputed by the chain and
--chunk-samples parameter chunks of every aggregate; --fraud-window lets anyone
challenge another chunk. The budget escrowed (--budget, default exactly enough)
covers rounds x (max participants x pay per update + pay per aggregation).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			msg, err := buildPostFederated(cmd, client.GetClientContextFromCmd(cmd))
			if err != nil {
				return err
			}
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return fmt.Errorf("--%s: %w", flags.FlagFrom, err)
			}
			msg.Requester = cctx.GetFromAddress().String()
			if !cctx.Offline && !cctx.GenerateOnly && msg.Shards > 0 {
				if err := checkRevealable(cmd, cctx, &taskstypes.MsgPostTask{Spec: msg.Spec, Dataset: msg.Dataset}); err != nil {
					return err
				}
			}
			n := msg.Spec.Segments()
			fmt.Fprintf(cmd.ErrOrStderr(), "federated job: %d rounds, %d-%d participants, %d local steps in %d segments; the chain recomputes %d of %d segments of each update (%.1f%%) and %d parameter chunks of each aggregate; budget %s\n",
				msg.Rounds, msg.MinParticipants, msg.MaxParticipants, msg.Spec.TotalSteps, n, msg.SamplesPerUpdate, n,
				100*float64(msg.SamplesPerUpdate)/float64(max(n, 1)), msg.ChunkSamples, msg.Budget)
			return tx.GenerateOrBroadcastTxCLI(cctx, cmd.Flags(), msg)
		},
	}
	f := cmd.Flags()
	f.String(flagSpec, "", "TrainingSpec file of one round's local training (proto JSON)")
	f.String(flagPreset, "", "Standard spec: mnist-softmax, mnist-softmax-adam or mnist-mlp")
	f.Uint64(flagLocalSteps, 0, fmt.Sprintf("Local steps of each participant per round (preset default %d)", federatedLocalSteps))
	f.Uint64(flagSegmentSteps, 0, fmt.Sprintf("Steps between checkpoints (preset default %d)", federatedSegmentSteps))
	f.String(flagDataset, "", "Packed dataset file (reads root, rows and schema)")
	f.String(flagDatasetRoot, "", "Dataset Merkle root (hex), without --dataset")
	f.Uint64(flagRows, 0, "Dataset rows, without --dataset")
	f.String(flagSchema, "", "Row schema (e.g. kind=classification,feature=uint8,features=784,classes=10): without --dataset, or alone with --shards 0")
	f.String(flagDatasetURI, "", "Where participants fetch the dataset (default file://<abs path of --dataset>)")
	f.Int64(flagShards, -1, "Public shards of the dataset (default --max-participants; 0: participants bring their own data)")
	f.Uint32(flagRounds, 5, "Rounds")
	f.Uint32(flagMinParticipants, 1, "Sealed updates a round needs to go on")
	f.Uint32(flagMaxParticipants, 4, "Participants per round")
	f.Uint32(flagSamples, 2, "Segments of each update the chain recomputes")
	f.Uint32(flagChunkSamples, 4, "Parameter chunks of each aggregate the chain recomputes")
	f.String(flagPayPerUpdate, "", "Pay per accepted update (e.g. 10000uhint)")
	f.String(flagPayPerAggregation, "", "Pay per verified aggregate (e.g. 5000uhint)")
	f.String(flagBond, "", "Bond each participant locks per round (e.g. 50000uhint)")
	f.String(flagBudget, "", "Escrow (default rounds x (max participants x pay per update + pay per aggregation))")
	f.Duration(flagTrainWindow, 2*time.Minute, "Time to join, train and seal in each round")
	f.Duration(flagRevealWindow, time.Minute, "Time of each later phase: open, reveal, aggregate, chunk reveals")
	f.Duration(flagFraudWindow, 30*time.Second, "Time anyone may challenge an aggregate chunk")
	f.String(flagInitialModel, "", "Start round 0 from this model (engine model or state encoding) instead of a seed-derived one")
	f.String(flagInitialModelURI, "", "Where participants fetch --initial-model (default file://<abs path>)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// buildPostFederated builds MsgPostJob from the flags (without the requester).
func buildPostFederated(cmd *cobra.Command, cctx client.Context) (*fedtypes.MsgPostJob, error) {
	f := cmd.Flags()
	spec, es, err := specFromFlags(cmd, cctx, flagLocalSteps, federatedLocalSteps, federatedSegmentSteps)
	if err != nil {
		return nil, err
	}
	msg := &fedtypes.MsgPostJob{Spec: spec}
	msg.Rounds, _ = f.GetUint32(flagRounds)
	msg.MinParticipants, _ = f.GetUint32(flagMinParticipants)
	msg.MaxParticipants, _ = f.GetUint32(flagMaxParticipants)
	msg.SamplesPerUpdate, _ = f.GetUint32(flagSamples)
	msg.ChunkSamples, _ = f.GetUint32(flagChunkSamples)
	shards, _ := f.GetInt64(flagShards)
	switch {
	case shards < 0:
		msg.Shards = msg.MaxParticipants
	case shards > int64(^uint32(0)):
		return nil, fmt.Errorf("--%s %d is too large", flagShards, shards)
	default:
		msg.Shards = uint32(shards)
	}
	if msg.Shards > 0 {
		if msg.Dataset, err = datasetRef(cmd); err != nil {
			return nil, err
		}
	} else if msg.Dataset.Schema, err = byodSchema(cmd); err != nil {
		return nil, err
	}
	ds, err := msg.Dataset.Schema.DatasetSchema()
	if err != nil {
		return nil, err
	}
	if err := ds.Compatible(es); err != nil {
		return nil, fmt.Errorf("dataset does not fit the spec: %w", err)
	}
	for _, c := range []struct {
		flag string
		dst  *sdk.Coin
	}{{flagPayPerUpdate, &msg.PayPerUpdate}, {flagPayPerAggregation, &msg.PayPerAggregation}, {flagBond, &msg.Bond}} {
		s, _ := f.GetString(c.flag)
		if *c.dst, err = sdk.ParseCoinNormalized(s); err != nil {
			return nil, fmt.Errorf("--%s %q: %w", c.flag, s, err)
		}
	}
	if b, _ := f.GetString(flagBudget); b != "" {
		if msg.Budget, err = sdk.ParseCoinNormalized(b); err != nil {
			return nil, fmt.Errorf("--%s %q: %w", flagBudget, b, err)
		}
	} else {
		perRound := msg.PayPerUpdate.Amount.MulRaw(int64(msg.MaxParticipants)).Add(msg.PayPerAggregation.Amount)
		msg.Budget = sdk.NewCoin(msg.PayPerUpdate.Denom, perRound.Mul(sdkmath.NewInt(int64(msg.Rounds))))
	}
	msg.TrainWindow, _ = f.GetDuration(flagTrainWindow)
	msg.RevealWindow, _ = f.GetDuration(flagRevealWindow)
	msg.FraudWindow, _ = f.GetDuration(flagFraudWindow)
	if path, _ := f.GetString(flagInitialModel); path != "" {
		if msg.InitialModelHash, msg.InitialModelUri, err = initialModel(cmd, es, path); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// byodSchema is the row schema of a bring-your-own-data job: --schema, or
// the schema of --dataset.
func byodSchema(cmd *cobra.Command) (taskstypes.RowSchema, error) {
	f := cmd.Flags()
	text, _ := f.GetString(flagSchema)
	path, _ := f.GetString(flagDataset)
	switch {
	case text != "" && path != "":
		return taskstypes.RowSchema{}, fmt.Errorf("give --%s or --%s with --%s 0, not both", flagSchema, flagDataset, flagShards)
	case text != "":
		s, err := worker.ParseSchema(text)
		return taskstypes.FromDatasetSchema(s), err
	case path != "":
		file, err := dataset.Open(path)
		if err != nil {
			return taskstypes.RowSchema{}, err
		}
		return taskstypes.FromDatasetSchema(file.Schema()), nil
	}
	return taskstypes.RowSchema{}, fmt.Errorf("with --%s 0 participants bring their own data: give the row --%s", flagShards, flagSchema)
}

// initialModel reads a start model file: its model hash and URI.
func initialModel(cmd *cobra.Command, es engine.Spec, path string) ([]byte, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var h engine.Hash
	if st, err := engine.DecodeState(es, b); err == nil {
		h = st.ModelHash()
	} else if m, merr := engine.DecodeModel(b); merr == nil && !es.IsLoRA() && m.Arch.Equal(es.Arch()) {
		h = m.Hash()
	} else {
		return nil, "", fmt.Errorf("--%s %s: neither a state nor a model of the spec: %w", flagInitialModel, path, err)
	}
	uri, _ := cmd.Flags().GetString(flagInitialModelURI)
	if uri == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, "", err
		}
		uri = "file://" + abs
	}
	return h[:], uri, nil
}

// federatedCmd is `hinterlandd federated`: off-chain helpers of federated jobs.
func federatedCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "federated",
		Short: "Prepare data for federated jobs and measure their global models",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(federatedSplitCmd(), federatedAccuracyCmd())
	return cmd
}

func federatedSplitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "split IN.hlds -o OUT.hlds --participants N --classes-per K",
		Short: "Reorder a classification dataset into a non-IID split (each participant's shard holds K classes)",
		Long: `Reorder the rows of a packed classification dataset the way McMahan et al. 2017
split MNIST (pkg/federated NonIID): sorted by label, cut into N x K pieces, K pieces
per participant chosen by a seeded shuffle. Participant p's rows are then exactly
the public shard p of N of the output (post the job with --shards N). Prints the
output's root and each shard's label counts.`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			out, _ := fl.GetString(flagOut)
			n, _ := fl.GetUint32(flagParticipants)
			k, _ := fl.GetUint32(flagClassesPer)
			seed, _ := fl.GetUint64(flagSplitSeed)
			if out == "" {
				return errors.New("give the output file with -o")
			}
			in, err := dataset.Open(args[0])
			if err != nil {
				return err
			}
			split, err := federated.NonIIDFile(in, n, k, seed)
			if err != nil {
				return err
			}
			if err := writePacked(out, split); err != nil {
				return err
			}
			info, err := describe(out, split)
			if err != nil {
				return err
			}
			shards := make([][]uint64, n)
			for p := range n {
				lo, hi, err := federated.ShardRange(split.Len(), n, p)
				if err != nil {
					return err
				}
				shards[p] = make([]uint64, split.Schema().Classes)
				for i := lo; i < hi; i++ {
					r, err := split.Row(i)
					if err != nil {
						return err
					}
					shards[p][r.Label]++
				}
			}
			if o, _ := fl.GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					datasetInfo
					Shards [][]uint64 `json:"shards"`
				}{info, shards})
			}
			if err := printInfo(cmd, info); err != nil {
				return err
			}
			for p, c := range shards {
				fmt.Fprintf(cmd.OutOrStdout(), "shard %d labels: %v\n", p, c)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringP(flagOut, "o", "", "Output file (.hlds)")
	f.Uint32(flagParticipants, 10, "Participants (= public shards of the job)")
	f.Uint32(flagClassesPer, 2, "Pieces (about classes) per participant")
	f.Uint64(flagSplitSeed, 1, "Seed of the shuffle of pieces")
	f.String(flags.FlagOutput, "text", "Output format (text|json)")
	return cmd
}

// fedRoundAccuracy is one line of `federated accuracy`.
type fedRoundAccuracy struct {
	Round          uint32  `json:"round"`
	Phase          string  `json:"phase"`
	Accepted       uint32  `json:"accepted"`
	Rejected       uint32  `json:"rejected"`
	Stragglers     uint32  `json:"stragglers"`
	MeanLoss       float64 `json:"mean_loss"`
	GlobalModel    string  `json:"global_model,omitempty"`
	Accuracy       float64 `json:"accuracy"` // of the round's aggregate; -1 when there is none
	TestLoss       float64 `json:"test_loss"`
	ChunksVerified int     `json:"chunks_verified"`
	RecomputedMACs uint64  `json:"recomputed_macs"`
	AggregationOps uint64  `json:"aggregation_ops"`
	TrainingMACs   uint64  `json:"training_macs"`
	ChainShare     float64 `json:"chain_share"`
}

// fedJobAccuracy is the output of `federated accuracy`.
type fedJobAccuracy struct {
	Job             uint64             `json:"job"`
	Status          string             `json:"status"`
	Test            string             `json:"test"`
	Rows            uint64             `json:"rows"`
	InitialAccuracy float64            `json:"initial_accuracy"`
	Rounds          []fedRoundAccuracy `json:"rounds"`
	RecomputedMACs  uint64             `json:"recomputed_macs"`
	AggregationOps  uint64             `json:"aggregation_ops"`
	TrainingMACs    uint64             `json:"training_macs"`
	ChainShare      float64            `json:"chain_share"`
}

func federatedAccuracyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accuracy --job ID --test FILE [--work-dir DIR]...",
		Short: "Evaluate every round's global model of a federated job on a test set; show the chain's share of the compute",
		Long: `Evaluate the global model each round of a federated job produced (and the start
model of round 0) on every row of a packed test set (e.g. MNIST t10k), with the
job's objective and the engine's forward pass. The models come from workers' work
dirs (--work-dir, repeatable: federated/<job>/global/) or from the URI each
aggregator committed, checked against the chain's hash either way.

It also prints the chain's share of the compute: per round and in total, the MACs
of the segments the chain recomputed plus the multiply-adds of the aggregate chunks
it recomputed, over the training MACs of the accepted updates.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			id, _ := fl.GetUint64(flagJob)
			test, _ := fl.GetString(flagTest)
			dirs, _ := fl.GetStringSlice(flagWorkDir)
			if id == 0 && !fl.Changed(flagJob) || test == "" {
				return fmt.Errorf("give --%s and --%s", flagJob, flagTest)
			}
			cctx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			res, err := federatedAccuracy(cmd, cctx, id, test, dirs)
			if err != nil {
				return err
			}
			if o, _ := fl.GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			printAccuracy(cmd, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64(flagJob, 0, "Federated job id")
	f.String(flagTest, "", "Packed test dataset (e.g. MNIST t10k)")
	f.StringSlice(flagWorkDir, nil, "Worker work dirs to read the global models from (repeatable)")
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

func federatedAccuracy(cmd *cobra.Command, cctx client.Context, id uint64, test string, dirs []string) (fedJobAccuracy, error) {
	ctx := cmd.Context()
	q := fedtypes.NewQueryClient(cctx)
	jr, err := q.Job(ctx, &fedtypes.QueryJobRequest{Id: id})
	if err != nil {
		return fedJobAccuracy{}, fmt.Errorf("federated job %d: %w", id, err)
	}
	job := jr.Job
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return fedJobAccuracy{}, err
	}
	f, err := dataset.Open(test)
	if err != nil {
		return fedJobAccuracy{}, err
	}
	if err := f.Schema().Compatible(es); err != nil {
		return fedJobAccuracy{}, fmt.Errorf("test set: %w", err)
	}
	src, err := f.Source(es.FracBits)
	if err != nil {
		return fedJobAccuracy{}, err
	}
	idx := make([]uint64, f.Len())
	for i := range idx {
		idx[i] = uint64(i)
	}
	var seed [32]byte
	copy(seed[:], job.Seed)
	ej := engine.Job{Spec: es, Seed: seed, RowCount: 1}
	if es.IsLoRA() {
		for _, d := range dirs {
			if ej.Base, err = worker.ReadModel(filepath.Join(d, "models"), job.Spec.BaseModelHash); err == nil {
				break
			}
		}
		if ej.Base == nil {
			return fedJobAccuracy{}, fmt.Errorf("LoRA job %d: its base model %X is in none of the work dirs' models/", id, job.Spec.BaseModelHash)
		}
	}
	var base engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	// model finds a global model by hash: a work dir, the URI, or (round 0)
	// the job's seed.
	model := func(hash []byte, uri string) (*engine.State, error) {
		for _, d := range dirs {
			if st, err := worker.LoadGlobal(filepath.Join(d, "federated"), id, es, hash); err == nil {
				return st, nil
			}
		}
		if uri != "" {
			b, err := worker.Fetch(ctx, uri, int64(engine.EncodedStateSize(es))+4096)
			if err != nil {
				return nil, err
			}
			params, err := worker.ModelParams(es, b, hash)
			if err != nil {
				return nil, err
			}
			return engine.StateFromParams(es, base, params)
		}
		if len(job.InitialModelHash) == 0 {
			st, err := engine.NewInitialState(ej)
			if err != nil {
				return nil, err
			}
			if h := st.ModelHash(); bytes.Equal(h[:], hash) {
				return st, nil
			}
		}
		return nil, fmt.Errorf("model %X is in no work dir and has no URI", hash)
	}
	eval := func(st *engine.State) (engine.EvalResult, error) { return engine.Evaluate(ej, st, src, idx) }
	rounds, err := worker.FederatedRounds(ctx, q, id)
	if err != nil {
		return fedJobAccuracy{}, err
	}
	one := float64(uint64(1) << es.FracBits)
	out := fedJobAccuracy{Job: id, Status: job.Status.String(), Test: test, Rows: f.Len(), InitialAccuracy: -1}
	if len(rounds) > 0 {
		uri := job.InitialModelUri
		if st, err := model(rounds[0].StartModelHash, uri); err == nil {
			if ev, err := eval(st); err == nil {
				out.InitialAccuracy = float64(ev.Correct) / float64(max(ev.Count, 1))
			}
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "round 0 start model: %v\n", err)
		}
	}
	for _, r := range rounds {
		ra := fedRoundAccuracy{Round: r.Round, Phase: r.Phase.String(), Accepted: r.Accepted, Rejected: r.Rejected, Stragglers: r.Stragglers,
			MeanLoss: float64(r.MeanLoss) / one, Accuracy: -1, ChunksVerified: len(r.Aggregate.Verified),
			RecomputedMACs: r.RecomputedMacs, AggregationOps: r.AggregationOps, TrainingMACs: r.TrainingMacs}
		if r.TrainingMacs > 0 {
			ra.ChainShare = float64(r.RecomputedMacs+r.AggregationOps) / float64(r.TrainingMacs)
		}
		if r.Phase == fedtypes.ROUND_PHASE_FINAL {
			ra.GlobalModel = hex.EncodeToString(r.Aggregate.ModelHash)
			st, err := model(r.Aggregate.ModelHash, r.Aggregate.Uri)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "round %d global model: %v\n", r.Round, err)
			} else if ev, err := eval(st); err != nil {
				return out, fmt.Errorf("round %d: evaluating: %w", r.Round, err)
			} else {
				ra.Accuracy = float64(ev.Correct) / float64(max(ev.Count, 1))
				ra.TestLoss = float64(ev.Loss) / one
			}
		}
		out.RecomputedMACs += r.RecomputedMacs
		out.AggregationOps += r.AggregationOps
		out.TrainingMACs += r.TrainingMacs
		out.Rounds = append(out.Rounds, ra)
	}
	if out.TrainingMACs > 0 {
		out.ChainShare = float64(out.RecomputedMACs+out.AggregationOps) / float64(out.TrainingMACs)
	}
	return out, nil
}

func printAccuracy(cmd *cobra.Command, a fedJobAccuracy) {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(cmd.OutOrStdout(), "federated job %d (%s) on %s (%d rows)\n", a.Job, a.Status, a.Test, a.Rows)
	if a.InitialAccuracy >= 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "start model: test accuracy %.2f%%\n", 100*a.InitialAccuracy)
	}
	fmt.Fprintln(w, "round\tphase\taccepted\trejected\tstragglers\tlocal loss\ttest acc\ttest loss\tchunks verified\tchain MACs\ttraining MACs\tchain share\t")
	for _, r := range a.Rounds {
		acc, loss := "-", "-"
		if r.Accuracy >= 0 {
			acc, loss = fmt.Sprintf("%.2f%%", 100*r.Accuracy), fmt.Sprintf("%.4f", r.TestLoss)
		}
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%d\t%.4f\t%s\t%s\t%d\t%d\t%d\t%.2f%%\t\n", r.Round, r.Phase, r.Accepted, r.Rejected, r.Stragglers,
			r.MeanLoss, acc, loss, r.ChunksVerified, r.RecomputedMACs+r.AggregationOps, r.TrainingMACs, 100*r.ChainShare)
	}
	_ = w.Flush()
	fmt.Fprintf(cmd.OutOrStdout(), "chain share of the compute: (%d recomputed MACs + %d aggregation multiply-adds) / %d training MACs = %.2f%%\n",
		a.RecomputedMACs, a.AggregationOps, a.TrainingMACs, 100*a.ChainShare)
}
