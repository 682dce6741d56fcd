package cmd

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/worker"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// verificationTxCmd is `tx verification`; AutoCLI adds update-params-proposal.
func verificationTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        vtypes.ModuleName,
		Short:                      "Transactions of proof-of-training",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(challengeCmd())
	return cmd
}

func challengeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "challenge [task-id] [worker] [segment]",
		Short: "Bond a fraud challenge of a passed transcript's segment (seal, then open in the next block)",
		Long: `Challenge a segment of a passed transcript during its fraud window. The challenge
goes out in two transactions: a seal that locks the bond against a salted
commitment bound to you (it does not name the segment, so nobody can take your
find from the mempool), then, in a later block, the open that names the segment.
The bond defaults to the smallest the chain accepts for the task: challenge_bond_factor
times the gas of the largest honest answer at challenge_gas_price. If the worker
reveals the segment and it recomputes exactly, the bond pays the worker.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("task id %q: %w", args[0], err)
			}
			seg, err := strconv.ParseUint(args[2], 10, 32)
			if err != nil {
				return fmt.Errorf("segment %q: %w", args[2], err)
			}
			c, err := worker.NewClient(cmd.Context(), cctx, worker.ClientConfig{TxTimeout: time.Minute, GasPrices: gasPrices(cmd)}, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			task, err := c.Task(cmd.Context(), id)
			if err != nil {
				return err
			}
			params, err := c.VerificationParams(cmd.Context())
			if err != nil {
				return err
			}
			tasksParams, err := c.TasksParams(cmd.Context())
			if err != nil {
				return err
			}
			bond := recompute.ChallengeBondFor(task, params, tasksParams)
			if s, _ := cmd.Flags().GetString(flagBond); s != "" {
				if bond, err = sdk.ParseCoinNormalized(s); err != nil {
					return fmt.Errorf("--%s %q: %w", flagBond, s, err)
				}
			}
			res, err := worker.SealAndOpenChallenge(cmd.Context(), c, id, args[1], uint32(seg), bond)
			if err != nil {
				return err
			}
			return cctx.PrintProto(&sdk.TxResponse{TxHash: res.Hash, Height: res.Height, Code: res.Code, RawLog: res.Log})
		},
	}
	cmd.Flags().String(flagBond, "", "Challenge bond (default: the smallest the chain accepts for the task)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// gasPrices is the --gas-prices flag (empty: the node's minimum gas price).
func gasPrices(cmd *cobra.Command) string {
	s, _ := cmd.Flags().GetString(flags.FlagGasPrices)
	return s
}
