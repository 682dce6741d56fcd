package app

import (
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"

	"cosmossdk.io/log/v2"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// TestNoPlaceholderDescriptors: every message a transaction may carry is
// described to the signing code in full, nested types included. A
// placeholder (a type from another file the resolver did not have yet) has
// no fields, and the legacy amino JSON sign bytes then leave out everything
// in it: a signature that does not cover the message.
func TestNoPlaceholderDescriptors(t *testing.T) {
	a := New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{})
	files := a.InterfaceRegistry().SigningContext().FileResolver()
	seen := map[protoreflect.FullName]bool{}
	var walk func(path string, m protoreflect.MessageDescriptor)
	walk = func(path string, m protoreflect.MessageDescriptor) {
		require.False(t, m.IsPlaceholder(), "%s: %s is a placeholder", path, m.FullName())
		if seen[m.FullName()] {
			return
		}
		seen[m.FullName()] = true
		fields := m.Fields()
		for i := 0; i < fields.Len(); i++ {
			f := fields.Get(i)
			if f.Message() != nil {
				walk(path+"."+string(f.Name()), f.Message())
			}
			if f.Enum() != nil {
				require.False(t, f.Enum().IsPlaceholder(), "%s.%s: enum %s is a placeholder", path, f.Name(), f.Enum().FullName())
			}
		}
	}
	msgs := a.InterfaceRegistry().ListImplementations(sdk.MsgInterfaceProtoName)
	require.Greater(t, len(msgs), 50)
	hinterland := 0
	for _, url := range msgs {
		name := protoreflect.FullName(url[1:])
		d, err := files.FindDescriptorByName(name)
		require.NoError(t, err, name)
		walk(string(name), d.(protoreflect.MessageDescriptor))
		if len(name) > 11 && name[:11] == "hinterland." {
			hinterland++
		}
	}
	require.GreaterOrEqual(t, hinterland, 29, "every Hinterland Msg is checked")
}
