// Against a running chain (tests/e2e TestTypeScriptClient starts one and sets
// the environment): account A signs SIGN_MODE_DIRECT, account B
// SIGN_MODE_LEGACY_AMINO_JSON. Each posts a task and claims the other's; the
// queries and the event subscription must show all four. The ids go to
// HINTERLAND_RESULT for the Go side to check with the CLI.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { test } from "node:test";

import { Secp256k1HdWallet } from "@cosmjs/amino";
import { DirectSecp256k1HdWallet, OfflineSigner } from "@cosmjs/proto-signing";
import { GasPrice } from "@cosmjs/stargate";

import {
  AssignmentStatus,
  eventAs,
  EventTaskClaimed,
  EventTaskPosted,
  HinterlandEvent,
  HinterlandQueryClient,
  HinterlandSigningClient,
  subscribeHinterlandEvents,
  TaskStatus,
} from "../src";
import { datasetRoot, mlpTask, softmaxTask } from "./fixtures";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: this test runs against a chain (go test ./tests/e2e -run TestTypeScriptClient sets it up)`);
  return v;
}

const rpc = env("HINTERLAND_RPC");
const chainId = env("HINTERLAND_CHAIN_ID");
const options = { gasPrice: GasPrice.fromString("0.001uhint") };

async function connect(signer: OfflineSigner): Promise<[HinterlandSigningClient, string]> {
  const [{ address }] = await signer.getAccounts();
  return [await HinterlandSigningClient.connectWithSigner(rpc, signer, options), address];
}

// Collects events until want() holds, or fails after timeoutMs.
async function collect(sub: AsyncIterable<HinterlandEvent>, want: (seen: HinterlandEvent[]) => boolean, timeoutMs: number): Promise<HinterlandEvent[]> {
  const seen: HinterlandEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`events: after ${timeoutMs} ms saw only ${JSON.stringify(seen.map((e) => e.type))}`)), timeoutMs);
  });
  const read = (async () => {
    for await (const e of sub) {
      seen.push(e);
      if (want(seen)) return seen;
    }
    throw new Error("events: the subscription ended");
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("post and claim with direct and amino signing; query and subscribe", { timeout: 120_000 }, async () => {
  const [direct, a] = await connect(await DirectSecp256k1HdWallet.fromMnemonic(env("HINTERLAND_MNEMONIC_A"), { prefix: "hinter" }));
  const [amino, b] = await connect(await Secp256k1HdWallet.fromMnemonic(env("HINTERLAND_MNEMONIC_B"), { prefix: "hinter" }));
  const query = await HinterlandQueryClient.connect(rpc);
  const sub = await subscribeHinterlandEvents(rpc);
  try {
    assert.equal(await direct.getChainId(), chainId);

    const posted = await direct.postTask(a, softmaxTask());
    const secret = randomBytes(32);
    const postedAmino = await amino.postTask(b, mlpTask(createHash("sha256").update(secret).digest()), "auto", "signed with amino JSON");
    assert.notEqual(posted.taskId, postedAmino.taskId);
    assert.equal(posted.samples, 3);
    assert.equal(posted.seed.length, 32);
    const claimDirect = await amino.claimTask(b, posted.taskId);
    const claimAmino = await direct.claimTask(a, postedAmino.taskId);

    // Queries, typed.
    const t = await query.task(posted.taskId);
    assert.equal(t.poster, a);
    assert.deepEqual(t.reward, { denom: "uhint", amount: "1000000" });
    assert.equal(t.status, TaskStatus.TASK_STATUS_ASSIGNED);
    assert.equal(t.spec?.totalSteps, 48n);
    assert.deepEqual(t.dataset?.root, new Uint8Array(datasetRoot));
    assert.equal(t.dataset?.uri, "https://example.org/mnist-1000.hlds?set=train&limit=1000");
    assert.deepEqual(t.secretHash, new Uint8Array());

    const ta = await query.task(postedAmino.taskId);
    assert.equal(ta.poster, b);
    assert.equal(ta.replicas, 2);
    assert.equal(ta.active, 1);
    assert.equal(ta.status, TaskStatus.TASK_STATUS_OPEN);
    assert.deepEqual(ta.spec?.hidden, [128]);
    assert.equal(ta.commitWindow?.nanos, 500_000_000);
    assert.deepEqual(ta.secretHash, new Uint8Array(createHash("sha256").update(secret).digest()));

    assert.deepEqual((await query.tasks({ poster: b })).map((x) => x.id), [postedAmino.taskId]);
    assert.ok((await query.tasks({ status: TaskStatus.TASK_STATUS_OPEN })).some((x) => x.id === postedAmino.taskId));
    assert.ok(!(await query.tasks({ status: TaskStatus.TASK_STATUS_OPEN })).some((x) => x.id === posted.taskId));
    const [claim] = await query.assignments(posted.taskId);
    assert.equal(claim.worker, b);
    assert.equal(claim.status, AssignmentStatus.ASSIGNMENT_STATUS_ACTIVE);
    assert.deepEqual(claim.bond, { denom: "uhint", amount: "100000" });
    assert.deepEqual(await query.transcripts(posted.taskId), []);
    assert.deepEqual(await query.verdicts(posted.taskId), []);
    assert.deepEqual(await query.leaderboard(), []);
    await assert.rejects(query.lineage("ab".repeat(32)), /was not produced by a verified task/);

    // The subscription saw both posts and both claims, from their transactions.
    const events = await collect(
      sub,
      (seen) => seen.filter((e) => eventAs(e, EventTaskPosted) || eventAs(e, EventTaskClaimed)).length >= 4,
      20_000,
    );
    const posts = events.flatMap((e) => {
      const v = eventAs(e, EventTaskPosted);
      return v ? [{ id: v.taskId, poster: v.poster, txHash: e.txHash }] : [];
    });
    assert.deepEqual(posts, [
      { id: posted.taskId, poster: a, txHash: posted.tx.transactionHash },
      { id: postedAmino.taskId, poster: b, txHash: postedAmino.tx.transactionHash },
    ]);
    const claims = events.flatMap((e) => {
      const v = eventAs(e, EventTaskClaimed);
      return v ? [{ id: v.taskId, worker: v.worker, txHash: e.txHash }] : [];
    });
    assert.deepEqual(claims, [
      { id: posted.taskId, worker: b, txHash: claimDirect.transactionHash },
      { id: postedAmino.taskId, worker: a, txHash: claimAmino.transactionHash },
    ]);

    const out = process.env.HINTERLAND_RESULT;
    if (out) {
      writeFileSync(out, JSON.stringify({ direct: { id: posted.taskId.toString(), poster: a, claimedBy: b },
        amino: { id: postedAmino.taskId.toString(), poster: b, claimedBy: a } }));
    }
  } finally {
    sub.close();
    query.disconnect();
    direct.disconnect();
    amino.disconnect();
  }
});
