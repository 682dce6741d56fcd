package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cosmos/cosmos-sdk/client"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// ClientConfig tunes transaction submission.
type ClientConfig struct {
	// GasAdjustment multiplies the simulated gas (default 1.3).
	GasAdjustment float64
	// GasPrices pays fees; empty uses the node's minimum gas price.
	GasPrices string
	// TxTimeout bounds the wait for a broadcast transaction to be included
	// in a block (default 60 s).
	TxTimeout time.Duration
}

// Client talks to a Hinterland node: gRPC queries (through --grpc-addr, or
// ABCI queries over CometBFT RPC) and transactions signed with a keyring key,
// simulated for gas, paid at the gas price, broadcast and waited for.
// Submissions are serialised, so one key never races itself on sequences.
type Client struct {
	cctx      client.Context
	cfg       ClientConfig
	gasPrices sdk.DecCoins
	log       *slog.Logger

	Tasks        taskstypes.QueryClient
	Verification vtypes.QueryClient
	Rewards      rewardstypes.QueryClient
	Annotation   annotationtypes.QueryClient
	Federated    fedtypes.QueryClient
	Bank         banktypes.QueryClient
	txs          txtypes.ServiceClient

	mu sync.Mutex
}

// NewClient checks the client context (a signing key, a node, a chain id,
// read from the node when missing) and resolves the gas price.
func NewClient(ctx context.Context, cctx client.Context, cfg ClientConfig, log *slog.Logger) (*Client, error) {
	if cctx.Client == nil {
		return nil, errors.New("no node: give --node tcp://HOST:PORT")
	}
	if cctx.FromAddress.Empty() || cctx.FromName == "" {
		return nil, errors.New("no signing key: give --from KEY (and --keyring-backend, --home)")
	}
	if cctx.Keyring == nil {
		return nil, errors.New("no keyring: give --keyring-backend and --home")
	}
	if cfg.GasAdjustment <= 0 {
		cfg.GasAdjustment = 1.3
	}
	if cfg.TxTimeout <= 0 {
		cfg.TxTimeout = 60 * time.Second
	}
	if cctx.ChainID == "" {
		st, err := cctx.Client.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the chain id from the node: %w", err)
		}
		cctx = cctx.WithChainID(st.NodeInfo.Network)
	}
	c := &Client{
		cctx: cctx, cfg: cfg, log: log,
		Tasks:        taskstypes.NewQueryClient(cctx),
		Verification: vtypes.NewQueryClient(cctx),
		Rewards:      rewardstypes.NewQueryClient(cctx),
		Annotation:   annotationtypes.NewQueryClient(cctx),
		Federated:    fedtypes.NewQueryClient(cctx),
		Bank:         banktypes.NewQueryClient(cctx),
		txs:          txtypes.NewServiceClient(cctx),
	}
	prices := cfg.GasPrices
	if prices == "" {
		res, err := nodeservice.NewServiceClient(cctx).Config(ctx, &nodeservice.ConfigRequest{})
		if err != nil {
			return nil, fmt.Errorf("reading the node's minimum gas price (or give --gas-prices): %w", err)
		}
		prices = res.MinimumGasPrice
	}
	if prices != "" {
		p, err := sdk.ParseDecCoins(prices)
		if err != nil {
			return nil, fmt.Errorf("gas prices %q: %w", prices, err)
		}
		c.gasPrices = p
	}
	return c, nil
}

// Address is the signing account.
func (c *Client) Address() string { return c.cctx.FromAddress.String() }

// ChainID is the chain the client signs for.
func (c *Client) ChainID() string { return c.cctx.ChainID }

// Context is the client context (for CometBFT RPC access).
func (c *Client) Context() client.Context { return c.cctx }

// TxResult is an included transaction.
type TxResult struct {
	Hash      string
	Height    int64
	Code      uint32
	Codespace string
	Log       string
	GasWanted int64
	GasUsed   int64
	Fee       sdk.Coins
	Events    []abci.Event
}

// Record converts the result to a txs.jsonl line.
func (r *TxResult) Record(kind string, segment *uint32) TxRecord {
	return TxRecord{Time: time.Now().UTC(), Kind: kind, Segment: segment, Hash: r.Hash, Height: r.Height, Code: r.Code,
		GasWanted: r.GasWanted, GasUsed: r.GasUsed, Fee: r.Fee.String(), Log: r.Log}
}

// TxError is a transaction that was rejected or failed; Result is set when
// it got as far as a block.
type TxError struct {
	Stage  string // simulate, checktx, delivertx, wait
	Result *TxResult
	Err    error
}

func (e *TxError) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }
func (e *TxError) Unwrap() error { return e.Err }

