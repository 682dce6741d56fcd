package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/worker"
)

const (
	flagWorkDir         = "work-dir"
	flagServeAddr       = "serve-addr"
	flagPublicURI       = "public-uri"
	flagMaxConcurrent   = "max-concurrent"
	flagMinRewardPerMAC = "min-reward-per-mac"
	flagModels          = "models"
	flagObjectives      = "objectives"
	flagPollInterval    = "poll-interval"
	flagLossEvery       = "loss-every"
	flagForgeSegment    = "forge-segment"
	flagForgeFraction   = "forge-fraction"
	flagTxTimeout       = "tx-timeout"
	flagProgress        = "progress"
	flagProgressEvery   = "progress-interval"
	flagBond            = "bond"
	flagWithholdGrace   = "withhold-grace"
	flagTask            = "task"
	flagDataset         = "dataset"
	flagFederated       = "federated"
	flagFederatedJobs   = "federated-jobs"
	flagFederatedShard  = "federated-shard"
	flagFederatedData   = "federated-data"
	flagFederatedWatch  = "federated-watch"
	flagForgeFederated  = "forge-federated-round"
)

func workerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Train posted tasks for rewards, or watch other workers for fraud",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(workerStartCmd(), workerWatchCmd(), workerEvaluateCmd(), workerExportCmd())
	return cmd
}

// addChainClientFlags adds what a long-running signer needs: key, node,
// gRPC endpoint and fees.
func addChainClientFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String(flags.FlagFrom, "", "Name or address of the key that signs (required)")
	f.String(flags.FlagNode, "tcp://localhost:26657", "CometBFT RPC endpoint of a node (also used for the event websocket)")
	f.String(flags.FlagGRPC, "", "gRPC endpoint for queries and simulation (default: ABCI queries over --node)")
	f.Bool(flags.FlagGRPCInsecure, false, "Use gRPC without TLS (local nodes)")
	f.String(flags.FlagChainID, "", "Chain id (default: read from the node)")
	f.String(flags.FlagGasPrices, "", "Gas price to pay fees at (default: the node's minimum gas price)")
	f.Float64(flags.FlagGasAdjustment, 1.3, "Multiplier of the simulated gas")
	f.Duration(flagTxTimeout, time.Minute, "How long to wait for a transaction to be included")
	f.Duration(flagPollInterval, 5*time.Second, "How often to reconcile with the chain besides events")
	flags.AddKeyringFlags(f)
	_ = cmd.MarkFlagRequired(flags.FlagFrom)
}

// chainClient builds the worker library's client from the command's flags.
func chainClient(cmd *cobra.Command, log *slog.Logger) (*worker.Client, error) {
	cctx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flags.FlagFrom, err)
	}
	f := cmd.Flags()
	prices, _ := f.GetString(flags.FlagGasPrices)
	adj, _ := f.GetFloat64(flags.FlagGasAdjustment)
	timeout, _ := f.GetDuration(flagTxTimeout)
	return worker.NewClient(cmd.Context(), cctx, worker.ClientConfig{GasAdjustment: adj, GasPrices: prices, TxTimeout: timeout}, log)
}

