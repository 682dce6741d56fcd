// The protobuf registry of every Hinterland Msg: the type URLs CosmJS packs
// into a transaction's Any fields.
import { EncodeObject, Registry, TsProto2GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes } from "@cosmjs/stargate";

import { aminoMessages } from "./gen/amino-meta";
import * as annotation from "./gen/hinterland/annotation/v1/tx";
import * as federated from "./gen/hinterland/federated/v1/tx";
import * as rewards from "./gen/hinterland/rewards/v1/tx";
import * as tasks from "./gen/hinterland/tasks/v1/tx";
import * as verification from "./gen/hinterland/verification/v1/tx";

const txModules: readonly Record<string, unknown>[] = [annotation, federated, rewards, tasks, verification];

function isTsProto2GeneratedType(v: unknown): v is TsProto2GeneratedType {
  return typeof v === "object" && v !== null && "encode" in v && "decode" in v && "fromPartial" in v;
}

/**
 * Every Hinterland Msg as [type URL, generated type]. A Msg is a message of a
 * tx.proto with an amino.name, the same set hinterlandAminoConverters covers.
 */
export const hinterlandTypes: ReadonlyArray<[string, TsProto2GeneratedType]> = txModules.flatMap((m) =>
  Object.entries(m).flatMap(([name, type]): [string, TsProto2GeneratedType][] => {
    const typeName = `${m.protobufPackage as string}.${name}`;
    return aminoMessages[typeName]?.aminoName !== undefined && isTsProto2GeneratedType(type) ? [[`/${typeName}`, type]] : [];
  }),
);

/** Adds every Hinterland Msg to a registry. */
export function registerHinterland(registry: Registry): Registry {
  for (const [typeUrl, type] of hinterlandTypes) registry.register(typeUrl, type);
  return registry;
}

/** A registry of the Cosmos SDK's default Msgs (bank, staking, ...) and Hinterland's. */
export function hinterlandRegistry(): Registry {
  return registerHinterland(new Registry(defaultRegistryTypes));
}

const typeUrls = new Map<unknown, string>(hinterlandTypes.map(([url, type]) => [type, url]));

/**
 * The EncodeObject of a Hinterland Msg, for signAndBroadcast:
 * hinterlandMsg(MsgClaimTask, { worker, taskId: 3n }).
 */
export function hinterlandMsg<T>(type: { fromPartial(object: T): unknown }, value: T): EncodeObject {
  const typeUrl = typeUrls.get(type);
  if (!typeUrl) throw new Error("hinterlandMsg: not a Hinterland Msg type (use the Msg* types of src/gen/hinterland/*/v1/tx)");
  return { typeUrl, value: type.fromPartial(value) };
}
