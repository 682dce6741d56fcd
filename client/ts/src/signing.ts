// A SigningStargateClient that knows Hinterland's Msgs, in both sign modes:
// a DirectSecp256k1HdWallet (or any OfflineDirectSigner) signs
// SIGN_MODE_DIRECT, a Secp256k1HdWallet or a Ledger (OfflineAminoSigner)
// signs SIGN_MODE_LEGACY_AMINO_JSON through hinterlandAminoConverters.
import { EncodeObject, OfflineSigner } from "@cosmjs/proto-signing";
import {
  AminoTypes,
  assertIsDeliverTxSuccess,
  createDefaultAminoConverters,
  DeliverTxResponse,
  SigningStargateClient,
  SigningStargateClientOptions,
  StdFee,
} from "@cosmjs/stargate";
import { CometClient, Comet38Client } from "@cosmjs/tendermint-rpc";

import { hinterlandAminoConverters } from "./amino";
import {
  MsgAbandonClaim,
  MsgCancelTask,
  MsgClaimTask,
  MsgPostTask,
  MsgPostTaskResponse,
  MsgRevealSecret,
} from "./gen/hinterland/tasks/v1/tx";
import { hinterlandMsg as msg, hinterlandRegistry } from "./registry";

/** A MsgPostTask without its poster (the signer). */
export type PostTaskInput = Omit<Parameters<typeof MsgPostTask.fromPartial>[0], "poster">;

export type Fee = StdFee | "auto" | number;

export interface PostedTask {
  readonly taskId: bigint;
  /** k, the segments the chain samples from each transcript. */
  readonly samples: number;
  readonly seed: Uint8Array;
  readonly tx: DeliverTxResponse;
}

export class HinterlandSigningClient extends SigningStargateClient {
  /**
   * Connects to the node's CometBFT RPC (http://host:26657). options.gasPrice
   * (e.g. GasPrice.fromString("0.001uhint")) lets every method take fee "auto".
   */
  static override async connectWithSigner(
    rpcUrl: string,
    signer: OfflineSigner,
    options: SigningStargateClientOptions = {},
  ): Promise<HinterlandSigningClient> {
    // Comet38Client, not connectComet: see HinterlandQueryClient.connect.
    return new HinterlandSigningClient(await Comet38Client.connect(rpcUrl), signer, options);
  }

  protected constructor(comet: CometClient, signer: OfflineSigner, options: SigningStargateClientOptions) {
    super(comet, signer, {
      registry: hinterlandRegistry(),
      aminoTypes: new AminoTypes({ ...createDefaultAminoConverters(), ...hinterlandAminoConverters }),
      ...options,
    });
  }

  /** Posts a task, escrowing its reward; resolves once it is in a block. */
  async postTask(poster: string, task: PostTaskInput, fee: Fee = "auto", memo = ""): Promise<PostedTask> {
    const tx = await this.mustBroadcast(poster, msg(MsgPostTask, { ...task, poster }), fee, memo);
    const res = tx.msgResponses.find((r) => r.typeUrl === "/hinterland.tasks.v1.MsgPostTaskResponse");
    if (!res) throw new Error(`postTask: transaction ${tx.transactionHash} has no MsgPostTaskResponse`);
    const { taskId, samples, seed } = MsgPostTaskResponse.decode(res.value);
    return { taskId, samples, seed, tx };
  }

  /** Claims a replica slot of an open task, locking the task's bond. */
  claimTask(worker: string, taskId: bigint | number, fee: Fee = "auto", memo = ""): Promise<DeliverTxResponse> {
    return this.mustBroadcast(worker, msg(MsgClaimTask, { worker, taskId: BigInt(taskId) }), fee, memo);
  }

  /** Cancels a task nobody has claimed; the escrow is refunded. */
  cancelTask(poster: string, taskId: bigint | number, fee: Fee = "auto", memo = ""): Promise<DeliverTxResponse> {
    return this.mustBroadcast(poster, msg(MsgCancelTask, { poster, taskId: BigInt(taskId) }), fee, memo);
  }

  /** Reveals the requester's 32-byte sampling secret once every claim is sealed. */
  revealSecret(
    poster: string,
    taskId: bigint | number,
    secret: Uint8Array,
    nextSecretHash: Uint8Array = new Uint8Array(),
    fee: Fee = "auto",
    memo = "",
  ): Promise<DeliverTxResponse> {
    return this.mustBroadcast(poster, msg(MsgRevealSecret, { poster, taskId: BigInt(taskId), secret, nextSecretHash }), fee, memo);
  }

  /** Gives up an unsealed claim for the abandon fee. */
  abandonClaim(worker: string, taskId: bigint | number, fee: Fee = "auto", memo = ""): Promise<DeliverTxResponse> {
    return this.mustBroadcast(worker, msg(MsgAbandonClaim, { worker, taskId: BigInt(taskId) }), fee, memo);
  }

  // signAndBroadcast that rejects unless the transaction succeeded.
  private async mustBroadcast(signer: string, m: EncodeObject, fee: Fee, memo: string): Promise<DeliverTxResponse> {
    const tx = await this.signAndBroadcast(signer, [m], fee, memo);
    assertIsDeliverTxSuccess(tx);
    return tx;
  }
}