// workDir returns --work-dir or <home>/worker.
func workDir(cmd *cobra.Command) (string, error) {
	dir, _ := cmd.Flags().GetString(flagWorkDir)
	if dir == "" {
		home, _ := cmd.Flags().GetString(flags.FlagHome)
		if home == "" {
			home = client.GetClientContextFromCmd(cmd).HomeDir
		}
		dir = filepath.Join(home, "worker")
	}
	return filepath.Abs(dir)
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// workerOutput sets up the progress display and the structured logger:
// --progress bar draws a bar on stdout (the default when stdout is a
// terminal), --progress log writes log lines only.
func workerOutput(cmd *cobra.Command) (*worker.Progress, *slog.Logger, error) {
	mode, _ := cmd.Flags().GetString(flagProgress)
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	switch mode {
	case "auto":
	case "bar":
		tty = true
	case "log":
		tty = false
	default:
		return nil, nil, fmt.Errorf("--%s %q: want auto, bar or log", flagProgress, mode)
	}
	p := worker.NewProgress(os.Stdout, tty)
	if p.Interval, _ = cmd.Flags().GetDuration(flagProgressEvery); p.Interval <= 0 {
		return nil, nil, fmt.Errorf("--%s must be positive", flagProgressEvery)
	}
	log := slog.New(slog.NewTextHandler(p.Writer(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	p.SetLogger(log)
	return p, log, nil
}

func workerStartCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start --from KEY",
		Short: "Run the worker daemon: claim tasks, train, commit, answer challenges, serve checkpoints",
		Long: `Run the worker daemon. It follows the chain (CometBFT events over the websocket,
and a poll every --poll-interval), claims open tasks that pass the policy flags and
that it can do (dataset fetched and checked against the task's Merkle root, reveals
within the chain's limits, training within the commit window, bond and fees
covered), trains them with the deterministic engine from the last checkpoint in
--work-dir, commits the transcript, answers every challenge with a self-checked
reveal, and serves its checkpoints at --serve-addr through the fraud window.

Work dir layout: tasks/<id>/ (checkpoints, loss.csv, loss.png, txs.jsonl,
report.json), datasets/ (downloads), models/ (base models for LoRA, and the final
models of dense tasks).

--federated also takes part in federated jobs (x/federated): in each round the
worker joins (a public shard, --federated-shard when free, or its own data with
--federated-data), trains its local steps from the round's global model with
checkpoints like a task, seals, opens and reveals the sampled segments, and when it
is the round's aggregator commits FedAvg of the accepted updates and reveals the
drawn and challenged chunks. It serves its updates and aggregates under
/federated/ at --public-uri, and logs every round's progress. Work dir:
federated/<job>/<round>/ (checkpoints, loss, txs, aggregate) and
federated/<job>/global/ (the global models).

--forge-segment / --forge-fraction (tasks) and --forge-federated-round (federated
updates) make the worker cheat on purpose, for tests and demos: it will be caught
and slashed.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			progress, log, err := workerOutput(cmd)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			cfg := worker.Config{Progress: progress, Log: log}
			if cfg.WorkDir, err = workDir(cmd); err != nil {
				return err
			}
			cfg.ServeAddr, _ = f.GetString(flagServeAddr)
			cfg.PublicURI, _ = f.GetString(flagPublicURI)
			cfg.PollInterval, _ = f.GetDuration(flagPollInterval)
			cfg.LossEvery, _ = f.GetUint64(flagLossEvery)
			cfg.Policy.MaxConcurrent, _ = f.GetInt(flagMaxConcurrent)
			if cfg.Policy.MaxConcurrent < 1 {
				return fmt.Errorf("--%s must be at least 1", flagMaxConcurrent)
			}
			rpm, _ := f.GetString(flagMinRewardPerMAC)
			if cfg.Policy.MinRewardPerMAC, err = worker.ParsePrices(rpm, app.BondDenom); err != nil {
				return fmt.Errorf("--%s: %w", flagMinRewardPerMAC, err)
			}
			models, _ := f.GetString(flagModels)
			if cfg.Policy.Models, err = worker.ParseModels(models); err != nil {
				return fmt.Errorf("--%s: %w", flagModels, err)
			}
			objectives, _ := f.GetString(flagObjectives)
			if cfg.Policy.Objectives, err = worker.ParseObjectives(objectives); err != nil {
				return fmt.Errorf("--%s: %w", flagObjectives, err)
			}
			forge, _ := f.GetUintSlice(flagForgeSegment)
			for _, seg := range forge {
				cfg.Forge.Segments = append(cfg.Forge.Segments, uint32(seg))
			}
			cfg.Forge.Fraction, _ = f.GetFloat64(flagForgeFraction)
			if err := cfg.Forge.Validate(); err != nil {
				return fmt.Errorf("--%s: %w", flagForgeFraction, err)
			}
			if cfg.Federated, err = federatedConfig(cmd); err != nil {
				return err
			}
			c, err := chainClient(cmd, log)
			if err != nil {
				return err
			}
			d, err := worker.NewDaemon(c, cfg)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd)
			defer cancel()
			return d.Run(ctx)
		},
	}
	addChainClientFlags(cmd)
	f := cmd.Flags()
	f.String(flagWorkDir, "", "Work directory (default <home>/worker)")
	f.String(flagServeAddr, "127.0.0.1:26680", "Address to serve checkpoints at (port 0 picks a free one)")
	f.String(flagPublicURI, "", "Base URL others reach the checkpoint server at (default http://<serve-addr>)")
	f.Int(flagMaxConcurrent, 1, "Tasks trained at the same time")
	f.String(flagMinRewardPerMAC, "0", "Least reward per multiply-accumulate of training, per denom: a decimal prices the native denom (0.00001); decimal coins price each denom listed (0.00001uhint,0.0000002ibc/HASH). Tasks in other denoms are declined")
	f.String(flagModels, "", "Models to accept, comma separated: linear, mlp (default all)")
	f.String(flagObjectives, "", "Objectives to accept, comma separated: mse, softmax-ce, bradley-terry (default all)")
	f.Uint64(flagLossEvery, 0, "Measure the minibatch loss every N steps for the loss curve (0: about 100 points)")
	f.UintSlice(flagForgeSegment, nil, "CHEAT (tests/demos): corrupt the result of these segments")
	f.Float64(flagForgeFraction, 0, "CHEAT (tests/demos): corrupt this fraction of segments (1 = all)")
	f.Bool(flagFederated, false, "Also take part in federated jobs: join rounds, train, aggregate (see above)")
	f.String(flagFederatedJobs, "all", "Federated jobs to join: all, or comma-separated job ids")
	f.Int64(flagFederatedShard, -1, "Public shard to train when it is free (-1: the lowest free shard)")
	f.String(flagFederatedData, "", "This worker's own packed dataset, for bring-your-own-data federated jobs")
	f.Bool(flagFederatedWatch, false, "Recompute every committed federated aggregate in its fraud window and challenge a wrong chunk")
	f.UintSlice(flagForgeFederated, nil, "CHEAT (tests/demos): forge this worker's federated update in these rounds (every segment corrupted)")
	f.String(flagProgress, "auto", "Progress display: auto (a bar on a terminal), bar, log")
	f.Duration(flagProgressEvery, 5*time.Second, "Interval between progress log lines (--progress log)")
	return cmd
}

// federatedConfig reads the --federated flags.
func federatedConfig(cmd *cobra.Command) (worker.FederatedConfig, error) {
	f := cmd.Flags()
	var c worker.FederatedConfig
	c.Enabled, _ = f.GetBool(flagFederated)
	jobs, _ := f.GetString(flagFederatedJobs)
	if jobs != "all" && jobs != "" {
		for _, s := range strings.Split(jobs, ",") {
			id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return c, fmt.Errorf("--%s %q: want all or comma-separated job ids", flagFederatedJobs, jobs)
			}
			c.Jobs = append(c.Jobs, id)
		}
	}
	if shard, _ := f.GetInt64(flagFederatedShard); shard >= 0 {
		if shard > math.MaxUint32 {
			return c, fmt.Errorf("--%s %d is not a shard index", flagFederatedShard, shard)
		}
		s := uint32(shard)
		c.Shard = &s
	}
	c.Data, _ = f.GetString(flagFederatedData)
	c.Watch, _ = f.GetBool(flagFederatedWatch)
	forge, _ := f.GetUintSlice(flagForgeFederated)
	for _, r := range forge {
		c.ForgeRounds = append(c.ForgeRounds, uint32(r))
	}
	if !c.Enabled && (c.Data != "" || c.Watch || len(c.ForgeRounds) > 0 || len(c.Jobs) > 0 || c.Shard != nil) {
		return c, fmt.Errorf("the federated flags need --%s", flagFederated)
	}
	return c, nil
}

func workerWatchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "watch --from KEY",
		Short: "Run a watchtower: re-execute unverified segments of passed transcripts and challenge fraud",
		Long: `Run a watchtower. For every passed transcript whose fraud window is open it fetches
the worker's checkpoints from the transcript URI and the task's dataset (checked
against its Merkle root), re-executes every segment the chain has not verified with
the same engine and the same checks as the chain, and on a mismatch bonds a fraud
challenge so that the worker must reveal that segment: sealed first (the segment
hidden behind a salted commitment, so nobody can take the find from the mempool),
opened in the next block. A checkpoint the worker does not serve for --withhold-grace
is challenged the same way: withholding is answered with a reveal forced on chain.
Checking every segment costs about twice the training (BenchmarkWatchEverySegment).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
			f := cmd.Flags()
			cfg := worker.WatchConfig{Log: log}
			var err error
			if cfg.WorkDir, err = workDir(cmd); err != nil {
				return err
			}
			cfg.PollInterval, _ = f.GetDuration(flagPollInterval)
			cfg.WithholdGrace, _ = f.GetDuration(flagWithholdGrace)
			if b, _ := f.GetString(flagBond); b != "" {
				if cfg.Bond, err = sdk.ParseCoinNormalized(b); err != nil {
					return fmt.Errorf("--%s %q: %w", flagBond, b, err)
				}
			}
			c, err := chainClient(cmd, log)
			if err != nil {
				return err
			}
			w, err := worker.NewWatcher(c, cfg)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd)
			defer cancel()
			return w.Run(ctx)
		},
	}
	addChainClientFlags(cmd)
	cmd.Flags().String(flagWorkDir, "", "Work directory for datasets and base models (default <home>/worker)")
	cmd.Flags().String(flagBond, "", "Bond of each fraud challenge (default: the smallest the chain accepts for the task)")
	cmd.Flags().Duration(flagWithholdGrace, 30*time.Second, "Challenge a segment whose checkpoint the worker has not served for this long")
	return cmd
}

func workerEvaluateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "evaluate --task ID --dataset FILE",
		Short: "Evaluate the final model of a trained task on a packed dataset (e.g. a test set)",
		Long: `Evaluate the final model of a task this worker trained (read from --work-dir) on
every row of a packed dataset with the task's objective, using the engine's
forward pass. Prints rows, correct, accuracy and mean loss.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString(flagDataset)
			dir, id, td, err := trainedTask(cmd, flagDataset, path)
			if err != nil {
				return err
			}
			f, err := dataset.Open(path)
			if err != nil {
				return err
			}
			var base *worker.Base
			if td.Task.Spec.LoraRank > 0 {
				if base, err = worker.ReadBase(filepath.Join(dir, "models"), td.Task.Spec.BaseModelHash); err != nil {
					return err
				}
			}
			res, err := td.Evaluate(f, base)
			if err != nil {
				return err
			}
			one := float64(uint64(1) << td.Task.Spec.FracBits)
			out := map[string]any{
				"task": id, "dataset": path, "rows": res.Count, "correct": res.Correct,
				"accuracy": float64(res.Correct) / float64(max(res.Count, 1)), "loss": float64(res.Loss) / one,
			}
			if o, _ := cmd.Flags().GetString(flags.FlagOutput); o == flags.OutputFormatJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %d on %s: %d/%d correct, accuracy %.2f%%, mean loss %.4f\n",
				id, path, res.Correct, res.Count, 100*out["accuracy"].(float64), out["loss"])
			return nil
		},
	}
	cmd.Flags().String(flagWorkDir, "", "Work directory (default <home>/worker)")
	cmd.Flags().Uint64(flagTask, 0, "Task id")
	cmd.Flags().String(flagDataset, "", "Packed dataset file to evaluate on")
	cmd.Flags().StringP(flags.FlagOutput, "o", "text", "Output format (text|json)")
	return cmd
}

func workerExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export --task ID --out FILE",
		Short: "Write the effective model of a trained task (merged with its base for LoRA) as an engine model file",
		Long: `Write the final model of a task this worker trained (read from --work-dir) as a dense
