// Package metrics exports the Hinterland modules' Prometheus metrics through
// the SDK's telemetry (app.toml [telemetry]; served by the API server at
// /metrics?format=prometheus next to the SDK's own, CometBFT's on its own
// port). Every name starts with hinterland_<module>_. Keepers call these
// helpers with integers only, so that the consensus code stays free of
// floats and wall-clock time (the determinism lint); nothing here reads or
// writes state.
//
// Metrics (docs/OPERATORS-METRICS.md, and the Grafana dashboard next to it):
//
//	hinterland_tasks_posted                  counter
//	hinterland_tasks_by_status{status}       gauge, refreshed every RefreshBlocks blocks
//	hinterland_verification_reveals{match}   counter
//	hinterland_verification_reveal_ms        summary: RevealSegment handler time, milliseconds
//	hinterland_verification_recomputed_macs  counter
//	hinterland_verification_verdicts{outcome} counter
//	hinterland_rewards_slashes{denom}        counter; hinterland_rewards_slashed{denom} the amounts
//	hinterland_rewards_escrowed{denom}       gauge: coins in custody (escrows and bonds), every RefreshBlocks blocks
package metrics

import (
	"time"

	gometrics "github.com/hashicorp/go-metrics"

	"github.com/cosmos/cosmos-sdk/telemetry"
)

// RefreshBlocks is how often the gauges that walk state are refreshed.
const RefreshBlocks = 10

func labels(kv []string) []gometrics.Label {
	out := make([]gometrics.Label, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, telemetry.NewLabel(kv[i], kv[i+1]))
	}
	return out
}

// Add adds n to the counter hinterland_<module>_<name>; kv are label pairs.
func Add(module, name string, n uint64, kv ...string) {
	telemetry.IncrCounterWithLabels([]string{"hinterland", module, name}, float32(n), labels(kv))
}

// Count adds one to a counter.
func Count(module, name string, kv ...string) { Add(module, name, 1, kv...) }

// Gauge sets the gauge hinterland_<module>_<name>.
func Gauge(module, name string, v uint64, kv ...string) {
	telemetry.SetGaugeWithLabels([]string{"hinterland", module, name}, float32(v), labels(kv))
}

// Timer starts timing; the returned function records the milliseconds since
// in the summary hinterland_<module>_<name>.
func Timer(module, name string) func() {
	start := time.Now()
	return func() {
		if !telemetry.IsTelemetryEnabled() {
			return
		}
		ms := float32(time.Since(start).Microseconds()) / 1000
		gometrics.AddSampleWithLabels([]string{"hinterland", module, name}, ms, nil)
	}
}

// Due reports whether the state-walking gauges refresh at this height.
func Due(height int64) bool { return height%RefreshBlocks == 0 }
