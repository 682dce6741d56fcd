// Typed Hinterland queries, sent as ABCI queries of the gRPC methods over the
// node's RPC endpoint: the same endpoint (and connection) as transactions and
// events, answered in protobuf and decoded by the generated types, with no
// REST server (api.enable) needed on the node.
import { createProtobufRpcClient, QueryClient } from "@cosmjs/stargate";
import { CometClient, Comet38Client } from "@cosmjs/tendermint-rpc";

import { PageRequest, PageResponse } from "./gen/cosmos/base/query/v1beta1/pagination";
import { QueryClientImpl as RewardsQuery } from "./gen/hinterland/rewards/v1/query";
import { Reputation } from "./gen/hinterland/rewards/v1/types";
import { QueryClientImpl as TasksQuery } from "./gen/hinterland/tasks/v1/query";
import { Assignment, ModelRecord, Task, TaskStatus } from "./gen/hinterland/tasks/v1/types";
import { QueryClientImpl as VerificationQuery } from "./gen/hinterland/verification/v1/query";
import { Transcript, Verdict } from "./gen/hinterland/verification/v1/types";

/** Filters of tasks(); unset fields match every task. */
export interface TaskFilter {
  readonly status?: TaskStatus;
  readonly poster?: string;
  readonly worker?: string;
}

export class HinterlandQueryClient {
  /** The generated clients, for the queries this class does not wrap. */
  readonly tasksQuery: TasksQuery;
  readonly verificationQuery: VerificationQuery;
  readonly rewardsQuery: RewardsQuery;

  /** rpcUrl: the node's CometBFT RPC (http://host:26657). */
  static async connect(rpcUrl: string): Promise<HinterlandQueryClient> {
    // Not connectComet: CosmJS 0.39 knows CometBFT 0.37, 0.38 and 1.x by
    // version and falls back to the 0.37 client for "0.39.x"; 0.39 speaks
    // 0.38's RPC.
    return new HinterlandQueryClient(await Comet38Client.connect(rpcUrl));
  }

  constructor(private readonly comet: CometClient) {
    const rpc = createProtobufRpcClient(new QueryClient(comet));
    this.tasksQuery = new TasksQuery(rpc);
    this.verificationQuery = new VerificationQuery(rpc);
    this.rewardsQuery = new RewardsQuery(rpc);
  }

  disconnect(): void {
    this.comet.disconnect();
  }

  /** Every task that matches the filter, all pages. */
  tasks(filter: TaskFilter = {}): Promise<Task[]> {
    return allPages(async (pagination) => {
      const r = await this.tasksQuery.Tasks({ status: filter.status ?? TaskStatus.TASK_STATUS_UNSPECIFIED, poster: filter.poster ?? "", worker: filter.worker ?? "", pagination });
      return [r.tasks, r.pagination];
    });
  }

  /** One task; rejects when there is none with this id. */
  async task(id: bigint | number): Promise<Task> {
    const { task } = await this.tasksQuery.Task({ id: BigInt(id) });
    if (!task) throw new Error(`task ${id}: the node answered without a task`);
    return task;
  }

  /** The workers' claims on a task. */
  async assignments(taskId: bigint | number): Promise<Assignment[]> {
    return (await this.tasksQuery.Assignments({ taskId: BigInt(taskId) })).assignments;
  }

  /** The transcripts of a task, one per worker that sealed one. */
  async transcripts(taskId: bigint | number): Promise<Transcript[]> {
    return (await this.verificationQuery.Transcripts({ taskId: BigInt(taskId) })).transcripts;
  }

  /** The verdicts on a task's transcripts (every task's with 0), all pages. */
  verdicts(taskId: bigint | number): Promise<Verdict[]> {
    return allPages(async (pagination) => {
      const r = await this.verificationQuery.Verdicts({ taskId: BigInt(taskId), pagination });
      return [r.verdicts, r.pagination];
    });
  }

  /** A model's lineage, the model first, then its base, and so on (modelHash in hex). */
  async lineage(modelHash: string): Promise<ModelRecord[]> {
    return (await this.tasksQuery.Lineage({ modelHash })).records;
  }

  /** Workers by verified MACs, at most limit of them. */
  async leaderboard(limit = 100): Promise<Reputation[]> {
    const r = await this.rewardsQuery.Leaderboard({ pagination: PageRequest.fromPartial({ limit: BigInt(limit) }) });
    return r.entries;
  }
}

// Follows next_key until the last page.
async function allPages<T>(page: (p: PageRequest) => Promise<[T[], PageResponse | undefined]>): Promise<T[]> {
  const all: T[] = [];
  let key: Uint8Array = new Uint8Array();
  do {
    const [items, res] = await page(PageRequest.fromPartial({ key, limit: 200n }));
    all.push(...items);
    key = res?.nextKey ?? new Uint8Array();
  } while (key.length > 0);
  return all;
}
