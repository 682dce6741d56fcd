package cmd

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/hinterland-ai/hinterland/annotator"
)

const flagListen = "listen"

// annotateCmd is `hinterlandd annotate`: the annotator's web page. Other
// annotation commands are added to it as subcommands.
func annotateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "annotate --from KEY",
		Short: "Label annotation jobs in a local web page, signing with the local keyring",
		Long: `Start a local web page (on 127.0.0.1) for labelling x/annotation jobs: it lists
the open jobs with their pay and stake, claims a batch (the chain picks its items),
shows the items as they are (MNIST-sized rows as 28x28 images, preference pairs side
by side, every row checked against the job's Merkle root), takes a label per item
from the keyboard (0-9 pick a class, A/B pick a side, Enter or → next, ← back) and,
after the last item, seals the labels. The salt and labels are written to --work-dir
before the seal is sent; once the label deadline has passed the command opens the
labels by itself, retrying every --poll-interval, also after a restart. After the job
settles the page shows each batch's gold accuracy, accepted labels and pay.

Open the printed URL (it holds the page's access token). Keep the command running, or
start it again with the same --work-dir, until your batches are opened.

Work dir layout: batches/<job>-<group>.json (claims, labels, salts, txs),
datasets/ (item sets downloaded over http).`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
			dir, _ := f.GetString(flagWorkDir)
			if dir == "" {
				dir = filepath.Join(client.GetClientContextFromCmd(cmd).HomeDir, "annotator")
			}
			dir, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			c, err := chainClient(cmd, log)
			if err != nil {
				return err
			}
			a, err := annotator.New(annotator.NewChainClient(c), dir, log)
			if err != nil {
				return fmt.Errorf("--%s %s: %w", flagWorkDir, dir, err)
			}
			srv, err := annotator.NewServer(a, log)
			if err != nil {
				return err
			}
			listen, _ := f.GetString(flagListen)
			url, err := srv.Listen(listen)
			if err != nil {
				return fmt.Errorf("--%s: %w", flagListen, err)
			}
			poll, _ := f.GetDuration(flagPollInterval)
			if poll <= 0 {
				return fmt.Errorf("--%s must be positive", flagPollInterval)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "annotating as %s (work dir %s)\nopen %s\n", a.Address(), dir, url)
			ctx, cancel := signalContext(cmd)
			defer cancel()
			go a.Run(ctx, poll)
			return srv.Serve(ctx)
		},
	}
	addChainClientFlags(cmd)
	f := cmd.Flags()
	f.String(flagListen, "127.0.0.1:0", "Loopback address of the page (port 0: a free port)")
	f.String(flagWorkDir, "", "Directory for claimed batches, salts and downloaded items (default <home>/annotator)")
	f.Lookup(flagPollInterval).Usage = "How often to open due batches (and retry failed openings)"
	// worker.Client simulates without a fee, so the simulation leaves out the
	// fee transfer (about 13k gas). That is more than 30% of a seal (about
	// 41k simulated, 53k delivered): the default adjustment would run out.
	adj := f.Lookup(flags.FlagGasAdjustment)
	adj.DefValue = "1.6"
	_ = adj.Value.Set(adj.DefValue)
	return cmd
}