// Submit simulates the messages for gas (times the adjustment), pays fees at
// the gas price, signs, broadcasts and waits until the transaction is in a
// block. It returns the result; a transaction that fails (at any stage) is a
// *TxError naming the stage, the code and the log.
func (c *Client) Submit(ctx context.Context, msgs ...sdk.Msg) (*TxResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var res *TxResult
		res, err = c.submit(ctx, msgs)
		if err == nil || !isSequenceMismatch(err) {
			return res, err
		}
		// A transaction of ours is still in flight (or the node lags): the
		// sequence from the chain is stale; wait for a block and retry.
		c.log.Warn("account sequence mismatch; retrying", "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return nil, err
}

func isSequenceMismatch(err error) bool {
	var te *TxError
	return errors.As(err, &te) && strings.Contains(te.Err.Error(), sdkerrors.ErrWrongSequence.Error())
}

func (c *Client) submit(ctx context.Context, msgs []sdk.Msg) (*TxResult, error) {
	f := tx.Factory{}.
		WithTxConfig(c.cctx.TxConfig).
		WithAccountRetriever(c.cctx.AccountRetriever).
		WithKeybase(c.cctx.Keyring).
		WithChainID(c.cctx.ChainID).
		WithFromName(c.cctx.FromName).
		WithGasAdjustment(c.cfg.GasAdjustment).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	f, err := f.Prepare(c.cctx)
	if err != nil {
		return nil, &TxError{Stage: "account", Err: err}
	}
	_, gas, err := tx.CalculateGas(c.cctx, f, msgs...)
	if err != nil {
		return nil, &TxError{Stage: "simulate", Err: err}
	}
	// The simulation carries no fee, so the ante handler's fee transfer
	// (about 12 600 gas of reads and writes) is not in it; the real
	// transaction pays one. Without this a small transaction (a claim, a
	// seal) could run out of gas by a few hundred units.
	gas += feeTransferGas
	fees := c.Fee(gas)
	f = f.WithGas(gas).WithFees(fees.String())
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, &TxError{Stage: "build", Err: err}
	}
	if err := tx.Sign(ctx, f, c.cctx.FromName, b, true); err != nil {
		return nil, &TxError{Stage: "sign", Err: err}
	}
	bz, err := c.cctx.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		return nil, &TxError{Stage: "encode", Err: err}
	}
	br, err := c.cctx.WithBroadcastMode("sync").BroadcastTx(bz)
	if err != nil {
		return nil, &TxError{Stage: "broadcast", Err: err}
	}
	if br.Code != 0 {
		return nil, &TxError{Stage: "checktx", Err: fmt.Errorf("code %d (%s): %s", br.Code, br.Codespace, br.RawLog)}
	}
	res, err := c.waitTx(ctx, br.TxHash)
	if err != nil {
		return nil, &TxError{Stage: "wait", Err: fmt.Errorf("tx %s: %w", br.TxHash, err)}
	}
	res.Fee = fees
	if res.Code != 0 {
		return res, &TxError{Stage: "delivertx", Result: res, Err: fmt.Errorf("tx %s code %d (%s): %s", res.Hash, res.Code, res.Codespace, res.Log)}
	}
	return res, nil
}

// feeTransferGas covers what a fee-paying transaction's ante handler spends
// beyond a fee-less simulation (the fee's bank transfer), with margin.
const feeTransferGas = 20_000

// Fee is the fee for gas at the client's gas price (rounded up).
func (c *Client) Fee(gas uint64) sdk.Coins {
	var fees sdk.Coins
	for _, p := range c.gasPrices {
		amt := p.Amount.MulInt64(int64(gas)).Ceil().TruncateInt()
		if amt.IsPositive() {
			fees = fees.Add(sdk.NewCoin(p.Denom, amt))
		}
	}
	return fees
}

