// Tests that need no chain: the registry, the amino converters against the
// layout the Go encoder writes, event decoding, and bad input.
import assert from "node:assert/strict";
import { test } from "node:test";

import { serializeSignDoc, makeSignDoc } from "@cosmjs/amino";
import { fromUtf8 } from "@cosmjs/encoding";
import { AminoTypes } from "@cosmjs/stargate";

import {
  decodeHinterlandEvent,
  eventAs,
  EventTaskClaimed,
  EventTaskPosted,
  hinterlandAminoConverters,
  hinterlandEventTypes,
  hinterlandMsg,
  hinterlandRegistry,
  hinterlandTypes,
  MsgClaimTask,
  MsgPostTask,
  MsgPostTaskResponse,
  verification,
  websocketUrl,
} from "../src";
import { aminoMessages } from "../src/gen/amino-meta";
import { datasetRoot, mlpTask, softmaxTask } from "./fixtures";

const poster = "hinter1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du";
const aminoTypes = new AminoTypes(hinterlandAminoConverters);
const postTask = MsgPostTask.fromPartial({ ...mlpTask(new Uint8Array(32).fill(7)), poster });

test("the registry holds every Msg of every module, and only Msgs", () => {
  const msgs = Object.entries(aminoMessages).filter(([, m]) => m.aminoName !== undefined);
  assert.equal(hinterlandTypes.length, msgs.length);
  assert.equal(Object.keys(hinterlandAminoConverters).length, msgs.length);
  const urls = hinterlandTypes.map(([url]) => url);
  for (const url of ["/hinterland.tasks.v1.MsgPostTask", "/hinterland.verification.v1.MsgSealTranscript", "/hinterland.federated.v1.MsgJoinRound",
    "/hinterland.annotation.v1.MsgOpenLabels", "/hinterland.rewards.v1.MsgFundPool"]) {
    assert.ok(urls.includes(url), url);
  }
  assert.ok(!urls.some((u) => u.endsWith("Response")));
  // Every field of the amino layout is a property of the ts-proto message.
  for (const [url, type] of hinterlandTypes) {
    const keys = Object.keys(type.fromPartial({})).sort();
    assert.deepEqual(keys, aminoMessages[url.slice(1)].fields.map((f) => f.key).sort(), url);
  }
});

test("MsgPostTask round-trips through the registry", () => {
  const registry = hinterlandRegistry();
  const any = registry.encodeAsAny({ typeUrl: "/hinterland.tasks.v1.MsgPostTask", value: postTask });
  assert.equal(any.typeUrl, "/hinterland.tasks.v1.MsgPostTask");
  const back = registry.decode(any);
  assert.deepEqual(back, postTask);
  assert.deepEqual(back.spec?.hidden, [128]);
  assert.equal(back.spec?.totalSteps, 40n);
  assert.ok(registry.lookupType("/cosmos.bank.v1beta1.MsgSend"), "the SDK's Msgs stay registered");
});

// What x/tx/signing/aminojson writes for postTask: proto field names, 64-bit
// integers as strings, enums and 32-bit integers as numbers, bytes in base64,
// durations in nanoseconds, zero fields left out except dont_omitempty ones.
test("MsgPostTask amino JSON is the chain's", () => {
  const amino = aminoTypes.toAmino({ typeUrl: "/hinterland.tasks.v1.MsgPostTask", value: postTask });
  assert.deepEqual(amino, {
    type: "hinterland/x/tasks/MsgPostTask",
    value: {
      poster,
      spec: {
        model: 2,
        inputs: 784,
        hidden: [128],
        outputs: 10,
        objective: 2,
        optimizer: 1,
        frac_bits: 16,
        batch_size: 32,
        learning_rate: 1311,
        momentum: 58982,
        total_steps: "40",
        segment_steps: "8",
      },
      dataset: {
        root: Buffer.from(datasetRoot).toString("base64"),
        rows: "1000",
        schema: { kind: 1, feature_type: 1, features: 784, classes: 10 },
        uri: "https://example.org/mnist-1000.hlds?set=train&limit=1000",
      },
      reward: { denom: "uhint", amount: "1000000" },
      bond: { denom: "uhint", amount: "100000" },
      replicas: 2,
      samples: 3,
      claim_window: "600000000000",
      commit_window: "300500000000",
      secret_hash: Buffer.alloc(32, 7).toString("base64"),
    },
  });
  // The sign doc escapes & < > as Go's encoding/json does.
  const doc = fromUtf8(serializeSignDoc(makeSignDoc([amino], { amount: [], gas: "1" }, "c", "", 1, 2)));
  assert.match(doc, /set=train\\u0026limit=1000/);
});

