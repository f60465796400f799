// The simulator's transfer desk (spec §7.6): what the platform does with a transfer request.
// - blind: the caller is handed over after `handoverMs` (the call ends as `transferred`);
// - warm: the human's leg rings while the caller goes on talking to the agent; then, by the outcome chosen for
//   the call or the destination (`setOutcome`): `answer` — after `ringMs` the caller is handed over (the call
//   ends as `transferred`); `no-answer` — the ring gives up after `timeout_sec` (or `ringMs`) and the
//   conversation goes on; `busy` / `rejected` — refused at once (after `refuseMs`).
// One transfer at a time per call: another request while one is queued is refused with 409
// `transfer_in_progress`, naming the running one. Every transfer's status is kept for `GET /transfers/{id}`.
import { randomUUID } from 'node:crypto';
import type { SimResult } from './rest-api.js';
import type { SimulatedCall } from './simulated-call.js';

/** What the human's side does with a warm transfer. */
export type SimTransferOutcome = 'answer' | 'no-answer' | 'busy' | 'rejected';

export interface SimTransfer {
  readonly requestId: string;
  readonly callId: string;
  readonly mode: 'warm' | 'blind';
  /** The number, SIP URI or agent id the caller is transferred to. */
  readonly target: string;
  status: 'queued' | 'completed' | 'failed';
  /** Why it failed: `busy`, `no_answer`, `rejected`, or `call_ended` (the caller left while it rang). */
  reason: string | undefined;
  /** The request's body (warm) or pipeline (blind), as received. */
  readonly request: unknown;
}

export interface TransferDeskOptions {
  /** How long the human's phone rings before answering (or giving up). Default 3000. */
  ringMs?: number;
  /** Blind: time until the caller is handed over. Default 4000. */
  handoverMs?: number;
  /** Busy / rejected: time until the refusal. Default 300. */
  refuseMs?: number;
}

const REASONS: Record<Exclude<SimTransferOutcome, 'answer'>, string> = {
  'no-answer': 'no_answer',
  busy: 'busy',
  rejected: 'rejected',
};

export class TransferDesk {
  /** Every transfer, by request id. */
  readonly transfers = new Map<string, SimTransfer>();
  private readonly byTarget = new Map<string, SimTransferOutcome>();
  private readonly byCall = new Map<string, SimTransferOutcome>();

  constructor(private readonly options: TransferDeskOptions = {}) {}

  /** What a warm transfer to `target` (a number, SIP URI) does, unless the call has its own outcome. */
  setOutcome(target: string, outcome: SimTransferOutcome): void {
    this.byTarget.set(target, outcome);
  }

  /** What every warm transfer of the call `callId` does. */
  setCallOutcome(callId: string, outcome: SimTransferOutcome): void {
    this.byCall.set(callId, outcome);
  }

  /** The transfers of one call, oldest first. */
  of(callId: string): SimTransfer[] {
    return [...this.transfers.values()].filter((t) => t.callId === callId);
  }

  blind(call: SimulatedCall, target: string, request: unknown): SimResult {
    const busy = this.inProgress(call);
    if (busy !== undefined) return busy;
    const transfer = this.open(call, 'blind', target, request);
    call.transferredTo = target;
    this.after(call, this.options.handoverMs ?? 4000, () => this.complete(call, transfer));
    return queued(transfer);
  }

  warm(call: SimulatedCall, target: string, timeoutSec: number | undefined, request: unknown): SimResult {
    const busy = this.inProgress(call);
    if (busy !== undefined) return busy;
    const transfer = this.open(call, 'warm', target, request);
    const outcome = this.byCall.get(call.callId) ?? this.byTarget.get(target) ?? 'answer';
    const ringMs = this.options.ringMs ?? 3000;
    const giveUpMs = timeoutSec === undefined ? ringMs : timeoutSec * 1000;
    if (outcome === 'answer' && ringMs <= giveUpMs) {
      this.after(call, ringMs, () => {
        call.transferredTo = target;
        this.complete(call, transfer);
      });
    } else if (outcome === 'answer' || outcome === 'no-answer') {
      this.after(call, giveUpMs, () => fail(transfer, 'no_answer'));
    } else {
      this.after(call, this.options.refuseMs ?? 300, () => fail(transfer, REASONS[outcome]));
    }
    return queued(transfer);
  }

  /** `GET /transfers/{request_id}`. */
  status(requestId: string): SimResult {
    const transfer = this.transfers.get(requestId);
    if (transfer === undefined) return { status: 404, body: { error: 'not_found', message: `Transfer ${requestId} was not found.` } };
    return {
      status: 200,
      body: {
        request_id: transfer.requestId,
        call_id: transfer.callId,
        status: transfer.status,
        ...(transfer.reason === undefined ? {} : { reason: transfer.reason }),
      },
    };
  }

  private inProgress(call: SimulatedCall): SimResult | undefined {
    const running = this.of(call.callId).find((t) => t.status === 'queued');
    if (running === undefined) return undefined;
    return {
      status: 409,
      body: { error: 'transfer_in_progress', message: 'A transfer is already in progress.', request_id: running.requestId },
    };
  }

  private open(call: SimulatedCall, mode: 'warm' | 'blind', target: string, request: unknown): SimTransfer {
    const transfer: SimTransfer = { requestId: randomUUID(), callId: call.callId, mode, target, status: 'queued', reason: undefined, request };
    this.transfers.set(transfer.requestId, transfer);
    // The caller leaving while the human's phone rings ends the attempt with the call.
    void call.ended.then(() => {
      if (transfer.status === 'queued') fail(transfer, 'call_ended');
    });
    return transfer;
  }

  /** Runs `step` after `ms` unless the call ended first. */
  private after(call: SimulatedCall, ms: number, step: () => void): void {
    setTimeout(() => {
      if (!call.isEnded) step();
    }, ms).unref();
  }

  private complete(call: SimulatedCall, transfer: SimTransfer): void {
    transfer.status = 'completed';
    // The platform bridges the caller to the target and takes the agent out of the room.
    call.end('transferred', 'transferred');
  }
}

function fail(transfer: SimTransfer, reason: string): void {
  if (transfer.status !== 'queued') return;
  transfer.status = 'failed';
  transfer.reason = reason;
}

function queued(transfer: SimTransfer): SimResult {
  return { status: 200, body: { message: 'queued', call_id: transfer.callId, request_id: transfer.requestId } };
}
