package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardUsesExportedMetrics: every hinterland_ metric the Grafana
// dashboard (docs/grafana-hinterland.json) queries is one this package
// documents, and every documented metric is on the dashboard.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "grafana-hinterland.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`hinterland_[a-z_]+`)
	documented := map[string]bool{}
	for _, n := range name.FindAllString(string(src), -1) {
		documented[strings.TrimSuffix(n, "_")] = true
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, n := range name.FindAllString(q.Expr, -1) {
				used[n] = true
				if !documented[n] {
					t.Errorf("panel %q queries %s, which the metrics package does not export", p.Title, n)
				}
			}
		}
	}
	for n := range documented {
		if n != "hinterland" && !used[n] {
			t.Errorf("metric %s is not on the dashboard", n)
		}
	}
}
