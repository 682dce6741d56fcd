// Legacy amino JSON (SIGN_MODE_LEGACY_AMINO_JSON) for every Hinterland Msg,
// built from the layout src/gen/amino-meta.ts reads off the protos' options.
//
// The chain signs what cosmos-sdk x/tx/signing/aminojson writes for the
// protobuf message it decoded from the transaction, so toAmino must agree with
// that encoder field by field, and fromAmino must give back a message whose
// protobuf encoding the chain turns into the same JSON (CosmJS signs
// toAmino(msg) and broadcasts the encoding of fromAmino(toAmino(msg))).
// The encoder's rules, as implemented here:
//   - field names are the proto names (or amino.field_name); keys are sorted
//     by CosmJS when it serialises the sign doc;
//   - a field is written when set in proto3's sense (a scalar that is not its
//     zero value, a non-empty list, a message that is present), otherwise
//     only with amino.dont_omitempty, as its zero value: 0, "", false, "0"
//     for 64-bit integers and cosmos.Int/Dec, null for bytes and lists ([]
//     with amino.encoding legacy_coins / null_slice_as_empty), an empty
//     message written by the same rules;
//   - 64-bit integers are decimal strings, 32-bit integers and enums are JSON
//     numbers (EnumAsString is off in the sign mode handler), bytes are
//     standard base64;
//   - google.protobuf.Duration is its total nanoseconds as a decimal string,
//     Timestamp is RFC 3339 in UTC (fractional seconds only when non-zero);
//   - cosmos.Dec (backed by LegacyDec, whose protobuf form is the integer
//     number of 10^-18 units) is written with its 18 decimals.
import { AminoConverter, AminoConverters } from "@cosmjs/stargate";
import { fromBase64, toBase64 } from "@cosmjs/encoding";

import { aminoMessages } from "./gen/amino-meta";

/** One field of a message as the amino JSON encoder sees it. */
export interface AminoField {
  /** The JSON name: the proto field name or its amino.field_name. */
  readonly name: string;
  /** The ts-proto property. */
  readonly key: string;
  /** int: 32-bit integers; long: 64-bit integers. */
  readonly kind: "string" | "bool" | "bytes" | "int" | "long" | "enum" | "message";
  /** The full proto name of a message field's type. */
  readonly type?: string;
  readonly repeated?: boolean;
  readonly dontOmitEmpty?: boolean;
  readonly nullSliceAsEmpty?: boolean;
  readonly cosmosInt?: boolean;
  readonly cosmosDec?: boolean;
}

/** A message's amino layout; aminoName is set on Msgs. */
export interface AminoMessageMeta {
  readonly aminoName?: string;
  readonly fields: readonly AminoField[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
// ts-proto messages are plain objects; the layout says what each property holds.
type Message = Record<string, any>;

const DURATION = "google.protobuf.Duration";
const TIMESTAMP = "google.protobuf.Timestamp";
const DEC_DECIMALS = 18;

/** AminoConverters for every Hinterland Msg, keyed by type URL. */
export const hinterlandAminoConverters: AminoConverters = Object.fromEntries(
  Object.entries(aminoMessages)
    .filter(([, meta]) => meta.aminoName !== undefined)
    .map(([typeName, meta]) => [`/${typeName}`, converter(typeName, meta.aminoName as string)]),
);

function converter(typeName: string, aminoType: string): AminoConverter {
  return {
    aminoType,
    toAmino: (value: Message) => toAminoMessage(typeName, value, typeName),
    fromAmino: (value: { [key: string]: Json }) => fromAminoMessage(typeName, value, typeName),
  };
}

function layout(typeName: string): AminoMessageMeta {
  const meta = aminoMessages[typeName];
  if (!meta) throw new Error(`amino: no layout for ${typeName}`);
  return meta;
}

/** The amino JSON of a message of the given proto type (without the type/value wrapper). */
export function toAminoMessage(typeName: string, msg: Message | undefined, path = typeName): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const f of layout(typeName).fields) {
    const where = `${path}.${f.name}`;
    const v = msg?.[f.key];
    if (!isSet(f, v, where)) {
      if (f.dontOmitEmpty) out[f.name] = zero(f, where);
      continue;
    }
    out[f.name] = f.repeated ? (v as unknown[]).map((x, i) => toAminoValue(f, x, `${where}[${i}]`)) : toAminoValue(f, v, where);
  }
  return out;
}

