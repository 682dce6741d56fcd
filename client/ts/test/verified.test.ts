// Against a running chain on which TestTypeScriptClient (tests/e2e) has
// posted a real MNIST task and, once this test has subscribed, starts a
// worker: the subscription, with block events, follows the task through the
// chain's draw, the recomputed segments, the fraud window and the payout; the
// typed queries then show the final transcript, the verdicts, the model's
// lineage and the leaderboard, which go to HINTERLAND_RESULT for the Go side
// to compare with the CLI.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";

import { eventAs, HinterlandEvent, HinterlandQueryClient, subscribeHinterlandEvents } from "../src";
import { EventRewardPaid } from "../src/gen/hinterland/rewards/v1/events";
import { EventSegmentsChallenged, EventSegmentVerified, EventTranscriptFinal } from "../src/gen/hinterland/verification/v1/events";
import { Outcome, TranscriptStatus } from "../src/gen/hinterland/verification/v1/types";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: this test runs against a chain (go test ./tests/e2e -run TestTypeScriptClient sets it up)`);
  return v;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("follow a task to its payout over the websocket (block events), then query it", { timeout: 240_000 }, async () => {
  const rpc = env("HINTERLAND_RPC");
  const taskId = BigInt(env("HINTERLAND_TASK_ID"));
  const sub = await subscribeHinterlandEvents(rpc, "tm.event='Tx'", { blockEvents: true });
  console.log("subscribed"); // the Go side starts the worker now
  const seen: HinterlandEvent[] = [];
  let finalEvent: EventTranscriptFinal | undefined;
  let paid: EventRewardPaid | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        for await (const e of sub) {
          seen.push(e);
          const f = eventAs(e, EventTranscriptFinal);
          if (f?.taskId === taskId) finalEvent = f;
          const p = eventAs(e, EventRewardPaid);
          if (p?.taskId === taskId) paid = p;
          if (finalEvent && paid) return;
        }
        throw new Error("events: the subscription ended");
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no payout of task ${taskId} after 200 s; saw ${JSON.stringify(seen.map((e) => e.type))}`)), 200_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    sub.close();
  }
  assert.ok(finalEvent && paid);
  const ofTask = seen.filter((e) => (e.value as { taskId?: bigint }).taskId === taskId);
  // The draw and the fraud window's end happen in the begin and end blockers:
  // block events, with no transaction hash; the verified segments come with
  // the worker's reveal transactions.
  const drawn = ofTask.map((e) => [e, eventAs(e, EventSegmentsChallenged)] as const).find(([, v]) => v);
  assert.ok(drawn, "the draw was seen");
  assert.equal(drawn[0].txHash, "", "the draw is a block event");
  assert.equal(drawn[0].mode, "BeginBlock");
  const closed = ofTask.find((e) => eventAs(e, EventTranscriptFinal));
  assert.equal(closed?.txHash, "", "the fraud window closes in a block event");
  assert.equal(closed?.mode, "EndBlock");
  const verified = ofTask.filter((e) => eventAs(e, EventSegmentVerified));
  assert.equal(verified.length, drawn[1]!.segments.length);
  assert.ok(verified.every((e) => /^[0-9A-F]{64}$/.test(e.txHash)), "reveals are transactions");

  const query = await HinterlandQueryClient.connect(rpc);
  try {
    const [tr] = await query.transcripts(taskId);
    assert.equal(tr.status, TranscriptStatus.TRANSCRIPT_STATUS_FINAL);
    assert.equal(tr.worker, finalEvent.worker);
    assert.equal(hex(tr.finalModelHash), hex(finalEvent.finalModelHash));
    assert.deepEqual([...tr.verified].sort(), [...drawn[1]!.segments].sort());

    const verdicts = await query.verdicts(taskId);
    const outcomes = verdicts.map((v) => v.outcome);
    assert.equal(outcomes.filter((o) => o === Outcome.OUTCOME_SEGMENT_VERIFIED).length, drawn[1]!.segments.length);
    assert.equal(outcomes.filter((o) => o === Outcome.OUTCOME_PASSED).length, 1);
    assert.equal(outcomes.filter((o) => o === Outcome.OUTCOME_FINAL).length, 1);

    const lineage = await query.lineage(hex(tr.finalModelHash));
    assert.equal(hex(lineage[0].modelHash), hex(tr.finalModelHash));
    assert.equal(lineage[0].taskId, taskId);

    const board = await query.leaderboard();
    const me = board.find((r) => r.address === tr.worker);
    assert.ok(me, "the worker is on the leaderboard");
    assert.equal(me.verifiedMacs, paid.macs);
    writeFileSync(env("HINTERLAND_RESULT"), JSON.stringify({
      worker: tr.worker, modelHash: hex(tr.finalModelHash), verdicts: verdicts.length, verifiedMacs: me.verifiedMacs.toString(), paid: paid.paid,
    }));
  } finally {
    query.disconnect();
  }
});
