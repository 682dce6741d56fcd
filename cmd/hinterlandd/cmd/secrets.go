package cmd

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// A requester's sampling secret: `tx tasks post` draws 32 random bytes, keeps
// them under <home>/secrets/<sha256 hex> (mode 0600) and posts only their
// hash. Once every claim of the task is sealed, `tx tasks reveal-secret`
// reveals them; the chain draws every transcript's sample from the secret, so
// neither a worker (who sealed before it was known) nor a block proposer (no
// block data enters the draw) can choose the sample.

const flagWait = "wait"

func secretsDir(home string) string { return filepath.Join(home, "secrets") }

// newTaskSecret draws a secret, stores it and returns its hash and path.
func newTaskSecret(home string) ([]byte, string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, "", err
	}
	h := sha256.Sum256(secret)
	if err := os.MkdirAll(secretsDir(home), 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(secretsDir(home), hex.EncodeToString(h[:]))
	if err := os.WriteFile(path, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	return h[:], path, nil
}

// readTaskSecret finds the stored secret whose hash is h.
func readTaskSecret(home string, h []byte) ([]byte, error) {
	path := filepath.Join(secretsDir(home), hex.EncodeToString(h))
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the task's secret is not stored here (%s): reveal it from the machine that posted the task: %w", path, err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(bz)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if got := sha256.Sum256(secret); hex.EncodeToString(got[:]) != hex.EncodeToString(h) {
		return nil, fmt.Errorf("%s does not hash to the task's secret hash", path)
	}
	return secret, nil
}

func revealSecretCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reveal-secret [task-id]",
		Short: "Reveal a task's sampling secret once every claim is sealed (run by the poster)",
		Long: `Reveal the sampling secret that 'tx tasks post' stored under <home>/secrets.
The chain accepts it only once every claim on the task has sealed its transcript
(the task shows claims_closed); with --wait the command polls until then. If the
secret is not revealed within the reveal window after claims close, samples are
drawn from block hashes instead, which the next block's proposer can influence.
A fresh secret for the claims that follow (if every transcript fails and the task
reopens) is drawn and committed in the same transaction.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("task id %q: %w", args[0], err)
			}
			wait, _ := cmd.Flags().GetDuration(flagWait)
			q := taskstypes.NewQueryClient(cctx)
			deadline := time.Now().Add(wait)
			var task taskstypes.Task
			for {
				res, err := q.Task(cmd.Context(), &taskstypes.QueryTaskRequest{Id: id})
				if err != nil {
					return err
				}
				task = res.Task
				if len(task.SecretHash) == 0 {
					return fmt.Errorf("task %d was posted without a secret: its samples come from the chain", id)
				}
				if len(task.Secret) != 0 {
					return fmt.Errorf("task %d: the secret is already revealed", id)
				}
				if task.ClaimsClosed {
					break
				}
				if !time.Now().Before(deadline) {
					return errors.New("claims are not closed yet (a claim is unsealed or nobody claimed): retry later, or use --wait")
				}
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(time.Second):
				}
			}
			// The reveal draws the sample of every transcript already open,
			// and its gas is simulated now: a transcript opening between the
			// simulation and the block would make the reveal run out of gas.
			// With --wait, give the sealed transcripts until shortly before
			// their open deadline to open first.
			if wait > 0 {
				if err := waitForOpens(cmd.Context(), verificationtypes.NewQueryClient(cctx), id, deadline); err != nil {
					return err
				}
			}
			secret, err := readTaskSecret(cctx.HomeDir, task.SecretHash)
			if err != nil {
				return err
			}
			next, _, err := newTaskSecret(cctx.HomeDir)
			if err != nil {
				return err
			}
			msg := &taskstypes.MsgRevealSecret{Poster: cctx.GetFromAddress().String(), TaskId: id, Secret: secret, NextSecretHash: next}
			return tx.GenerateOrBroadcastTxCLI(cctx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Duration(flagWait, 0, "Wait up to this long for every claim to seal, and for the sealed transcripts to open (e.g. 30m)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// openMargin is how long before a sealed transcript's open deadline the
// reveal stops waiting for it to open: the secret is due by then.
const openMargin = 20 * time.Second

// waitForOpens polls the task's transcripts until none is sealed and
// unopened, or until openMargin before the earliest open deadline of those
// that are, or until the --wait deadline.
func waitForOpens(ctx context.Context, q verificationtypes.QueryClient, taskID uint64, deadline time.Time) error {
	for {
		res, err := q.Transcripts(ctx, &verificationtypes.QueryTranscriptsRequest{TaskId: taskID})
		if err != nil {
			return err
		}
		stop := deadline
		sealed := 0
		for _, t := range res.Transcripts {
			if t.Status == verificationtypes.TRANSCRIPT_STATUS_SEALED {
				sealed++
				if d := t.OpenDeadline.Add(-openMargin); d.Before(stop) {
					stop = d
				}
			}
		}
		if sealed == 0 || !time.Now().Before(stop) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
