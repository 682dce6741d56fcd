package cmd

import (
	"strings"
	"sync"

	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// enumNames maps the full proto name of every Hinterland enum value
// (TASK_STATUS_OPEN) to the form AutoCLI's enum flags take (open: the value
// without its enum's prefix, in kebab case).
var enumNames = sync.OnceValue(func() map[string]string {
	names := map[string]string{}
	proto.HybridResolver.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "hinterland.") {
			return true
		}
		enums := fd.Enums()
		for i := 0; i < enums.Len(); i++ {
			e := enums.Get(i)
			prefix := screamingSnake(string(e.Name())) + "_"
			vals := e.Values()
			for j := 0; j < vals.Len(); j++ {
				full := string(vals.Get(j).Name())
				if short, ok := strings.CutPrefix(full, prefix); ok {
					names[full] = strings.ReplaceAll(strings.ToLower(short), "_", "-")
				}
			}
		}
		return true
	})
	return names
})

// screamingSnake turns TaskStatus into TASK_STATUS.
func screamingSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// NormalizeEnumArgs lets flags take an enum value by its full proto name, as
// the chain prints it (q tasks tasks --status TASK_STATUS_OPEN), as well as
// by AutoCLI's short form (--status open): a flag value (--flag VALUE or
// --flag=VALUE) that is exactly a Hinterland enum value's full name is
// rewritten to the short form. Nothing else changes.
func NormalizeEnumArgs(args []string) []string {
	names := enumNames()
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if flag, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(flag, "--") {
			if short, ok := names[val]; ok {
				out[i] = flag + "=" + short
			}
			continue
		}
		if i > 0 && strings.HasPrefix(args[i-1], "--") && !strings.Contains(args[i-1], "=") {
			if short, ok := names[a]; ok {
				out[i] = short
			}
		}
	}
	return out
}