// waitTx polls for a transaction until it is in a block.
func (c *Client) waitTx(ctx context.Context, hash string) (*TxResult, error) {
	deadline := time.Now().Add(c.cfg.TxTimeout)
	for {
		res, err := c.txs.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err == nil && res.TxResponse != nil {
			r := res.TxResponse
			return &TxResult{Hash: r.TxHash, Height: r.Height, Code: r.Code, Codespace: r.Codespace, Log: r.RawLog,
				GasWanted: r.GasWanted, GasUsed: r.GasUsed, Events: r.Events}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("not in a block after %s (last error: %v)", c.cfg.TxTimeout, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// ---------------------------------------------------------------------------
// Queries.
// ---------------------------------------------------------------------------

// Task returns a task.
func (c *Client) Task(ctx context.Context, id uint64) (taskstypes.Task, error) {
	res, err := c.Tasks.Task(ctx, &taskstypes.QueryTaskRequest{Id: id})
	if err != nil {
		return taskstypes.Task{}, fmt.Errorf("query task %d: %w", id, err)
	}
	return res.Task, nil
}

// ListTasks returns every task matching the filter, all pages.
func (c *Client) ListTasks(ctx context.Context, req taskstypes.QueryTasksRequest) ([]taskstypes.Task, error) {
	var out []taskstypes.Task
	req.Pagination = &query.PageRequest{Limit: 200}
	for {
		res, err := c.Tasks.Tasks(ctx, &req)
		if err != nil {
			return nil, fmt.Errorf("query tasks: %w", err)
		}
		out = append(out, res.Tasks...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey, Limit: 200}
	}
}

// Assignment returns a worker's claim on a task, if any.
func (c *Client) Assignment(ctx context.Context, taskID uint64, worker string) (*taskstypes.Assignment, error) {
	res, err := c.Tasks.Assignments(ctx, &taskstypes.QueryAssignmentsRequest{TaskId: taskID})
	if err != nil {
		return nil, fmt.Errorf("query assignments of task %d: %w", taskID, err)
	}
	for i := range res.Assignments {
		if res.Assignments[i].Worker == worker {
			return &res.Assignments[i], nil
		}
	}
	return nil, nil
}

// Transcript returns a worker's transcript of a task, if any.
func (c *Client) Transcript(ctx context.Context, taskID uint64, worker string) (*vtypes.Transcript, error) {
	res, err := c.Verification.Transcripts(ctx, &vtypes.QueryTranscriptsRequest{TaskId: taskID})
	if err != nil {
		return nil, fmt.Errorf("query transcripts of task %d: %w", taskID, err)
	}
	for i := range res.Transcripts {
		if res.Transcripts[i].Worker == worker {
			return &res.Transcripts[i], nil
		}
	}
	return nil, nil
}

// Challenges returns the challenges of one worker's transcript of a task.
func (c *Client) Challenges(ctx context.Context, taskID uint64, worker string) ([]vtypes.Challenge, error) {
	res, err := c.Verification.Challenges(ctx, &vtypes.QueryChallengesRequest{TaskId: taskID})
	if err != nil {
		return nil, fmt.Errorf("query challenges of task %d: %w", taskID, err)
	}
	var out []vtypes.Challenge
	for _, ch := range res.Challenges {
		if ch.Worker == worker {
			out = append(out, ch)
		}
	}
	return out, nil
}

// VerificationParams returns the x/verification params.
func (c *Client) VerificationParams(ctx context.Context) (vtypes.Params, error) {
	res, err := c.Verification.Params(ctx, &vtypes.QueryParamsRequest{})
	if err != nil {
		return vtypes.Params{}, fmt.Errorf("query verification params: %w", err)
	}
	return res.Params, nil
}

// TasksParams returns the x/tasks params (the accepted denoms and their terms).
func (c *Client) TasksParams(ctx context.Context) (taskstypes.Params, error) {
	res, err := c.Tasks.Params(ctx, &taskstypes.QueryParamsRequest{})
	if err != nil {
		return taskstypes.Params{}, fmt.Errorf("query tasks params: %w", err)
	}
	return res.Params, nil
}

// Balance returns an account's balance of one denom.
func (c *Client) Balance(ctx context.Context, addr, denom string) (sdk.Coin, error) {
	res, err := c.Bank.Balance(ctx, &banktypes.QueryBalanceRequest{Address: addr, Denom: denom})
	if err != nil {
		return sdk.Coin{}, fmt.Errorf("query balance of %s: %w", addr, err)
	}
	if res.Balance == nil {
		return sdk.NewInt64Coin(denom, 0), nil
	}
	return *res.Balance, nil
}

// WaitHeight waits until the chain has a block at height h (or later).
func (c *Client) WaitHeight(ctx context.Context, h int64) error {
	deadline := time.Now().Add(c.cfg.TxTimeout)
	for {
		st, err := c.cctx.Client.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no block at height %d after %s (last error: %v)", h, c.cfg.TxTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// AnnotationLabels returns a settled annotation job's items reference and its
// aggregated labels (one byte per item), read page by page.
func (c *Client) AnnotationLabels(ctx context.Context, jobID uint64) (taskstypes.DatasetRef, []byte, error) {
	job, err := c.Annotation.Job(ctx, &annotationtypes.QueryJobRequest{Id: jobID})
	if err != nil {
		return taskstypes.DatasetRef{}, nil, fmt.Errorf("annotation job %d: %w", jobID, err)
	}
	var labels []byte
	for {
		res, err := c.Annotation.Labels(ctx, &annotationtypes.QueryLabelsRequest{JobId: jobID, Offset: uint32(len(labels)), Limit: 10_000})
		if err != nil {
			return taskstypes.DatasetRef{}, nil, fmt.Errorf("annotation job %d labels: %w", jobID, err)
		}
		for _, l := range res.Labels {
			labels = append(labels, byte(l))
		}
		if len(res.Labels) == 0 || uint32(len(labels)) >= res.Total {
			break
		}
	}
	return job.Job.Items, labels, nil
}
