package simulation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskssim "github.com/hinterland-ai/hinterland/x/tasks/simulation"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// Forged returns the segments a simulated worker forges on a task. Whether a
// worker cheats is a pure function of the task's seed and the worker's
// address, so the commit and reveal factories (and the watcher that
// challenges) agree without any state outside the chain: 60% of
// (task, worker) pairs train honestly, 30% forge one segment, 10% forge
// every segment.
func Forged(task taskstypes.Task, worker string) []uint32 {
	n := task.Spec.Segments()
	if n == 0 {
		return nil
	}
	h := sha256.Sum256(append(append([]byte("hinterland/sim/forge/v1"), task.Seed...), worker...))
	switch {
	case h[0]%10 < 6:
		return nil
	case h[0]%10 < 9:
		return []uint32{uint32(uint64(h[1]) % n)}
	default:
		all := make([]uint32, n)
		for i := range all {
			all[i] = uint32(i)
		}
		return all
	}
}

// runs caches training runs: the commit factory trains a job once and the
// reveal factory answers every challenge of it from the same run. The cache
// only saves time; a miss retrains the identical run.
var runs = struct {
	sync.Mutex
	m map[string]*fixtures.Run
}{m: map[string]*fixtures.Run{}}

// maxCachedRuns bounds the cache; simulated jobs are a few KiB each.
const maxCachedRuns = 4096

// Train returns worker's run of task, forging Forged(task, worker).
func Train(task taskstypes.Task, worker string) (*fixtures.Run, error) {
	data := taskssim.DatasetOf(task.Dataset)
	if data == nil {
		return nil, fmt.Errorf("task %d does not use a simulation dataset", task.Id)
	}
	key := hex.EncodeToString(task.Seed) + hex.EncodeToString(task.SpecHash) + worker
	runs.Lock()
	run, ok := runs.m[key]
	runs.Unlock()
	if ok {
		return run, nil
	}
	run, err := fixtures.Train(task, data, Forged(task, worker)...)
	if err != nil {
		return nil, err
	}
	runs.Lock()
	if len(runs.m) >= maxCachedRuns {
		clear(runs.m)
	}
	runs.m[key] = run
	runs.Unlock()
	return run, nil
}

// sameCheckpoints reports whether run produced the committed checkpoints.
func sameCheckpoints(run *fixtures.Run, committed [][]byte) bool {
	got := run.Checkpoints()
	if len(got) != len(committed) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i], committed[i]) {
			return false
		}
	}
	return true
}
