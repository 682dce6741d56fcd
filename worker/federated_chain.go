package worker

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/types/query"
	"github.com/cosmos/gogoproto/proto"

	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
)

// Typed proto events of x/federated a participant follows.
var (
	evRoundPhase      = proto.MessageName(&fedtypes.EventRoundPhase{})
	evUpdateVerdict   = proto.MessageName(&fedtypes.EventUpdateVerdict{})
	evChunkChallenged = proto.MessageName(&fedtypes.EventChunkChallenged{})
	evAggregateFailed = proto.MessageName(&fedtypes.EventAggregateRejected{})
)

// FederatedTxEvents is the query for transactions that emit a typed
// x/federated event (whose events carry job_id, not task_id).
func FederatedTxEvents(name string) string {
	return fmt.Sprintf("tm.event='Tx' AND %s.job_id EXISTS", name)
}

// pageLimit is the page size of the list queries.
const pageLimit = 200

// FederatedJob returns a federated job.
func (c *Client) FederatedJob(ctx context.Context, id uint64) (fedtypes.FederatedJob, error) {
	res, err := c.Federated.Job(ctx, &fedtypes.QueryJobRequest{Id: id})
	if err != nil {
		return fedtypes.FederatedJob{}, fmt.Errorf("query federated job %d: %w", id, err)
	}
	return res.Job, nil
}

// FederatedJobs returns every federated job with the status (all jobs for
// JOB_STATUS_UNSPECIFIED), all pages.
func (c *Client) FederatedJobs(ctx context.Context, status fedtypes.JobStatus) ([]fedtypes.FederatedJob, error) {
	var out []fedtypes.FederatedJob
	req := &fedtypes.QueryJobsRequest{Status: status, Pagination: &query.PageRequest{Limit: pageLimit}}
	for {
		res, err := c.Federated.Jobs(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("query federated jobs: %w", err)
		}
		out = append(out, res.Jobs...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey, Limit: pageLimit}
	}
}

// FederatedRound returns one round of a job.
func (c *Client) FederatedRound(ctx context.Context, jobID uint64, round uint32) (fedtypes.Round, error) {
	res, err := c.Federated.Round(ctx, &fedtypes.QueryRoundRequest{JobId: jobID, Round: round})
	if err != nil {
		return fedtypes.Round{}, fmt.Errorf("query federated job %d round %d: %w", jobID, round, err)
	}
	return res.Round, nil
}

// FederatedRounds returns every round of a job through any query client
// (the CLI's), all pages.
func FederatedRounds(ctx context.Context, q fedtypes.QueryClient, jobID uint64) ([]fedtypes.Round, error) {
	var out []fedtypes.Round
	req := &fedtypes.QueryRoundsRequest{JobId: jobID, Pagination: &query.PageRequest{Limit: pageLimit}}
	for {
		res, err := q.Rounds(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("query rounds of federated job %d: %w", jobID, err)
		}
		out = append(out, res.Rounds...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey, Limit: pageLimit}
	}
}

// FederatedUpdates returns every update of a round, all pages.
func (c *Client) FederatedUpdates(ctx context.Context, jobID uint64, round uint32) ([]fedtypes.Update, error) {
	return FederatedUpdates(ctx, c.Federated, jobID, round)
}

// FederatedUpdates returns every update of a round through any query
// client, all pages.
func FederatedUpdates(ctx context.Context, q fedtypes.QueryClient, jobID uint64, round uint32) ([]fedtypes.Update, error) {
	var out []fedtypes.Update
	req := &fedtypes.QueryUpdatesRequest{JobId: jobID, Round: round, Pagination: &query.PageRequest{Limit: pageLimit}}
	for {
		res, err := q.Updates(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("query updates of federated job %d round %d: %w", jobID, round, err)
		}
		out = append(out, res.Updates...)
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return out, nil
		}
		req.Pagination = &query.PageRequest{Key: res.Pagination.NextKey, Limit: pageLimit}
	}
}

// FederatedChallenges returns the open chunk challenges of a round.
func (c *Client) FederatedChallenges(ctx context.Context, jobID uint64, round uint32) ([]fedtypes.ChunkChallenge, error) {
	res, err := c.Federated.Challenges(ctx, &fedtypes.QueryChallengesRequest{JobId: jobID, Round: round})
	if err != nil {
		return nil, fmt.Errorf("query chunk challenges of federated job %d round %d: %w", jobID, round, err)
	}
	return res.Challenges, nil
}
