package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hinterland-ai/hinterland/explorer"
)

func explorerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explorer [--rest-url URL] [--rpc-url URL] [--addr HOST:PORT]",
		Short: "Serve the explorer web page for a node (tasks, transcripts, verdicts, lineage, leaderboard, jobs)",
		Long: `Serve Hinterland's explorer: a static page that reads the node's REST API and follows its
CometBFT websocket, showing open and running tasks, a task's transcripts with their sampled and
verified segments, the verdicts, the fraud window's countdown, the model lineage as a graph, the
leaderboard, the compute pool and epochs, and annotation and federated jobs as they land.

The page reaches the node through a same-origin read-only proxy (GET only; of the RPC, only
/status and /websocket), so the node needs no CORS setting. Open the printed URL;
#task/ID in the URL opens a task.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, _ := cmd.Flags().GetString("rest-url")
			rpc, _ := cmd.Flags().GetString("rpc-url")
			addr, _ := cmd.Flags().GetString("addr")
			rpc = strings.Replace(rpc, "tcp://", "http://", 1)
			h, err := explorer.Handler(api, rpc)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "explorer at http://%s/ (REST %s, RPC %s)\n", ln.Addr(), api, rpc)
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().String("rest-url", "http://127.0.0.1:1317", "The node's REST server")
	cmd.Flags().String("rpc-url", "http://127.0.0.1:26657", "The node's CometBFT RPC (tcp:// is read as http://)")
	cmd.Flags().String("addr", "127.0.0.1:8088", "Address to serve the page on (port 0: any free port)")
	return cmd
}
