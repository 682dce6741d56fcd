// @hinterland/client: Hinterland's Msgs, queries and events on CosmJS.
export * from "./amino";
export * from "./events";
export * from "./query";
export * from "./registry";
export * from "./signing";

// The generated types most callers need; everything else is under
// @hinterland/client/dist/src/gen/hinterland/<module>/v1/<file>.
export * as annotation from "./gen/hinterland/annotation/v1/tx";
export * as federated from "./gen/hinterland/federated/v1/tx";
export * as rewards from "./gen/hinterland/rewards/v1/tx";
export * as verification from "./gen/hinterland/verification/v1/tx";
export {
  MsgAbandonClaim,
  MsgCancelTask,
  MsgClaimTask,
  MsgPostTask,
  MsgPostTaskResponse,
  MsgRevealSecret,
} from "./gen/hinterland/tasks/v1/tx";
export {
  Assignment,
  AssignmentStatus,
  DatasetRef,
  FeatureType,
  ModelKind,
  ModelRecord,
  Objective,
  Optimizer,
  RowKind,
  RowSchema,
  Task,
  TaskStatus,
  TrainingSpec,
} from "./gen/hinterland/tasks/v1/types";
export { EventTaskClaimed, EventTaskPosted } from "./gen/hinterland/tasks/v1/events";
export { Transcript, Verdict } from "./gen/hinterland/verification/v1/types";
export { Reputation } from "./gen/hinterland/rewards/v1/types";
