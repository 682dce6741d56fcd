package cmd

import (
	cmtcfg "github.com/cometbft/cometbft/config"

	serverconfig "github.com/cosmos/cosmos-sdk/server/config"

	"github.com/hinterland-ai/hinterland/app"
)

// Sizes a validator needs for reveals: a reveal may be up to
// x/verification's max_reveal_bytes (2 MiB by default) plus the tx envelope.
const (
	maxTxBytes   = 4 << 20
	maxBodyBytes = 8 << 20
)

// cometConfig is config.toml's defaults for a Hinterland node: Prometheus on
// and room in the mempool and RPC for reveal transactions. (The SDK sets
// timeout_commit to 5 s for a new home; local networks use 1 s.)
func cometConfig() *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.Instrumentation.Prometheus = true
	cfg.Mempool.MaxTxBytes = maxTxBytes
	cfg.Mempool.MaxTxsBytes = 256 << 20
	cfg.RPC.MaxBodyBytes = maxBodyBytes
	return cfg
}

// appConfig is app.toml's defaults: a minimum gas price, a query and
// simulation gas limit, REST and swagger on, gRPC on, telemetry (Prometheus) on.
func appConfig() (string, any) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = app.DefaultMinGasPrices
	// A query or a simulation may use at most what a block may hold: without
	// a limit any public node would recompute segments for free.
	cfg.QueryGasLimit = app.GenesisMaxBlockGas
	cfg.API.Enable = true
	cfg.API.Swagger = true
	cfg.API.EnableUnsafeCORS = false
	cfg.GRPC.Enable = true
	cfg.GRPC.MaxRecvMsgSize = maxBodyBytes
	cfg.Telemetry.Enabled = true
	cfg.Telemetry.PrometheusRetentionTime = 60
	return serverconfig.DefaultConfigTemplate, cfg
}
