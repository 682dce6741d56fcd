// Writes src/gen/amino-meta.ts from a FileDescriptorSet (protoc
// --include_imports --descriptor_set_out): for every Msg (the input of a
// method of a Hinterland service marked cosmos.msg.v1.service) its
// amino.name, and for it and every message reachable from it, its fields with
// what the legacy amino JSON encoder of the chain (cosmos-sdk
// x/tx/signing/aminojson) needs to know: the proto name (or amino.field_name),
// the ts-proto property, the kind, and amino.dont_omitempty / amino.encoding /
// cosmos_proto.scalar. Features that encoder treats specially and src/amino.ts
// does not implement (oneofs, maps, floats, amino.message_encoding) fail here,
// at generation time, instead of producing a signature the chain rejects.
//
// Usage: node scripts/amino-meta.mjs DESCRIPTOR_SET OUT.ts
import { readFileSync, writeFileSync } from "node:fs";
import { createFileRegistry, fromBinary, getExtension, hasExtension, ScalarType } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const [setPath, outPath] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(setPath)));
const ext = (name) => {
  const e = registry.getExtension(name);
  if (!e) throw new Error(`amino-meta: extension ${name} not in the descriptor set`);
  return e;
};
const aminoName = ext("amino.name");
const messageEncoding = ext("amino.message_encoding");
const msgService = ext("cosmos.msg.v1.service");
const dontOmitEmpty = ext("amino.dont_omitempty");
const encoding = ext("amino.encoding");
const fieldName = ext("amino.field_name");
const scalar = ext("cosmos_proto.scalar");
const customType = ext("gogoproto.customtype");
const opt = (options, e) => (options && hasExtension(options, e) ? getExtension(options, e) : undefined);

// ts-proto's property name with snakeToCamel=keys (ts-proto src/case.ts).
const key = (name) => {
  if (!name.includes("_")) return name;
  const lower = /[a-z]/.test(name);
  return name
    .split("_")
    .map((w, i) => ((w = lower ? w : w.toLowerCase()), i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join("");
};

const long = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);
const int = new Set([ScalarType.INT32, ScalarType.UINT32, ScalarType.SINT32, ScalarType.FIXED32, ScalarType.SFIXED32]);
const scalarKind = (t, where) => {
  if (t === ScalarType.STRING) return "string";
  if (t === ScalarType.BOOL) return "bool";
  if (t === ScalarType.BYTES) return "bytes";
  if (long.has(t)) return "long";
  if (int.has(t)) return "int";
  throw new Error(`amino-meta: ${where}: floating-point fields have no amino JSON encoding`);
};

// Well-known types the encoder writes as scalars (aminojson time.go).
const wellKnown = new Set(["google.protobuf.Duration", "google.protobuf.Timestamp"]);

const out = {};
// Only a Msg is written as {"type": amino.name, "value": ...}: the encoder
// wraps the top-level message, never a nested one.
const visit = (desc, isMsg = false) => {
  if (isMsg) {
    const name = opt(desc.proto.options, aminoName);
    if (!name) throw new Error(`amino-meta: Msg ${desc.typeName} has no amino.name`);
    out[desc.typeName] = { aminoName: name, fields: [] };
  } else if (out[desc.typeName] || wellKnown.has(desc.typeName)) {
    return;
  } else {
    out[desc.typeName] = { fields: [] };
  }
  if (desc.typeName === "google.protobuf.Any") throw new Error("amino-meta: google.protobuf.Any fields are not supported");
  if (opt(desc.proto.options, messageEncoding)) throw new Error(`amino-meta: ${desc.typeName}: amino.message_encoding is not supported`);
  const meta = out[desc.typeName];
  for (const f of desc.fields) {
    const where = `${desc.typeName}.${f.name}`;
    if (f.oneof) throw new Error(`amino-meta: ${where}: oneofs are not supported`);
    if (f.fieldKind === "map") throw new Error(`amino-meta: ${where}: maps are not supported`);
    const field = { name: opt(f.proto.options, fieldName) ?? f.name, key: key(f.name) };
    const kind = f.fieldKind === "list" ? f.listKind : f.fieldKind;
    if (kind === "scalar") field.kind = scalarKind(f.scalar, where);
    else if (kind === "enum") field.kind = "enum";
    else {
      field.kind = "message";
      field.type = f.message.typeName;
      visit(f.message);
    }
    if (f.fieldKind === "list") field.repeated = true;
    if (opt(f.proto.options, dontOmitEmpty)) field.dontOmitEmpty = true;
    const enc = opt(f.proto.options, encoding);
    if (enc === "legacy_coins" || enc === "null_slice_as_empty") field.nullSliceAsEmpty = true;
    else if (enc) throw new Error(`amino-meta: ${where}: amino.encoding ${enc} is not supported`);
    const sc = opt(f.proto.options, scalar);
    // As aminojson's getFieldEncoder: cosmos.Dec only when backed by LegacyDec.
    if (sc === "cosmos.Int") field.cosmosInt = true;
    if (sc === "cosmos.Dec" && opt(f.proto.options, customType) === "cosmossdk.io/math.LegacyDec") field.cosmosDec = true;
    meta.fields.push(field);
  }
};
for (const file of registry.files) {
  if (!file.name.startsWith("hinterland/")) continue;
  for (const service of file.services) {
    if (opt(service.proto.options, msgService)) for (const method of service.methods) visit(method.input, true);
  }
}

// One field per line, messages sorted by name: a diff of this file reads as a
// diff of the amino layout.
const body = Object.keys(out)
  .sort()
  .map((name) => {
    const { aminoName: an, fields } = out[name];
    const lines = fields.map((f) => `      ${JSON.stringify(f)},`).join("\n");
    return `  ${JSON.stringify(name)}: {\n${an ? `    aminoName: ${JSON.stringify(an)},\n` : ""}    fields: [\n${lines}\n    ],\n  },`;
  })
  .join("\n");
writeFileSync(
  outPath,
  `// Code generated by scripts/amino-meta.mjs from proto/. DO NOT EDIT.
import type { AminoMessageMeta } from "../amino";

export const aminoMessages: Readonly<Record<string, AminoMessageMeta>> = {
${body}
};
`,
);