/** The ts-proto message (for fromPartial) of an amino JSON value. */
export function fromAminoMessage(typeName: string, json: { [key: string]: Json } | undefined, path = typeName): Message {
  if (json !== undefined && (typeof json !== "object" || json === null || Array.isArray(json))) {
    throw new Error(`amino: ${path}: want an object, got ${JSON.stringify(json)}`);
  }
  const out: Message = {};
  for (const f of layout(typeName).fields) {
    const where = `${path}.${f.name}`;
    const j = json?.[f.name];
    if (j === undefined || j === null) {
      // A message the encoder always writes is always sent, so the chain
      // sees it present and writes it too.
      if (f.kind === "message" && !f.repeated && f.dontOmitEmpty) out[f.key] = fromAminoValue(f, {}, where);
      continue;
    }
    if (f.repeated) {
      if (!Array.isArray(j)) throw new Error(`amino: ${where}: want a list, got ${JSON.stringify(j)}`);
      out[f.key] = j.map((x, i) => fromAminoValue(f, x, `${where}[${i}]`));
    } else {
      out[f.key] = fromAminoValue(f, j, where);
    }
  }
  return out;
}

function isSet(f: AminoField, v: unknown, where: string): boolean {
  if (v === undefined || v === null) return false;
  if (f.repeated) {
    if (!Array.isArray(v)) throw new Error(`amino: ${where}: want an array, got ${typeof v}`);
    return v.length > 0;
  }
  switch (f.kind) {
    case "message":
      return true;
    case "string":
      return v !== "";
    case "bool":
      return v === true;
    case "bytes":
      return (v as Uint8Array).length > 0;
    case "long":
      return toBigInt(v, where) !== 0n;
    default:
      return v !== 0;
  }
}

// The value aminojson writes for an unset field marked dont_omitempty.
function zero(f: AminoField, where: string): Json {
  if (f.repeated) return f.nullSliceAsEmpty ? [] : null;
  switch (f.kind) {
    case "message":
      if (f.type === DURATION) return "0";
      if (f.type === TIMESTAMP) return "1970-01-01T00:00:00Z";
      return toAminoMessage(f.type as string, undefined, where);
    case "string":
      return f.cosmosInt || f.cosmosDec ? "0" : "";
    case "bool":
      return false;
    case "bytes":
      return null;
    case "long":
      return "0";
    default:
      return 0;
  }
}

function toAminoValue(f: AminoField, v: unknown, where: string): Json {
  switch (f.kind) {
    case "string":
      if (typeof v !== "string") throw new Error(`amino: ${where}: want a string, got ${typeof v}`);
      return f.cosmosDec ? decToAmino(v, where) : v;
    case "bool":
      if (typeof v !== "boolean") throw new Error(`amino: ${where}: want a boolean, got ${typeof v}`);
      return v;
    case "bytes":
      if (!(v instanceof Uint8Array)) throw new Error(`amino: ${where}: want a Uint8Array, got ${typeof v}`);
      return toBase64(v);
    case "long":
      return toBigInt(v, where).toString();
    case "int":
    case "enum":
      if (typeof v !== "number" || !Number.isInteger(v)) throw new Error(`amino: ${where}: want an integer, got ${String(v)}`);
      return v;
    case "message":
      if (typeof v !== "object") throw new Error(`amino: ${where}: want a message object, got ${typeof v}`);
      if (f.type === DURATION) return durationToAmino(v as Message, where);
      if (f.type === TIMESTAMP) return timestampToAmino(v as Message, where);
      return toAminoMessage(f.type as string, v as Message, where);
  }
}