engine model file: its parameters, or for a LoRA task the base merged with the adapters
(W + alpha/r B*A, the engine's integer rounding). The file works with
'hinterlandd model generate --model FILE'. Prints the model's hash and architecture.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("out")
			dir, id, td, err := trainedTask(cmd, "out", out)
			if err != nil {
				return err
			}
			m, err := td.Export(filepath.Join(dir, "models"))
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, m.Encode(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %d: wrote %s (%s, %d parameters, hash %s)\n", id, out, m.Arch, m.Arch.ParamCount(), m.Hash())
			return nil
		},
	}
	cmd.Flags().String(flagWorkDir, "", "Work directory (default <home>/worker)")
	cmd.Flags().Uint64(flagTask, 0, "Task id")
	cmd.Flags().String("out", "", "Model file to write")
	return cmd
}

// trainedTask reads --work-dir and --task and loads the task's directory;
// the command's other required flag (name, value) must be set too.
func trainedTask(cmd *cobra.Command, name, value string) (dir string, id uint64, td *worker.TaskDir, err error) {
	if dir, err = workDir(cmd); err != nil {
		return "", 0, nil, err
	}
	id, _ = cmd.Flags().GetUint64(flagTask)
	if id == 0 || value == "" {
		return "", 0, nil, fmt.Errorf("give --%s and --%s", flagTask, name)
	}
	td, err = worker.LoadTaskDir(filepath.Join(dir, "tasks", strconv.FormatUint(id, 10)))
	if err != nil {
		return "", 0, nil, fmt.Errorf("no task %d trained in work dir %s: %w", id, dir, err)
	}
	return dir, id, td, nil
}
