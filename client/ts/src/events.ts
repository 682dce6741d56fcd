// Hinterland's typed events over the CometBFT websocket.
//
// The chain emits every state change as a typed event (EmitTypedEvent): the
// event type is the proto message name (hinterland.tasks.v1.EventTaskPosted)
// and each attribute is one field, keyed by its proto name, whose value is
// that field in proto JSON ("\"7\"" for a uint64, "\"TASK_STATUS_OPEN\"" for an
// enum). The SDK adds a msg_index attribute to a transaction's events and a
// mode attribute (BeginBlock, EndBlock) to a block's; neither is a field.
import WebSocket from "ws";

import * as annotation from "./gen/hinterland/annotation/v1/events";
import * as federated from "./gen/hinterland/federated/v1/events";
import * as rewards from "./gen/hinterland/rewards/v1/events";
import * as tasks from "./gen/hinterland/tasks/v1/events";
import * as verification from "./gen/hinterland/verification/v1/events";

/** The part of a ts-proto message type that decodes an event. */
export interface EventType<T> {
  fromJSON(object: unknown): T;
}

const eventModules: readonly Record<string, unknown>[] = [annotation, federated, rewards, tasks, verification];

/** Every Hinterland event type by proto name. */
export const hinterlandEventTypes: ReadonlyMap<string, EventType<unknown>> = new Map(
  eventModules.flatMap((m) =>
    Object.entries(m).flatMap(([name, type]): [string, EventType<unknown>][] =>
      name.startsWith("Event") && typeof type === "object" && type !== null && "fromJSON" in type
        ? [[`${m.protobufPackage as string}.${name}`, type as EventType<unknown>]]
        : [],
    ),
  ),
);
const eventNames = new Map([...hinterlandEventTypes].map(([name, type]) => [type, name]));

/** A decoded Hinterland event of a transaction. */
export interface HinterlandEvent {
  /** The proto name, e.g. hinterland.tasks.v1.EventTaskPosted. */
  readonly type: string;
  /** The decoded message; narrow it with eventAs. */
  readonly value: unknown;
  readonly height: number;
  /** Upper-case hex, as CometBFT prints it; empty for a block event (begin and end blockers). */
  readonly txHash: string;
  /** Index of the Msg that emitted the event in its transaction. */
  readonly msgIndex?: number;
  /** For a block event, the phase that emitted it: BeginBlock or EndBlock. */
  readonly mode?: string;
}

/** The event's value typed as type (e.g. EventTaskPosted), or undefined when it is another event. */
export function eventAs<T>(event: HinterlandEvent, type: EventType<T>): T | undefined {
  return eventNames.get(type) === event.type ? (event.value as T) : undefined;
}

/** Decodes an ABCI event; undefined when it is not a Hinterland event. */
export function decodeHinterlandEvent(
  event: { readonly type: string; readonly attributes: readonly { readonly key: string; readonly value: string }[] },
  height = 0,
  txHash = "",
): HinterlandEvent | undefined {
  const type = hinterlandEventTypes.get(event.type);
  if (!type) return undefined;
  const fields: Record<string, unknown> = {};
  let msgIndex: number | undefined;
  let mode: string | undefined;
  for (const { key, value } of event.attributes) {
    if (key === "msg_index") {
      msgIndex = Number(value);
      continue;
    }
    if (key === "mode") {
      mode = value;
      continue;
    }
    try {
      fields[key] = JSON.parse(value);
    } catch {
      throw new Error(`events: ${event.type}.${key}: the value ${JSON.stringify(value)} is not JSON`);
    }
  }
  return { type: event.type, value: type.fromJSON(fields), height, txHash, msgIndex, mode };
}

/** A live subscription: iterate it with for await; close() ends the iteration and the connection. */
export interface HinterlandSubscription extends AsyncIterable<HinterlandEvent> {
  close(): void;
}

// What CometBFT (0.38, 0.39) sends on the websocket for a Tx subscription,
// and for a NewBlockEvents one (the events of FinalizeBlock outside
// transactions: begin and end blockers).
interface TxEventMessage {
  id?: unknown;
  result?: {
    data?: {
      type?: string;
      value?: { TxResult?: { height?: string; result?: { events?: AbciEvent[] } }; height?: string; events?: AbciEvent[] };
    };
    events?: Record<string, string[]>;
  };
  error?: { message?: string; data?: string };
}