test("dont_omitempty fields are written when empty, and sent so the chain writes them too", () => {
  const bare = { typeUrl: "/hinterland.tasks.v1.MsgPostTask", value: MsgPostTask.fromPartial({ poster }) };
  const amino = aminoTypes.toAmino(bare);
  assert.deepEqual(amino.value, {
    poster,
    spec: {},
    dataset: { schema: {} },
    reward: { amount: "0" },
    bond: { amount: "0" },
  });
  const back = aminoTypes.fromAmino(amino);
  assert.deepEqual(aminoTypes.toAmino(back), amino);
  const encoded = MsgPostTask.decode(MsgPostTask.encode(MsgPostTask.fromPartial(back.value)).finish());
  assert.ok(encoded.spec && encoded.dataset?.schema && encoded.reward && encoded.bond, "every dont_omitempty message is on the wire");
  // A non-empty list with null_slice_as_empty aside, empty lists are left out.
  assert.equal("hidden" in amino.value.spec, false);
});

test("amino round trip gives back the message, byte for byte", () => {
  for (const value of [postTask, MsgPostTask.fromPartial({ ...softmaxTask(), poster })]) {
    const back = aminoTypes.fromAmino(aminoTypes.toAmino({ typeUrl: "/hinterland.tasks.v1.MsgPostTask", value }));
    assert.equal(back.typeUrl, "/hinterland.tasks.v1.MsgPostTask");
    assert.deepEqual(MsgPostTask.encode(MsgPostTask.fromPartial(back.value)).finish(), MsgPostTask.encode(value).finish());
  }
  const claim = { typeUrl: "/hinterland.tasks.v1.MsgClaimTask", value: MsgClaimTask.fromPartial({ worker: poster, taskId: 18446744073709551615n }) };
  assert.deepEqual(aminoTypes.toAmino(claim), { type: "hinterland/x/tasks/MsgClaimTask", value: { worker: poster, task_id: "18446744073709551615" } });
  assert.deepEqual(aminoTypes.fromAmino(aminoTypes.toAmino(claim)), claim);
});

test("cosmos.Dec params are written with 18 decimals", () => {
  const typeUrl = "/hinterland.verification.v1.MsgUpdateParams";
  const value = verification.MsgUpdateParams.fromPartial({ authority: poster, params: { challengeGasPrice: "1000000000000000", challengeBondFactor: 2 } });
  const amino = aminoTypes.toAmino({ typeUrl, value });
  assert.equal(amino.type, "hl/verification/MsgUpdateParams");
  assert.equal(amino.value.params.challenge_gas_price, "0.001000000000000000");
  const back = aminoTypes.fromAmino(amino);
  assert.equal(back.value.params.challengeGasPrice, "1000000000000000");
  assert.deepEqual(aminoTypes.toAmino(back), amino);
  const unset = aminoTypes.toAmino({ typeUrl, value: verification.MsgUpdateParams.fromPartial({ authority: poster }) });
  assert.equal(unset.value.params.challenge_gas_price, "0");
});

