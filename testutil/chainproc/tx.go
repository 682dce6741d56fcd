package chainproc

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// TxResult is a transaction as `query tx` reports it.
type TxResult struct {
	Hash    string
	Height  int64
	Code    uint32
	RawLog  string
	GasUsed int64
	Events  []Event
}

// Event is an ABCI event of a transaction.
type Event struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// Attr returns the value of an attribute of the first event of a type, with
// the JSON quotes of typed-event attributes removed.
func (r TxResult) Attr(eventType, key string) (string, bool) {
	for _, e := range r.Events {
		if e.Type != eventType {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				if s, err := strconv.Unquote(a.Value); err == nil {
					return s, true
				}
				return a.Value, true
			}
		}
	}
	return "", false
}

type txJSON struct {
	TxHash  string  `json:"txhash"`
	Height  string  `json:"height"`
	Code    uint32  `json:"code"`
	RawLog  string  `json:"raw_log"`
	GasUsed string  `json:"gas_used"`
	Events  []Event `json:"events"`
}

// Tx signs a transaction command (e.g. "tx", "tasks", "post", ...) with the
// key from, broadcasts it with simulated gas at GasPrice, and waits until it
// is in a block. A transaction rejected by CheckTx is returned with its code
// and no height; the caller decides whether that is expected.
func (c *Chain) Tx(from string, args ...string) TxResult {
	c.t.Helper()
	out, err := c.CLI(append(args, "--from", from, "--yes", "--output", "json", "--gas", "auto",
		"--gas-adjustment", "1.5", "--gas-prices", GasPrice)...)
	if err != nil {
		c.t.Fatal(err)
	}
	var br txJSON
	if err := json.Unmarshal([]byte(lastJSON(strings.TrimSpace(out))), &br); err != nil || br.TxHash == "" {
		c.t.Fatalf("%s: no tx hash in %q (%v)", strings.Join(args, " "), out, err)
	}
	if br.Code != 0 {
		return TxResult{Hash: br.TxHash, Code: br.Code, RawLog: br.RawLog}
	}
	return c.WaitTx(br.TxHash, 30*time.Second)
}

// WaitTx waits until a transaction is in a block and returns it.
func (c *Chain) WaitTx(hash string, timeout time.Duration) TxResult {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.CLI("query", "tx", hash, "--output", "json")
		if err == nil {
			var r txJSON
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				c.t.Fatalf("query tx %s: %v", hash, err)
			}
			h, _ := strconv.ParseInt(r.Height, 10, 64)
			g, _ := strconv.ParseInt(r.GasUsed, 10, 64)
			return TxResult{Hash: r.TxHash, Height: h, Code: r.Code, RawLog: r.RawLog, GasUsed: g, Events: r.Events}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("tx %s not in a block within %s: %v", hash, timeout, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// MustTx is Tx failing the test unless the transaction succeeded.
func (c *Chain) MustTx(from string, args ...string) TxResult {
	c.t.Helper()
	r := c.Tx(from, args...)
	if r.Code != 0 {
		c.t.Fatalf("%s: code %d: %s", strings.Join(args, " "), r.Code, r.RawLog)
	}
	return r
}