/** Options of subscribeHinterlandEvents. */
export interface SubscribeOptions {
  /**
   * Also deliver the Hinterland events of the begin and end blockers
   * (CometBFT's NewBlockEvents): expiries, draws, fraud windows closing,
   * settlements and payouts. Their txHash is empty.
   */
  blockEvents?: boolean;
}
interface AbciEvent {
  type: string;
  attributes: { key: string; value: string }[];
}

/**
 * Subscribes to the Hinterland events of the transactions that match query
 * (CometBFT's query language; default every transaction). rpcUrl is the node's
 * RPC address (http://host:26657); the subscription uses its /websocket. The
 * promise resolves once the node has accepted the subscription, so no event of
 * a later transaction is missed. Events of the begin and end blockers
 * (expiries, settlements) are block events: ask for them with
 * { blockEvents: true }.
 *
 * This speaks CometBFT's JSON-RPC directly rather than through CosmJS's
 * WebsocketClient, whose socket reconnects after disconnect() (CosmJS 0.39)
 * and so keeps a Node.js process alive.
 */
export async function subscribeHinterlandEvents(
  rpcUrl: string,
  query = "tm.event='Tx'",
  options: SubscribeOptions = {},
): Promise<HinterlandSubscription> {
  const queries = options.blockEvents ? [query, "tm.event='NewBlockEvents'"] : [query];
  let pending = queries.length; // subscriptions not yet accepted
  const ws = new WebSocket(`${websocketUrl(rpcUrl)}/websocket`);
  const queue: HinterlandEvent[] = [];
  const waiting: { resolve: (r: IteratorResult<HinterlandEvent>) => void; reject: (err: Error) => void }[] = [];
  let failure: Error | undefined;
  let done = false;
  let subscribed: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const accepted = new Promise<void>((resolve, reject) => (subscribed = { resolve, reject }));

  const finish = (err?: Error) => {
    if (done) return;
    done = true;
    failure = err;
    // terminate, not close: CometBFT does not answer the closing handshake,
    // and the socket would linger for ws's 30 s close timeout.
    ws.terminate();
    subscribed?.reject(err ?? new Error(`events: ${rpcUrl} closed the websocket`));
    for (const next of waiting.splice(0)) {
      if (err) next.reject(err);
      else next.resolve({ value: undefined, done: true });
    }
  };
  const push = (e: HinterlandEvent) => {
    const next = waiting.shift();
    if (next) next.resolve({ value: e, done: false });
    else queue.push(e);
  };
  ws.on("open", () =>
    queries.forEach((q, id) => ws.send(JSON.stringify({ jsonrpc: "2.0", id, method: "subscribe", params: { query: q } }))),
  );
  ws.on("error", (err) => finish(new Error(`events: ${rpcUrl}: ${err.message}`)));
  ws.on("close", () => finish());
  ws.on("message", (raw) => {
    try {
      const msg = JSON.parse(raw.toString()) as TxEventMessage;
      if (msg.error) throw new Error(`events: subscribe ${JSON.stringify(queries[Number(msg.id)] ?? query)}: ${msg.error.message} ${msg.error.data ?? ""}`.trim());
      const data = msg.result?.data;
      if (data?.type === "tendermint/event/NewBlockEvents") {
        const height = Number(data.value?.height);
        for (const ev of data.value?.events ?? []) {
          const e = decodeHinterlandEvent(ev, height, "");
          if (e) push(e);
        }
        return;
      }
      const tx = data?.value?.TxResult;
      if (!tx) {
        // The answer to a subscribe request.
        if (--pending === 0) subscribed?.resolve();
        return;
      }
      const height = Number(tx.height);
      const txHash = msg.result?.events?.["tx.hash"]?.[0] ?? "";
      for (const ev of tx.result?.events ?? []) {
        const e = decodeHinterlandEvent(ev, height, txHash);
        if (e) push(e);
      }
    } catch (err) {
      finish(err as Error);
    }
  });
  await accepted;

  return {
    close: () => finish(),
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift() as HinterlandEvent, done: false });
        if (failure) return Promise.reject(failure);
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      return: () => {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
    }),
  };
}

/** The ws(s)://host:port address of an http(s):// or tcp:// RPC address (without /websocket). */
export function websocketUrl(rpcUrl: string): string {
  const u = new URL(rpcUrl.replace(/^tcp:/, "http:"));
  u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
  u.pathname = u.pathname.replace(/\/?(websocket)?\/?$/, "");
  return u.toString().replace(/\/$/, "");
}
