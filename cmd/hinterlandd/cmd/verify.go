package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/worker"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

const (
	flagWorker        = "worker"
	flagSegment       = "segment"
	flagCheckpointURI = "checkpoint-uri"
	flagState         = "state"
	flagBaseModel     = "base-model"
)

// Exit codes of verify-segment.
const (
	exitMatch    = 0
	exitMismatch = 1
	exitError    = 2
)

func verificationCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verification",
		Short: "Off-chain verification tools for watchers and debugging",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(verifySegmentCmd())
	return cmd
}

func verifySegmentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-segment --task ID --worker ADDR --segment I (--checkpoint-uri URI | --state FILE) --dataset FILE",
		Short: "Re-execute one committed segment off-chain exactly as the chain would (exit 0 match, 1 mismatch, 2 error)",
		Long: `Re-execute segment I of a worker's committed transcript off-chain: the start state
(the checkpoint h_I, from --state FILE, from --checkpoint-uri, or by default from the
transcript's URI) and the rows of the segment (from the packed --dataset, checked
against the task's Merkle root) go through the chain's own checks
(recompute.PrepareReveal), then the engine recomputes the segment and compares the
result with the committed h_(I+1).

Exit status: 0 the segment reproduces h_(I+1); 1 it does not (fraud: challenge it);
2 the check could not be made (bad input, unreachable worker, wrong dataset, ...).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			match, err := verifySegment(cmd)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
				os.Exit(exitError)
			}
			if !match {
				os.Exit(exitMismatch)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64(flagTask, 0, "Task id")
	f.String(flagWorker, "", "Worker address")
	f.Uint32(flagSegment, 0, "Segment index (from h_I to h_(I+1))")
	f.String(flagCheckpointURI, "", "URL of the state at h_I (default: <transcript uri>/<I>)")
	f.String(flagState, "", "File holding the state at h_I (engine encoding)")
	f.String(flagDataset, "", "Packed dataset file of the task")
	f.String(flagBaseModel, "", "Base model file (engine encoding), for LoRA tasks")
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

func verifySegment(cmd *cobra.Command) (bool, error) {
	f := cmd.Flags()
	id, _ := f.GetUint64(flagTask)
	workerAddr, _ := f.GetString(flagWorker)
	seg, _ := f.GetUint32(flagSegment)
	uri, _ := f.GetString(flagCheckpointURI)
	statePath, _ := f.GetString(flagState)
	dsPath, _ := f.GetString(flagDataset)
	basePath, _ := f.GetString(flagBaseModel)
	if id == 0 || workerAddr == "" || dsPath == "" {
		return false, fmt.Errorf("give --%s, --%s and --%s", flagTask, flagWorker, flagDataset)
	}
	if uri != "" && statePath != "" {
		return false, fmt.Errorf("give --%s or --%s, not both", flagCheckpointURI, flagState)
	}
	cctx, err := client.GetClientQueryContext(cmd)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
	defer cancel()
	tq := taskstypes.NewQueryClient(cctx)
	tres, err := tq.Task(ctx, &taskstypes.QueryTaskRequest{Id: id})
	if err != nil {
		return false, fmt.Errorf("task %d: %w", id, err)
	}
	task := tres.Task
	vq := vtypes.NewQueryClient(cctx)
	trres, err := vq.Transcript(ctx, &vtypes.QueryTranscriptRequest{TaskId: id, Worker: workerAddr})
	if err != nil {
		return false, fmt.Errorf("transcript of task %d by %s: %w", id, workerAddr, err)
	}
	tr := trres.Transcript
	pres, err := vq.Params(ctx, &vtypes.QueryParamsRequest{})
	if err != nil {
		return false, fmt.Errorf("verification params: %w", err)
	}
	if n := uint32(len(tr.Checkpoints)); n == 0 || seg >= n-1 {
		return false, fmt.Errorf("segment %d: the transcript has %d segments", seg, max(n, 1)-1)
	}
	file, err := dataset.Open(dsPath)
	if err != nil {
		return false, err
	}
	if err := worker.CheckDataset(file, id, task.Dataset); err != nil {
		return false, err
	}
	es, err := task.Spec.EngineSpec()
	if err != nil {
		return false, err
	}
	var base []byte
	if es.IsLoRA() {
		if basePath == "" {
			return false, fmt.Errorf("task %d fine-tunes a base model: give --%s", id, flagBaseModel)
		}
		if base, err = os.ReadFile(basePath); err != nil {
			return false, err
		}
	}
	var start []byte
	switch {
	case statePath != "":
		start, err = os.ReadFile(filepath.Clean(statePath))
	case uri != "":
		start, err = worker.Fetch(ctx, uri, 1024+16*int64(es.TrainableParams())+4*int64(es.Arch().ParamCount()))
	default:
		start, err = worker.FetchCheckpoint(ctx, tr.Uri, seg, es)
	}
	if err != nil {
		return false, fmt.Errorf("start state h_%d: %w", seg, err)
	}
	check, err := worker.VerifySegment(task, tr.Checkpoints, seg, start, file, base, pres.Params)
	if err != nil {
		return false, err
	}
	w := cmd.OutOrStdout()
	who := fmt.Sprintf("task %d, worker %s, segment %d", id, workerAddr, seg)
	if check.Match {
		fmt.Fprintf(w, "MATCH: %s reproduces h_%d = %s (%d MACs)\n", who, seg+1, check.Expected, check.MACs)
		return true, nil
	}
	fmt.Fprintf(w, "MISMATCH: %s: committed h_%d = %s, recomputed %s (%v)\n", who, seg+1, check.Expected, check.Got, check.Reason)
	return false, nil
}
