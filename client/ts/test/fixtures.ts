// Messages the tests share: tasks the chain accepts, built as
// `hinterlandd tx tasks post --preset mnist-softmax|mnist-mlp` builds them
// (engine.DefaultSpecMNISTSoftmax / DefaultSpecMNISTMLP: F = 16, lr 0.02 =
// 1311, momentum 0.9 = 58982, batch 32) on a 1 000-row uint8 MNIST schema.
import { createHash } from "node:crypto";

import { FeatureType, ModelKind, Objective, Optimizer, PostTaskInput, RowKind } from "../src";

/** A 32-byte dataset root; the chain stores it, workers would check it. */
export const datasetRoot = createHash("sha256").update("hinterland ts client test dataset").digest();

export function softmaxTask(totalSteps = 48n): PostTaskInput {
  return {
    spec: {
      model: ModelKind.MODEL_KIND_LINEAR,
      inputs: 784,
      outputs: 10,
      objective: Objective.OBJECTIVE_SOFTMAX_CE,
      optimizer: Optimizer.OPTIMIZER_SGD,
      fracBits: 16,
      batchSize: 32,
      learningRate: 1311,
      momentum: 58982,
      totalSteps,
      segmentSteps: 4n,
    },
    dataset: {
      root: new Uint8Array(datasetRoot),
      rows: 1000n,
      schema: { kind: RowKind.ROW_KIND_CLASSIFICATION, featureType: FeatureType.FEATURE_TYPE_UINT8, features: 784, classes: 10 },
      uri: "https://example.org/mnist-1000.hlds?set=train&limit=1000",
    },
    reward: { denom: "uhint", amount: "1000000" },
    bond: { denom: "uhint", amount: "100000" },
    samples: 3,
    claimWindow: { seconds: 600n, nanos: 0 },
    commitWindow: { seconds: 300n, nanos: 500_000_000 },
  };
}

/** The MLP 784-128-10 preset: a repeated field (hidden) and a secret hash. */
export function mlpTask(secretHash: Uint8Array): PostTaskInput {
  const t = softmaxTask(40n);
  return { ...t, spec: { ...t.spec, model: ModelKind.MODEL_KIND_MLP, hidden: [128], segmentSteps: 8n }, replicas: 2, secretHash };
}
