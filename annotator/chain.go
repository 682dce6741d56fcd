package annotator

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/worker"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// Chain is what the annotator needs from the chain: the x/annotation
// queries it reads and the three messages it signs. ChainClient is the real
// one; tests use a fake.
type Chain interface {
	// Address is the signing annotator.
	Address() sdk.AccAddress
	// OpenJobs lists the jobs in JOB_STATUS_LABELLING.
	OpenJobs(ctx context.Context) ([]types.Job, error)
	Job(ctx context.Context, id uint64) (types.Job, error)
	// Batches lists the annotator's own batches of a job.
	Batches(ctx context.Context, jobID uint64) ([]types.Batch, error)
	// GroupItems lists a group's items in the order labels are given.
	GroupItems(ctx context.Context, jobID uint64, group uint32) ([]uint32, error)
	Record(ctx context.Context) (types.AnnotatorRecord, error)
	// Claim sends MsgClaimBatch and returns the group the chain drew.
	Claim(ctx context.Context, jobID uint64) (group uint32, txHash string, err error)
	Seal(ctx context.Context, jobID uint64, group uint32, seal []byte) (txHash string, err error)
	Open(ctx context.Context, jobID uint64, group uint32, labels, salt []byte) (txHash string, err error)
}

// ChainClient is Chain over a worker.Client: its keyring key signs, its
// node answers the queries.
type ChainClient struct {
	c     *worker.Client
	me    sdk.AccAddress
	query types.QueryClient
}

// NewChainClient wraps a worker client.
func NewChainClient(c *worker.Client) *ChainClient {
	cctx := c.Context()
	return &ChainClient{c: c, me: cctx.FromAddress, query: types.NewQueryClient(cctx)}
}

var _ Chain = (*ChainClient)(nil)

// Address is the signing account.
func (c *ChainClient) Address() sdk.AccAddress { return c.me }

// OpenJobs lists every job in JOB_STATUS_LABELLING, all pages.
func (c *ChainClient) OpenJobs(ctx context.Context) ([]types.Job, error) {
	var out []types.Job
	req := &types.QueryJobsRequest{Status: types.JOB_STATUS_LABELLING, Pagination: &query.PageRequest{Limit: 200}}
	for {
		res, err := c.query.Jobs(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("query annotation jobs: %w", err)
		}
		out = append(out, res.Jobs...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey, Limit: 200}
	}
}

// Job returns one job.
func (c *ChainClient) Job(ctx context.Context, id uint64) (types.Job, error) {
	res, err := c.query.Job(ctx, &types.QueryJobRequest{Id: id})
	if err != nil {
		return types.Job{}, fmt.Errorf("query annotation job %d: %w", id, err)
	}
	return res.Job, nil
}

// Batches walks the job's batches (the query pages by offset) and keeps the
// annotator's, compared as address bytes.
func (c *ChainClient) Batches(ctx context.Context, jobID uint64) ([]types.Batch, error) {
	const page = 1000 // the query's largest page
	var out []types.Batch
	for offset := uint64(0); ; offset += page {
		res, err := c.query.Batches(ctx, &types.QueryBatchesRequest{JobId: jobID, Pagination: &query.PageRequest{Offset: offset, Limit: page}})
		if err != nil {
			return nil, fmt.Errorf("query batches of job %d: %w", jobID, err)
		}
		for _, b := range res.Batches {
			if a, err := sdk.AccAddressFromBech32(b.Annotator); err == nil && bytes.Equal(a, c.me) {
				out = append(out, b)
			}
		}
		if len(res.Batches) < page || res.Pagination == nil || offset+page >= res.Pagination.Total {
			return out, nil
		}
	}
}

// GroupItems returns a group's items in label order.
func (c *ChainClient) GroupItems(ctx context.Context, jobID uint64, group uint32) ([]uint32, error) {
	res, err := c.query.Group(ctx, &types.QueryGroupRequest{JobId: jobID, Group: group})
	if err != nil {
		return nil, fmt.Errorf("query group %d of job %d: %w", group, jobID, err)
	}
	return res.Items, nil
}

// Record returns the annotator's record (its reputation).
func (c *ChainClient) Record(ctx context.Context) (types.AnnotatorRecord, error) {
	res, err := c.query.Annotator(ctx, &types.QueryAnnotatorRequest{Address: c.me.String()})
	if err != nil {
		return types.AnnotatorRecord{}, fmt.Errorf("query annotator %s: %w", c.me, err)
	}
	return res.Record, nil
}

// Claim sends MsgClaimBatch and reads the drawn group from the transaction's
// EventBatchClaimed (worker.Client returns events, not message responses).
func (c *ChainClient) Claim(ctx context.Context, jobID uint64) (uint32, string, error) {
	res, err := c.c.Submit(ctx, &types.MsgClaimBatch{Annotator: c.me.String(), JobId: jobID})
	if err != nil {
		return 0, "", fmt.Errorf("claim a batch of job %d: %w", jobID, err)
	}
	for _, e := range res.Events {
		if e.Type != types.EventTypeBatchClaimed {
			continue
		}
		msg, err := sdk.ParseTypedEvent(e)
		if err != nil {
			return 0, res.Hash, fmt.Errorf("claim tx %s: %w", res.Hash, err)
		}
		if ev, ok := msg.(*types.EventBatchClaimed); ok && ev.JobId == jobID {
			return ev.Group, res.Hash, nil
		}
	}
	return 0, res.Hash, errors.New("claim tx " + res.Hash + " has no EventBatchClaimed")
}

// Seal sends MsgSealLabels.
func (c *ChainClient) Seal(ctx context.Context, jobID uint64, group uint32, seal []byte) (string, error) {
	res, err := c.c.Submit(ctx, &types.MsgSealLabels{Annotator: c.me.String(), JobId: jobID, Group: group, Seal: seal})
	if err != nil {
		return "", fmt.Errorf("seal job %d group %d: %w", jobID, group, err)
	}
	return res.Hash, nil
}

// Open sends MsgOpenLabels.
func (c *ChainClient) Open(ctx context.Context, jobID uint64, group uint32, labels, salt []byte) (string, error) {
	res, err := c.c.Submit(ctx, &types.MsgOpenLabels{Annotator: c.me.String(), JobId: jobID, Group: group, Labels: labels, Salt: salt})
	if err != nil {
		return "", fmt.Errorf("open job %d group %d: %w", jobID, group, err)
	}
	return res.Hash, nil
}
