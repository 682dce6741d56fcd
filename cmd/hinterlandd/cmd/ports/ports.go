// Package ports is the port layout of hinterlandd nodes sharing one host
// (127.0.0.1): node I of a network whose first port is base listens on
// Port(base, I, offset) for each offset below. `hinterlandd testnet
// init-files` writes its homes with this layout, and the test harness
// (testutil/chainproc) gives every node it runs, the one-validator chain's
// too, its ports with it. It uses the standard library only, so that tests
// can import it without the binary's dependencies.
package ports

import (
	"strconv"
	"strings"
)

// Offsets of a node's listeners from its first port.
const (
	P2P        = iota // CometBFT p2p
	RPC               // CometBFT RPC
	GRPC              // the app's gRPC server
	API               // the app's REST server
	Pprof             // CometBFT's pprof server
	Prometheus        // CometBFT's Prometheus metrics
)

// PerNode is how many ports each node has reserved (only the first
// Prometheus+1 are used).
const PerNode = 10

// Port is the port of a node's listener: base + PerNode*node + offset.
func Port(base, node, offset int) int { return base + PerNode*node + offset }

var names = [...]string{P2P: "p2p", RPC: "rpc", GRPC: "grpc", API: "rest", Pprof: "pprof", Prometheus: "prometheus"}

// Legend lists the offsets and their listeners ("0 p2p, 1 rpc, ...") for
// help texts.
func Legend() string {
	parts := make([]string, len(names))
	for off, name := range names {
		parts[off] = strconv.Itoa(off) + " " + name
	}
	return strings.Join(parts, ", ")
}
