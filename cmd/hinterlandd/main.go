// Command hinterlandd is the Hinterland node, CLI client and worker.
package main

import (
	"fmt"
	"os"

	clientv2helpers "cosmossdk.io/client/v2/helpers"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/cmd/hinterlandd/cmd"
)

func main() {
	rootCmd := cmd.NewRootCmd()
	rootCmd.SetArgs(cmd.NormalizeEnumArgs(os.Args[1:]))
	if err := svrcmd.Execute(rootCmd, clientv2helpers.EnvPrefix, app.DefaultNodeHome); err != nil {
		fmt.Fprintln(rootCmd.OutOrStderr(), err)
		os.Exit(1)
	}
}
