package sim

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// skipPrefixes are the store entries an import does not reproduce by design
// of the SDK modules (the exceptions the SDK's own simapp makes: staking's
// queues, indexes and block-scratch entries, feegrant's expiry queue,
// slashing's missed-block bitmaps).
// Hinterland's other stores have none.
var skipPrefixes = map[string][][]byte{
	stakingtypes.StoreKey: {
		stakingtypes.UnbondingQueueKey, stakingtypes.RedelegationQueueKey, stakingtypes.ValidatorQueueKey,
		stakingtypes.HistoricalInfoKey, stakingtypes.UnbondingIDKey, stakingtypes.UnbondingIndexKey,
		stakingtypes.UnbondingTypeKey, stakingtypes.ValidatorUpdatesKey,
	},
	feegrant.StoreKey:      {feegrant.FeeAllowanceQueueKeyPrefix},
	slashingtypes.StoreKey: {slashingtypes.ValidatorMissedBlockBitmapKeyPrefix},
}

// knownAnnotationGaps were x/annotation's collections its export did not
// carry (claim slots, open counts, deadlines); x/annotation now exports them
// as they are, so none is left and its stores compare entry by entry.
var knownAnnotationGaps []string

// entryDiff is one key whose entry differs: present only before the export
// (a), only after the import (b), or with different values.
type entryDiff struct {
	key  []byte
	what string
}

// diffStores compares every entry of a and b outside the skipped prefixes.
// (The SDK's DiffKVStores cannot tell a missing key from a present key with
// an empty value, which every collections KeySet entry has.)
func diffStores(a, b storetypes.KVStore, skip [][]byte) []entryDiff {
	read := func(s storetypes.KVStore) map[string][]byte {
		out := map[string][]byte{}
		it := s.Iterator(nil, nil)
		defer it.Close()
		for ; it.Valid(); it.Next() {
			skipped := false
			for _, p := range skip {
				skipped = skipped || bytes.HasPrefix(it.Key(), p)
			}
			if !skipped {
				out[string(it.Key())] = it.Value()
			}
		}
		return out
	}
	ma, mb := read(a), read(b)
	var diff []entryDiff
	for k, va := range ma {
		vb, ok := mb[k]
		switch {
		case !ok:
			diff = append(diff, entryDiff{[]byte(k), "only before export"})
		case !bytes.Equal(va, vb):
			diff = append(diff, entryDiff{[]byte(k), "values differ"})
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			diff = append(diff, entryDiff{[]byte(k), "only after import"})
		}
	}
	return diff
}

// keyDecoder names the keys of one collection.
type keyDecoder struct {
	name   string
	prefix []byte
}

// keyNames names the collections of the Hinterland stores, from the keepers'
// own schemas (so a new collection is named without editing this file).
func keyNames(a *SimApp) map[string][]keyDecoder {
	out := map[string][]keyDecoder{}
	for store, schema := range map[string]collections.Schema{
		taskstypes.StoreKey:        a.TasksKeeper.Schema,
		verificationtypes.StoreKey: a.VerificationKeeper.Schema,
		rewardstypes.StoreKey:      a.RewardsKeeper.Schema,
		annotationtypes.StoreKey:   a.AnnotationKeeper.Schema,
	} {
		for _, c := range schema.ListCollections() {
			out[store] = append(out[store], keyDecoder{name: c.GetName(), prefix: c.GetPrefix()})
		}
	}
	return out
}

// describeDiff counts the differing entries per collection and lists them
// (at most 40), with their collection and key where known.
func describeDiff(decoders []keyDecoder, diff []entryDiff) string {
	lines := make([]string, 0, len(diff))
	perCollection := map[string]int{}
	for _, d := range diff {
		name, collection := fmt.Sprintf("%X", d.key), "unknown collection"
		for _, kd := range decoders {
			if bytes.HasPrefix(d.key, kd.prefix) {
				name, collection = fmt.Sprintf("%s %X", kd.name, d.key[len(kd.prefix):]), kd.name
				break
			}
		}
		perCollection[collection]++
		lines = append(lines, fmt.Sprintf("  %s: %s", d.what, name))
	}
	sort.Strings(lines)
	if len(lines) > 40 {
		lines = append(lines[:40], fmt.Sprintf("  ... and %d more", len(lines)-40))
	}
	counts := make([]string, 0, len(perCollection))
	for c, n := range perCollection {
		counts = append(counts, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(counts)
	return "  by collection: " + strings.Join(counts, ", ") + "\n" + strings.Join(lines, "\n")
}

// CompareStores requires every store of a (at ctxA) and b (at ctxB) to hold
// the same entries, apart from skipPrefixes; it returns how many entries of
// each store were compared. A difference is reported decoded.
func CompareStores(tb testing.TB, a, b *SimApp, ctxA, ctxB sdk.Context) map[string]int {
	tb.Helper()
	counts := map[string]int{}
	var failed []string
	for _, name := range a.StoreKeyNames() {
		ka, kb := a.GetKey(name), b.GetKey(name)
		require.NotNil(tb, ka, "store %s", name)
		sa, sb := ctxA.KVStore(ka), ctxB.KVStore(kb)
		it := sa.Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			counts[name]++
		}
		require.NoError(tb, it.Close())
		if diff := diffStores(sa, sb, skipPrefixes[name]); len(diff) > 0 {
			failed = append(failed, name)
			tb.Errorf("store %s: %d entries differ after export and import:\n%s", name, len(diff),
				describeDiff(keyNames(a)[name], diff))
		}
	}
	require.Empty(tb, failed, "stores that differ after export and import")
	compareOpenGroups(tb, a, b, ctxA, ctxB)
	return counts
}

// compareOpenGroups requires every labelling job to take claims on the same
// groups before the export and after the import (in any slot order; see
// knownAnnotationGaps).
func compareOpenGroups(tb testing.TB, a, b *SimApp, ctxA, ctxB sdk.Context) {
	tb.Helper()
	open := func(s *SimApp, ctx sdk.Context) map[uint64][]uint32 {
		out := map[uint64][]uint32{}
		k := s.AnnotationKeeper
		err := k.Jobs.Walk(ctx, nil, func(id uint64, j annotationtypes.Job) (bool, error) {
			if j.Status != annotationtypes.JOB_STATUS_LABELLING {
				return false, nil
			}
			n, err := k.OpenCount.Get(ctx, id)
			if errors.Is(err, collections.ErrNotFound) {
				n, err = 0, nil // every group full: no count is stored
			}
			if err != nil {
				return true, fmt.Errorf("job %d: open count: %w", id, err)
			}
			groups := []uint32{}
			for slot := range n {
				g, err := k.OpenGroups.Get(ctx, collections.Join(id, slot))
				if err != nil {
					return true, fmt.Errorf("job %d: open group slot %d: %w", id, slot, err)
				}
				groups = append(groups, g)
			}
			sort.Slice(groups, func(i, j int) bool { return groups[i] < groups[j] })
			out[id] = groups
			return false, nil
		})
		require.NoError(tb, err)
		return out
	}
	require.Equal(tb, open(a, ctxA), open(b, ctxB), "x/annotation: the groups open to claims before the export (expected) and after the import (actual)")
}