function fromAminoValue(f: AminoField, j: Json, where: string): unknown {
  const want = (type: string) => new Error(`amino: ${where}: want ${type}, got ${JSON.stringify(j)}`);
  switch (f.kind) {
    case "string":
      if (typeof j !== "string") throw want("a string");
      return f.cosmosDec ? decFromAmino(j, where) : j;
    case "bool":
      if (typeof j !== "boolean") throw want("a boolean");
      return j;
    case "bytes":
      if (typeof j !== "string") throw want("base64");
      return fromBase64(j);
    case "long":
      if (typeof j !== "string" || !/^-?[0-9]+$/.test(j)) throw want("a decimal string");
      return BigInt(j);
    case "int":
    case "enum":
      if (typeof j !== "number" || !Number.isInteger(j)) throw want("an integer");
      return j;
    case "message":
      if (f.type === DURATION) return durationFromAmino(j, where);
      if (f.type === TIMESTAMP) return timestampFromAmino(j, where);
      if (typeof j !== "object" || Array.isArray(j)) throw want("an object");
      return fromAminoMessage(f.type as string, j as { [key: string]: Json }, where);
  }
}

function toBigInt(v: unknown, where: string): bigint {
  if (typeof v === "bigint") return v;
  if ((typeof v === "number" && Number.isSafeInteger(v)) || (typeof v === "string" && /^-?[0-9]+$/.test(v))) return BigInt(v);
  throw new Error(`amino: ${where}: want a 64-bit integer (bigint), got ${String(v)}`);
}

const NANOS = 1_000_000_000n;

function durationToAmino(d: Message, where: string): string {
  return (toBigInt(d.seconds ?? 0n, `${where}.seconds`) * NANOS + BigInt(d.nanos ?? 0)).toString();
}

function durationFromAmino(j: Json, where: string): Message {
  if (typeof j !== "string" || !/^-?[0-9]+$/.test(j)) throw new Error(`amino: ${where}: want a duration in nanoseconds, got ${JSON.stringify(j)}`);
  const n = BigInt(j);
  return { seconds: n / NANOS, nanos: Number(n % NANOS) };
}

// RFC 3339 as Go's time.Format(RFC3339Nano) writes it: UTC, trailing zeros
// of the fraction dropped, no fraction when nanos is 0.
function timestampToAmino(t: Message, where: string): string {
  const seconds = toBigInt(t.seconds ?? 0n, `${where}.seconds`);
  const nanos = Number(t.nanos ?? 0);
  if (nanos < 0) throw new Error(`amino: ${where}: nanos must be non-negative`);
  const date = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const frac = nanos === 0 ? "" : "." + String(nanos).padStart(9, "0").replace(/0+$/, "");
  return `${date}${frac}Z`;
}

function timestampFromAmino(j: Json, where: string): Message {
  const m = typeof j === "string" ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(j) : null;
  if (!m) throw new Error(`amino: ${where}: want an RFC 3339 UTC time, got ${JSON.stringify(j)}`);
  const seconds = BigInt(Date.parse(`${m[1]}Z`) / 1000);
  return { seconds, nanos: m[2] ? Number(m[2].padEnd(9, "0")) : 0 };
}

// LegacyDec: protobuf carries the integer count of 10^-18 units; amino JSON
// the decimal with exactly 18 fractional digits (LegacyDec.String).
function decToAmino(atomics: string, where: string): string {
  const m = /^(-?)([0-9]+)$/.exec(atomics);
  if (!m) throw new Error(`amino: ${where}: want a cosmos.Dec in 10^-18 units (an integer string), got ${JSON.stringify(atomics)}`);
  const digits = m[2].replace(/^0+(?=.)/, "").padStart(DEC_DECIMALS + 1, "0");
  const sign = /^0+$/.test(digits) ? "" : m[1];
  return `${sign}${digits.slice(0, -DEC_DECIMALS)}.${digits.slice(-DEC_DECIMALS)}`;
}

function decFromAmino(s: string, where: string): string {
  // "0" is what the encoder writes for an unset Dec: keep it unset.
  if (s === "0") return "";
  const m = /^(-?)([0-9]+)\.([0-9]{18})$/.exec(s);
  if (!m) throw new Error(`amino: ${where}: want a decimal with ${DEC_DECIMALS} fractional digits, got ${JSON.stringify(s)}`);
  const units = (m[2] + m[3]).replace(/^0+(?=.)/, "");
  return units === "0" ? "0" : m[1] + units;
}