test("bad input is refused with the field it concerns", () => {
  const claim = (taskId: unknown) => ({ typeUrl: "/hinterland.tasks.v1.MsgClaimTask", value: { worker: poster, taskId } });
  assert.throws(() => aminoTypes.toAmino(claim("seven")), /MsgClaimTask\.task_id: want a 64-bit integer \(bigint\), got seven/);
  assert.throws(() => aminoTypes.toAmino(claim(1.5)), /MsgClaimTask\.task_id: want a 64-bit integer/);
  assert.throws(
    () => aminoTypes.fromAmino({ type: "hinterland/x/tasks/MsgClaimTask", value: { worker: poster, task_id: 7 } }),
    /MsgClaimTask\.task_id: want a decimal string, got 7/,
  );
  assert.throws(
    () => aminoTypes.toAmino({ typeUrl: "/hinterland.tasks.v1.MsgPostTask", value: { ...postTask, spec: { ...postTask.spec, inputs: "784" } } }),
    /MsgPostTask\.spec\.inputs: want an integer, got 784/,
  );
  assert.throws(
    () => aminoTypes.fromAmino({ type: "hinterland/x/tasks/MsgPostTask", value: { poster, claim_window: "10m" } }),
    /MsgPostTask\.claim_window: want a duration in nanoseconds, got "10m"/,
  );
  assert.throws(() => hinterlandMsg(MsgPostTaskResponse, {}), /not a Hinterland Msg type/);
  assert.throws(() => hinterlandRegistry().decode({ typeUrl: "/hinterland.tasks.v1.MsgPostTask", value: Uint8Array.of(0x12, 0x05, 0x01) }));
});

test("typed events decode from ABCI attributes", () => {
  assert.ok(hinterlandEventTypes.has("hinterland.verification.v1.EventSegmentsChallenged"));
  const e = decodeHinterlandEvent(
    {
      type: "hinterland.tasks.v1.EventTaskPosted",
      attributes: [
        { key: "task_id", value: '"42"' },
        { key: "poster", value: JSON.stringify(poster) },
        { key: "reward", value: '"1000000uhint"' },
        { key: "replicas", value: "2" },
        { key: "dataset_root", value: JSON.stringify(Buffer.from(datasetRoot).toString("base64")) },
        { key: "claim_deadline", value: '"2026-01-02T03:04:05.5Z"' },
        { key: "msg_index", value: "0" },
      ],
    },
    9,
    "AB",
  );
  assert.ok(e);
  assert.equal(eventAs(e, EventTaskClaimed), undefined);
  const posted = eventAs(e, EventTaskPosted);
  assert.ok(posted);
  assert.equal(posted.taskId, 42n);
  assert.equal(posted.poster, poster);
  assert.equal(posted.replicas, 2);
  assert.deepEqual(posted.datasetRoot, new Uint8Array(datasetRoot));
  assert.deepEqual(posted.claimDeadline, { seconds: 1767323045n, nanos: 500_000_000 });
  assert.equal(e.msgIndex, 0);
  assert.equal(decodeHinterlandEvent({ type: "transfer", attributes: [] }), undefined);
  // A block event (begin or end blocker) carries mode, not msg_index.
  const final = decodeHinterlandEvent({
    type: "hinterland.verification.v1.EventTranscriptFinal",
    attributes: [{ key: "task_id", value: '"3"' }, { key: "mode", value: "EndBlock" }],
  }, 20, "");
  assert.equal(final?.mode, "EndBlock");
  assert.equal(final?.msgIndex, undefined);
  assert.equal((final?.value as { taskId: bigint }).taskId, 3n);
  assert.throws(
    () => decodeHinterlandEvent({ type: "hinterland.tasks.v1.EventTaskPosted", attributes: [{ key: "task_id", value: "{" }] }),
    /EventTaskPosted\.task_id: the value "\{" is not JSON/,
  );
  assert.equal(websocketUrl("tcp://127.0.0.1:26657"), "ws://127.0.0.1:26657");
  assert.equal(websocketUrl("https://rpc.example.org/comet/websocket"), "wss://rpc.example.org/comet");
  assert.equal(websocketUrl("ws://127.0.0.1:26657/"), "ws://127.0.0.1:26657");
});
