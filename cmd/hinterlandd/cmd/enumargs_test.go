package cmd

import (
	"slices"
	"testing"
)

// TestNormalizeEnumArgs: flag values given as full enum names (what the
// chain prints) become AutoCLI's short forms; other arguments stay.
func TestNormalizeEnumArgs(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"q", "tasks", "tasks", "--status", "TASK_STATUS_OPEN"}, []string{"q", "tasks", "tasks", "--status", "open"}},
		{[]string{"q", "tasks", "tasks", "--status=TASK_STATUS_UNTRAINABLE"}, []string{"q", "tasks", "tasks", "--status=untrainable"}},
		{[]string{"q", "tasks", "tasks", "--status", "open"}, []string{"q", "tasks", "tasks", "--status", "open"}},
		{[]string{"q", "verification", "verdicts", "--outcome", "OUTCOME_SEGMENT_VERIFIED"}, []string{"q", "verification", "verdicts", "--outcome", "segment-verified"}},
		// A positional argument or a value that is not a whole enum name is left alone.
		{[]string{"q", "tasks", "task", "TASK_STATUS_OPEN"}, []string{"q", "tasks", "task", "TASK_STATUS_OPEN"}},
		{[]string{"--memo", "TASK_STATUS_OPEN is a status"}, []string{"--memo", "TASK_STATUS_OPEN is a status"}},
		{[]string{"--status", "TASK_STATUS_BOGUS"}, []string{"--status", "TASK_STATUS_BOGUS"}},
	}
	for _, c := range cases {
		if got := NormalizeEnumArgs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("NormalizeEnumArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if n := len(enumNames()); n < 20 {
		t.Fatalf("only %d Hinterland enum values found", n)
	}
}
