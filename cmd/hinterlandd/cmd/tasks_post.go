package cmd

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/worker"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

const (
	flagSpec         = "spec"
	flagPreset       = "preset"
	flagTotalSteps   = "total-steps"
	flagSegmentSteps = "segment-steps"
	flagDatasetRoot  = "dataset-root"
	flagRows         = "rows"
	flagDatasetURI   = "dataset-uri"
	flagReward       = "reward"
	flagSamples      = "samples"
	flagDetection    = "detection"
	flagReplicas     = "replicas"
	flagClaimWindow  = "claim-window"
	flagCommitWindow = "commit-window"
	// flagChainRandomness posts without a requester secret.
	flagChainRandomness = "chain-randomness"
	flagAnnotationJob   = "annotation-job"
)

// A preset's schedule unless --total-steps / --segment-steps say otherwise:
// 880 segments of 4 steps. 4 steps of batch 32 touch at most 128 rows, so a
// softmax MNIST reveal is about 230 KiB (as before), and with the default
// --detection 0.99 (k = 44 at the chain's assumed 10% forged) the chain
// recomputes 44/880 = 5% of the training and catches a worker who alters 10%
// of the segments with probability >= 99%. Longer segments allow longer jobs
// within max_segments at the price of larger reveals (25 steps: about 1 MiB).
const (
	presetTotalSteps   = 3520
	presetSegmentSteps = 4
)

// defaultDetection is --detection when neither --samples nor --detection is
// given: with the chain's default assumed_forged_bps (10%) it derives k = 44.
const defaultDetection = 0.99

// presets are the standard engine specs `tx tasks post --preset` offers.
var presets = map[string]func() engine.Spec{ // looked up by name only
	"mnist-softmax":      engine.DefaultSpecMNISTSoftmax,
	"mnist-softmax-adam": engine.DefaultSpecMNISTSoftmaxAdam,
	"mnist-mlp":          engine.DefaultSpecMNISTMLP,
	"lm-pretrain":        engine.DefaultSpecLMPretrain,
	"lm-lora":            engine.DefaultSpecLMLoRA,
	"lm-dpo":             engine.DefaultSpecLMDPO,
}

const presetNames = "mnist-softmax, mnist-softmax-adam, mnist-mlp, lm-pretrain, lm-lora (--base) or lm-dpo (--base)"

// The language-model presets' schedules (total steps, segment steps): the
// longest segments the chain's default per-reveal limits accept
// (recompute.LongestSegment; a pretraining segment's reveal carries a 1.9 MB
// Adam state), within max_segments.
var lmPresetSchedules = map[string][2]uint64{ // looked up by name only
	"lm-pretrain": {2000, 2},
	"lm-lora":     {800, 2},
	"lm-dpo":      {400, 1},
}

// flagBase names the base model of the lm-lora and lm-dpo presets.
const (
	flagBase         = "base"
	flagBaseLoRARank = "base-lora-rank"
)

// tasksTxCmd is `tx tasks`; AutoCLI adds claim and cancel to it.
func tasksTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tasks",
		Short:                      "Transactions of the task market",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(tasksPostCmd(), revealSecretCmd())
	return cmd
}

func tasksPostCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "post (--spec FILE | --preset NAME) (--dataset FILE | --dataset-root HEX --rows N --schema S) --dataset-uri URI --reward COIN --bond COIN (--samples K | --detection P)",
		Short: "Post a training task and escrow its reward",
		Long: `Post a training task. The job is a TrainingSpec (proto JSON, e.g.
{"model":"MODEL_KIND_LINEAR","inputs":784,"outputs":10,"objective":"OBJECTIVE_SOFTMAX_CE",
 "optimizer":"OPTIMIZER_SGD","frac_bits":16,"batch_size":32,"learning_rate":1311,
 "momentum":58982,"total_steps":3520,"segment_steps":4})
or a preset (mnist-softmax, mnist-softmax-adam, mnist-mlp: 3520 steps in 880 segments
of 4; lm-pretrain (2000 steps in segments of 2), lm-lora --base HASH (800 in segments
of 2), lm-dpo --base HASH (400 in segments of 1): a byte-level transformer on token
rows; unless --total-steps and --segment-steps say
otherwise, which also override a spec file's schedule). lm-dpo on a model that is
itself a LoRA result aligns the fine-tune (a stacked base: base -> LoRA -> aligned).

The dataset is a packed file (--dataset, whose root, rows and schema are read and
checked) or given by --dataset-root, --rows and --schema; workers fetch it from
--dataset-uri (file://, http://, https://; default file://<abs path of --dataset>).

k sampled segments per transcript: --samples k, or --detection P, the probability
(0 < P < 1) of catching a worker that forges the chain's assumed fraction of
segments (assumed_forged_bps, 10% by default), from which the chain derives k.
Without either, --detection 0.99 applies (k = 44 at 10%; N >= 880 segments keeps
the recomputed share k/N at or below 5%).

Before signing, the command prints to stderr the recomputed share k/N and the
probability that sampling alone accepts a model altered in 1 segment and in 1%,
10% and 50% of its segments (exact, sampling without replacement), and warns
when a 10% tamperer is caught less than 99% of the time.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Check the job before touching the keyring.
			msg, err := buildPostTask(cmd, client.GetClientContextFromCmd(cmd))
			if err != nil {
				return err
			}
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return fmt.Errorf("--%s: %w", flags.FlagFrom, err)
			}
			msg.Poster = cctx.GetFromAddress().String()
			if !cctx.Offline && !cctx.GenerateOnly {
				if err := checkRevealable(cmd, cctx, msg); err != nil {
					return err
				}
			}
			a, source, err := postAssurance(cmd, cctx, msg)
			if err != nil {
				return err
			}
			if a.Samples <= a.Segments { // else postAssurance has warned that the chain will refuse it
				writeAssurance(cmd.ErrOrStderr(), a, source)
			}
			if noSecret, _ := cmd.Flags().GetBool(flagChainRandomness); !noSecret {
				h, path, err := newTaskSecret(cctx.HomeDir)
				if err != nil {
					return fmt.Errorf("storing the sampling secret: %w", err)
				}
				msg.SecretHash = h
				fmt.Fprintf(cmd.ErrOrStderr(), "sampling secret stored in %s: once every claim is sealed, reveal it with\n  hinterlandd tx tasks reveal-secret <task-id> --from %s --wait 1h\n", path, cctx.GetFromName())
			}
			return tx.GenerateOrBroadcastTxCLI(cctx, cmd.Flags(), msg)
		},
	}
	f := cmd.Flags()
	f.String(flagSpec, "", "TrainingSpec file (proto JSON)")
	f.String(flagPreset, "", "Standard spec: "+presetNames)
	f.String(flagBase, "", "Model hash of the base the lm-lora and lm-dpo presets fine-tune (a verified model, or one in the workers' models dir)")
	f.Uint32(flagBaseLoRARank, 0, "base_lora_rank of the spec (default: looked up on chain: the rank of the LoRA task that produced --base, 0 for a dense base)")
	f.Uint64(flagTotalSteps, 0, fmt.Sprintf("Optimiser steps of the job (preset default %d)", presetTotalSteps))
	f.Uint64(flagSegmentSteps, 0, fmt.Sprintf("Steps between checkpoints (preset default %d)", presetSegmentSteps))
	f.String(flagDataset, "", "Packed dataset file (reads root, rows and schema)")
	f.String(flagDatasetRoot, "", "Dataset Merkle root (hex), without --dataset")
	f.Uint64(flagRows, 0, "Dataset rows, without --dataset")
	f.String(flagSchema, "", "Dataset row schema, without --dataset (e.g. kind=classification,feature=uint8,features=784,classes=10)")
	f.String(flagDatasetURI, "", "Where workers fetch the dataset (file://, http://, https://)")
	f.String(flagReward, "", "Reward, escrowed now (e.g. 1000000uhint)")
	f.String(flagBond, "", "Bond each worker locks (e.g. 100000uhint)")
	f.Uint32(flagSamples, 0, "Segments k the chain samples from each transcript, instead of --detection")
	f.Float64(flagDetection, defaultDetection, "Target probability of catching a worker who forges the chain's assumed fraction (assumed_forged_bps, 10% by default) of segments; the chain derives k (0.99: k = 44). Applies unless --samples is given")
	f.Uint32(flagReplicas, 1, "Independent workers")
	f.Duration(flagClaimWindow, time.Hour, "How long the task accepts claims")
	f.Duration(flagCommitWindow, time.Hour, "How long a worker has from its claim to commit")
	f.Uint64(flagAnnotationJob, 0, "The dataset is this settled annotation job's labelled items (build it with 'hinterlandd dataset labelled'); workers rebuild it from the job's items and the chain's labels")
	f.Bool(flagChainRandomness, false, "Post without a sampling secret: samples are drawn from block hashes, which a block proposer can influence (default: a secret is drawn, stored under <home>/secrets and revealed with 'tx tasks reveal-secret')")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// checkRevealable refuses, before anything is signed, a job one of whose
// segments the chain could not verify: it applies the chain's own check
// (pkg/recompute, the same code PostTask runs) with the chain's current
// per-reveal limits, and says which limit the job exceeds.
func checkRevealable(cmd *cobra.Command, cctx client.Context, msg *taskstypes.MsgPostTask) error {
	res, err := vtypes.NewQueryClient(cctx).Params(cmd.Context(), &vtypes.QueryParamsRequest{})
	if err != nil {
		return fmt.Errorf("reading the chain's reveal limits: %w", err)
	}
	cost, err := recompute.WorstSegmentCost(msg.Spec, msg.Dataset)
	if err == nil {
		err = cost.Check(res.Params)
	}
	if err != nil {
		if n := recompute.LongestSegment(msg.Spec, msg.Dataset, res.Params, msg.Spec.TotalSteps); n > 0 {
			return fmt.Errorf("the chain cannot verify this job: %w (--%s %d or fewer fits)", err, flagSegmentSteps, n)
		}
		return fmt.Errorf("the chain cannot verify this job: %w (not even one step fits: use a smaller model, batch or dataset)", err)
	}
	return nil
}

// postAssurance returns the job's sampling for the summary and where its k
// comes from: --samples, or --detection through the chain's DeriveSamples with
// the chain's assumed_forged_bps (the default one offline or with
// --generate-only). It refuses, before anything is signed, a k the chain is
// known to refuse (more than max_samples or than the job's segments).
func postAssurance(cmd *cobra.Command, cctx client.Context, msg *taskstypes.MsgPostTask) (assurance, string, error) {
	a := assurance{
		Segments:     msg.Spec.Segments(),
		Samples:      uint64(msg.Samples),
		SegmentSteps: msg.Spec.SegmentSteps,
		TotalSteps:   msg.Spec.TotalSteps,
	}
	source, exact := "--"+flagSamples, true
	if msg.Samples == 0 {
		p, whose := taskstypes.DefaultParams(), "the default"
		if cctx.Offline || cctx.GenerateOnly {
			exact = false
		} else {
			res, err := taskstypes.NewQueryClient(cctx).Params(cmd.Context(), &taskstypes.QueryParamsRequest{})
			if err != nil {
				return a, "", fmt.Errorf("reading the chain's assumed_forged_bps: %w", err)
			}
			p, whose = res.Params, "the chain's"
		}
		k, err := taskstypes.DeriveSamples(msg.DetectionBps, p.AssumedForgedBps)
		if err != nil {
			return a, "", fmt.Errorf("--%s: %w", flagDetection, err)
		}
		if exact && k > p.MaxSamples {
			return a, "", fmt.Errorf("--%s %g needs k = %d samples, more than the chain's max_samples %d: lower it or give --%s",
				flagDetection, float64(msg.DetectionBps)/10_000, k, p.MaxSamples, flagSamples)
		}
		a.Samples = uint64(k)
		source = fmt.Sprintf("--%s %g at %s assumed_forged_bps %d", flagDetection, float64(msg.DetectionBps)/10_000, whose, p.AssumedForgedBps)
	}
	if a.Samples > a.Segments {
		if exact {
			return a, "", fmt.Errorf("k = %d samples (%s) exceed the job's %d segments, which the chain refuses: use more segments (--%s, --%s) or give --%s %d or fewer",
				a.Samples, source, a.Segments, flagTotalSteps, flagSegmentSteps, flagSamples, a.Segments)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: k = %d samples (%s) exceed the job's %d segments: the chain will refuse the task\n", a.Samples, source, a.Segments)
	}
	return a, source, nil
}

// specFromFlags reads --spec FILE or --preset NAME (with the schedule
// totalSteps / segmentSteps), then applies the step flags totalFlag and
// --segment-steps.
func specFromFlags(cmd *cobra.Command, cctx client.Context, totalFlag string, totalSteps, segmentSteps uint64) (taskstypes.TrainingSpec, engine.Spec, error) {
	f := cmd.Flags()
	specFile, _ := f.GetString(flagSpec)
	preset, _ := f.GetString(flagPreset)
	total, _ := f.GetUint64(totalFlag)
	segment, _ := f.GetUint64(flagSegmentSteps)
	var spec taskstypes.TrainingSpec
	switch {
	case specFile != "" && preset != "":
		return spec, engine.Spec{}, fmt.Errorf("give --%s or --%s, not both", flagSpec, flagPreset)
	case specFile != "":
		bz, err := os.ReadFile(specFile)
		if err != nil {
			return spec, engine.Spec{}, err
		}
		if err := cctx.Codec.UnmarshalJSON(bz, &spec); err != nil {
			return spec, engine.Spec{}, fmt.Errorf("%s: not a TrainingSpec in proto JSON: %w", specFile, err)
		}
	case preset != "":
		mk, ok := presets[preset]
		if !ok {
			return spec, engine.Spec{}, fmt.Errorf("--%s %q: want %s", flagPreset, preset, presetNames)
		}
		es := mk()
		if sch, ok := lmPresetSchedules[preset]; ok && totalFlag == flagTotalSteps {
			totalSteps, segmentSteps = sch[0], sch[1]
		}
		base, err := presetBase(cmd, cctx, es)
		if err != nil {
			return spec, engine.Spec{}, err
		}
		spec = taskstypes.FromEngineSpec(es, totalSteps, segmentSteps, base)
		if base != nil {
			if spec.BaseLoraRank, err = baseLoRARank(cmd, cctx, base); err != nil {
				return spec, engine.Spec{}, err
			}
		}
	default:
		return spec, engine.Spec{}, fmt.Errorf("give the job with --%s FILE or --%s NAME", flagSpec, flagPreset)
	}
	if total > 0 {
		spec.TotalSteps = total
	}
	if segment > 0 {
		spec.SegmentSteps = segment
	}
	es, err := spec.EngineSpec()
	return spec, es, err
}

// presetBase reads --base for a LoRA preset (lm-lora, lm-dpo): the hash of
// the model to fine-tune or align.
func presetBase(cmd *cobra.Command, _ client.Context, es engine.Spec) ([]byte, error) {
	var ref string
	if fl := cmd.Flags().Lookup(flagBase); fl != nil {
		ref = fl.Value.String()
	}
	if !es.IsLoRA() {
		if ref != "" {
			return nil, fmt.Errorf("--%s is for the LoRA presets (lm-lora, lm-dpo)", flagBase)
		}
		return nil, nil
	}
	if ref == "" {
		return nil, fmt.Errorf("this preset fine-tunes a base model: give its hash with --%s", flagBase)
	}
	h, err := hex.DecodeString(ref)
	if err != nil || len(h) != taskstypes.HashLen {
		return nil, fmt.Errorf("--%s %q: want a %d-hex-digit model hash", flagBase, ref, 2*taskstypes.HashLen)
	}
	return h, nil
}

// baseLoRARank is the spec's base_lora_rank for a base: --base-lora-rank
// when given, else (online) the LoRA rank of the verified task that produced
// the base, 0 for a dense or unregistered base.
func baseLoRARank(cmd *cobra.Command, cctx client.Context, base []byte) (uint32, error) {
	if fl := cmd.Flags().Lookup(flagBaseLoRARank); fl != nil && fl.Changed {
		r, err := strconv.ParseUint(fl.Value.String(), 10, 32)
		return uint32(r), err
	}
	if cctx.Offline || cctx.GenerateOnly || cctx.Client == nil {
		return 0, nil
	}
	res, err := taskstypes.NewQueryClient(cctx).Model(cmd.Context(), &taskstypes.QueryModelRequest{ModelHash: hex.EncodeToString(base)})
	if status.Code(err) == codes.NotFound {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("looking up the base model %X: %w", base, err)
	}
	if len(res.Record.BaseModelHash) == 0 {
		return 0, nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "base %X is a LoRA result of task %d (rank %d): posting it as a stacked base\n", base, res.Record.TaskId, res.Spec.LoraRank)
	return res.Spec.LoraRank, nil
}

func buildPostTask(cmd *cobra.Command, cctx client.Context) (*taskstypes.MsgPostTask, error) {
	f := cmd.Flags()
	spec, es, err := specFromFlags(cmd, cctx, flagTotalSteps, presetTotalSteps, presetSegmentSteps)
	if err != nil {
		return nil, err
	}

	ref, err := datasetRef(cmd)
	if err != nil {
		return nil, err
	}
	ds, err := ref.Schema.DatasetSchema()
	if err != nil {
		return nil, err
	}
	if err := ds.Compatible(es); err != nil {
		return nil, fmt.Errorf("dataset does not fit the spec: %w", err)
	}

	msg := &taskstypes.MsgPostTask{Spec: spec, Dataset: ref}
	reward, _ := f.GetString(flagReward)
	bond, _ := f.GetString(flagBond)
	if msg.Reward, err = sdk.ParseCoinNormalized(reward); err != nil {
		return nil, fmt.Errorf("--%s %q: %w", flagReward, reward, err)
	}
	if msg.Bond, err = sdk.ParseCoinNormalized(bond); err != nil {
		return nil, fmt.Errorf("--%s %q: %w", flagBond, bond, err)
	}
	msg.Samples, _ = f.GetUint32(flagSamples)
	detection, _ := f.GetFloat64(flagDetection) // defaultDetection unless given
	switch {
	case msg.Samples > 0 && f.Changed(flagDetection):
		return nil, fmt.Errorf("give --%s or --%s, not both", flagSamples, flagDetection)
	case msg.Samples == 0:
		if !(detection > 0 && detection < 1) {
			return nil, fmt.Errorf("--%s %v: a probability between 0 and 1, e.g. 0.99", flagDetection, detection)
		}
		msg.DetectionBps = uint32(math.Round(detection * 10_000))
		if msg.DetectionBps == 0 || msg.DetectionBps >= 10_000 {
			return nil, fmt.Errorf("--%s %v: the chain takes 0.0001 to 0.9999", flagDetection, detection)
		}
	}
	msg.Replicas, _ = f.GetUint32(flagReplicas)
	msg.ClaimWindow, _ = f.GetDuration(flagClaimWindow)
	msg.CommitWindow, _ = f.GetDuration(flagCommitWindow)
	return msg, nil
}

// datasetRef reads --dataset FILE, or --dataset-root/--rows/--schema.
func datasetRef(cmd *cobra.Command) (taskstypes.DatasetRef, error) {
	f := cmd.Flags()
	path, _ := f.GetString(flagDataset)
	rootHex, _ := f.GetString(flagDatasetRoot)
	rows, _ := f.GetUint64(flagRows)
	schemaText, _ := f.GetString(flagSchema)
	uri, _ := f.GetString(flagDatasetURI)
	var ref taskstypes.DatasetRef
	if path != "" {
		if rootHex != "" || rows != 0 || schemaText != "" {
			return ref, fmt.Errorf("--%s reads root, rows and schema from the file: drop --%s, --%s and --%s", flagDataset, flagDatasetRoot, flagRows, flagSchema)
		}
		file, err := dataset.Open(path)
		if err != nil {
			return ref, err
		}
		ref = taskstypes.DatasetRef{Root: file.Root(), Rows: file.Len(), Schema: taskstypes.FromDatasetSchema(file.Schema())}
		if uri == "" {
			abs, err := filepath.Abs(path)
			if err != nil {
				return ref, err
			}
			uri = "file://" + abs
		}
	} else {
		if rootHex == "" || rows == 0 || schemaText == "" {
			return ref, fmt.Errorf("give --%s FILE, or --%s, --%s and --%s", flagDataset, flagDatasetRoot, flagRows, flagSchema)
		}
		root, err := hex.DecodeString(strings.TrimPrefix(rootHex, "0x"))
		if err != nil || len(root) != dataset.RootSize {
			return ref, fmt.Errorf("--%s: want %d hex-encoded bytes", flagDatasetRoot, dataset.RootSize)
		}
		s, err := worker.ParseSchema(schemaText)
		if err != nil {
			return ref, err
		}
		ref = taskstypes.DatasetRef{Root: root, Rows: rows, Schema: taskstypes.FromDatasetSchema(s)}
	}
	if job, _ := f.GetUint64(flagAnnotationJob); job != 0 {
		// The labelled dataset of an annotation job: workers rebuild it
		// from the job's items and the chain's labels.
		ref.AnnotationJob = job
	}
	if uri == "" {
		return ref, fmt.Errorf("give --%s (where workers fetch the dataset)", flagDatasetURI)
	}
	ref.Uri = uri
	return ref, nil
}
