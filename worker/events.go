package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// Typed proto events are indexed as <proto message name>.<field>; the names
// come from the modules' types.
var (
	evTaskPosted         = taskstypes.EventTypeTaskPosted
	evTaskReopened       = taskstypes.EventTypeTaskReopened
	evClaimsClosed       = taskstypes.EventTypeClaimsClosed
	evSegmentsChallenged = vtypes.EventTypeSegmentsChallenged
	evTranscriptPassed   = vtypes.EventTypeTranscriptPassed
	evTranscriptFailed   = vtypes.EventTypeTranscriptFailed
	evSegmentVerified    = vtypes.EventTypeSegmentVerified
)

// TxEvents is the query for transactions that emit a typed event.
func TxEvents(name string) string {
	return fmt.Sprintf("tm.event='Tx' AND %s.task_id EXISTS", name)
}

// blockEvents matches the events of every block (begin and end blockers:
// sampled challenges, deadlines). It arrives once per block, so it also
// tells that the websocket is alive.
const blockEvents = "tm.event='NewBlockEvents'"

// Subscribe follows CometBFT events over the node's websocket and calls poke
// with a reason whenever a transaction matching one of txQueries is included,
// or a block's own events include one of blockTypes. Events are hints only
// (the node drops them for slow clients and a reconnect loses some), so
// callers also poll. Subscribe reconnects until ctx ends, and also when no
// block has been announced for a while. It uses len(txQueries)+1 of the five
// subscriptions CometBFT allows a client by default.
func Subscribe(ctx context.Context, node string, txQueries, blockTypes []string, poke func(string), log *slog.Logger) {
	for ctx.Err() == nil {
		if err := subscribeOnce(ctx, node, txQueries, blockTypes, poke, log); err != nil && ctx.Err() == nil {
			log.Warn("event subscription lost; polling until it is back", "node", node, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
	}
}

// staleAfter is how long without a block announcement before reconnecting.
const staleAfter = 30 * time.Second

func subscribeOnce(ctx context.Context, node string, txQueries, blockTypes []string, poke func(string), log *slog.Logger) error {
	c, err := rpchttp.New(node, "/websocket")
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	defer func() { _ = c.Stop() }()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lastBlock atomic.Int64
	lastBlock.Store(time.Now().UnixNano())

	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	for _, q := range append([]string{blockEvents}, txQueries...) {
		ch, err := c.Subscribe(sctx, "hinterland-worker", q, 16)
		if err != nil {
			return fmt.Errorf("subscribe %q: %w", q, err)
		}
		go func(q string) {
			for {
				select {
				case <-cctx.Done():
					return
				case ev := <-ch:
					if q != blockEvents {
						poke(q)
						continue
					}
					lastBlock.Store(time.Now().UnixNano())
					for key := range ev.Events {
						for _, typ := range blockTypes {
							if strings.HasPrefix(key, typ+".") {
								poke("block: " + typ)
								break
							}
						}
					}
				}
			}
		}(q)
	}
	log.Info("following chain events over the websocket", "node", node, "subscriptions", len(txQueries)+1)
	poke("subscribed")
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if time.Since(time.Unix(0, lastBlock.Load())) > staleAfter {
				return fmt.Errorf("no block announced for %s", staleAfter)
			}
		}
	}
}
