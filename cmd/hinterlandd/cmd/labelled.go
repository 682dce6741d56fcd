package cmd

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
)

const (
	flagJob   = "job"
	flagItems = "items"
	flagOut   = "out"
)

func datasetLabelledCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "labelled --job ID --items FILE -o FILE",
		Short: "Build the labelled dataset of a settled annotation job: its items with the labels the chain aggregated",
		Long: `Build the labelled dataset of a settled annotation job: row i is the items' row i
with the chain's aggregated label (classification), or the pair ordered so that
the preferred candidate comes first (preference). The items file must be the
job's (its Merkle root is checked). The result is an ordinary packed dataset:
post a training task on it with 'tx tasks post --dataset FILE --annotation-job ID';
workers rebuild the same rows from the items and the chain's labels and refuse
a task whose root differs.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			job, _ := f.GetUint64(flagJob)
			itemsPath, _ := f.GetString(flagItems)
			out, _ := f.GetString(flagOut)
			if job == 0 || itemsPath == "" || out == "" {
				return fmt.Errorf("give --%s, --%s and --%s", flagJob, flagItems, flagOut)
			}
			items, err := dataset.Open(itemsPath)
			if err != nil {
				return err
			}
			c, err := chainClient(cmd, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			ref, labels, err := c.AnnotationLabels(cmd.Context(), job)
			if err != nil {
				return err
			}
			if !bytes.Equal(ref.Root, items.Root()) {
				return fmt.Errorf("%s has root %X; annotation job %d's items have root %X", itemsPath, items.Root(), job, ref.Root)
			}
			labelled, err := dataset.WithLabels(items, labels)
			if err != nil {
				return err
			}
			w, err := os.Create(out)
			if err != nil {
				return err
			}
			if _, err := labelled.WriteTo(w); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "file:   %s\nroot:   %x\nrows:   %d\njob:    %d\n", out, labelled.Root(), labelled.Len(), job)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64(flagJob, 0, "Settled annotation job")
	f.String(flagItems, "", "The job's items (packed dataset)")
	f.StringP(flagOut, "o", "", "Output file")
	addChainClientFlags(cmd) // --from: any key of the keyring (the command only queries)
	return cmd
}
