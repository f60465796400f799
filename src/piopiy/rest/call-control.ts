// Call control on a live call (spec §7.6, the `/calls/{call_id}/actions/*` family): warm and blind transfer,
// hangup with a cause, the call's live state, and a transfer's status (`GET /transfers/{request_id}`), polled on
// the client's clock until it settles. Only one transfer runs per call: a second is refused with 409
// `transfer_in_progress` (a PiopiyApiError whose `requestId` names the running one).
import { sleep, type Clock } from '../../runtime/clock.js';
import { PiopiyError } from './errors.js';
import type { HttpTransport, RetryPolicy } from './http.js';
import { compact, normalizePhone, normalizePipeline, resolvePipeline } from './normalize.js';
import { validatePathId, validateWarmTransferBody } from './call-control-validation.js';
import type { CallVariables, PiopiyResponse, PipelineInput } from './types.js';
import { validateCallActionHangupBody, validateCallActionTransferBody } from './validation.js';

/** Where a warm transfer rings: a phone number (digits, `+` allowed) or a SIP URI. */
export type TransferDestination = { toNumber: string; sipUri?: never } | { sipUri: string; toNumber?: never };

export type WarmTransferInput = TransferDestination & {
  /** The number shown to the human (required on SIP Connect calls, which have no dialled number to reuse). */
  callerId?: string;
  /** How long the human's phone rings, in seconds. */
  timeoutSec?: number;
  /** The human must press 1 before the caller is bridged (a voicemail greeting can then never take the call). */
  confirm?: boolean;
  /** Put the caller on hold meanwhile: `true` for the standard music, or a file name or http(s) URL. */
  holdAudio?: true | string;
  /** Context for the human; to a SIP target it is also sent as the `X-Transfer-Summary` header. */
  transferSummary?: string;
  /** Extra `X-` headers for a SIP target. */
  sipHeaders?: Record<string, string>;
  /** Your own data, attached to the transfer leg's events and records. */
  variables?: CallVariables;
};

/** Wire body of the warm transfer. */
export interface WarmTransferBody {
  to_number?: string;
  sip_uri?: string;
  caller_id?: string;
  timeout_sec?: number;
  confirm?: boolean;
  hold_audio?: true | string;
  transfer_summary?: string;
  sip_headers?: Record<string, string>;
  variables?: CallVariables;
}

/** A queued transfer or hangup: `{ "message": "queued", "call_id", "request_id" }` (spec §7.6). */
export interface QueuedAction {
  /** Undefined only if the platform left it out (then the transfer cannot be polled). */
  readonly requestId: string | undefined;
  readonly callId: string;
  /** The body as received. */
  readonly response: PiopiyResponse;
}

/** `queued` while the human's phone rings, then `completed` (handed over) or `failed`. */
export type TransferState = 'queued' | 'completed' | 'failed';

/**
 * Why a transfer failed, as the platform reports it: `busy`, `no_answer`, `rejected`, `invalid_number`,
 * `unreachable`, `call_barred`, `network_error`, each possibly suffixed `_and_call_ended` (the whole call ended).
 * Other values are passed through as they come.
 */
export type TransferFailureReason = string;

export interface TransferStatus {
  readonly requestId: string;
  readonly callId: string | undefined;
  readonly status: TransferState;
  /** Set when `failed`. */
  readonly reason: TransferFailureReason | undefined;
  /** No longer ringing: `completed` or `failed`. */
  readonly settled: boolean;
  readonly response: PiopiyResponse;
}

export interface WaitForTransferOptions {
  /** Between two status reads. Default 2000. */
  pollIntervalMs?: number;
  /** Longest wait; the last status is returned then, perhaps still `queued`. Default 90000. */
  timeoutMs?: number;
  /** Stops the wait early (the call ended); the last status is returned. */
  signal?: AbortSignal;
}

export interface CallHangupOptions {
  /** Recorded with the hangup. Default `normal` (the value the platform's own connectors send). */
  cause?: string;
  reason?: string;
}

const READ: RetryPolicy = 'unsent-or-rate-limited';
const ACT: RetryPolicy = 'unsent-only';

/** Actions on a live call (spec §7.6). Every call id is the customer leg's (what an Agent session's `callId` is). */
export class CallsApi {
  /** @internal */
  constructor(
    private readonly http: HttpTransport,
    private readonly clock: Clock,
  ) {}

  /**
   * Rings a human while the caller stays with the agent; on answer the caller is handed over and the agent
   * leaves, otherwise the conversation goes on. The outcome comes later: poll it with `waitForTransfer`.
   */
  async warmTransfer(callId: string, input: WarmTransferInput): Promise<QueuedAction> {
    const body = validateWarmTransferBody(
      compact({
        to_number: normalizePhone(input.toNumber),
        sip_uri: input.sipUri,
        caller_id: normalizePhone(input.callerId),
        timeout_sec: input.timeoutSec,
        confirm: input.confirm,
        hold_audio: input.holdAudio,
        transfer_summary: input.transferSummary,
        sip_headers: input.sipHeaders === undefined ? undefined : { ...input.sipHeaders },
        variables: input.variables === undefined ? undefined : { ...input.variables },
      }),
    );
    return queued(callId, await this.http.post(`${callPath(callId)}/actions/transfer`, body, ACT));
  }

  /** Hands the caller over at once to what `pipeline` says (usually one `connect`); the agent leaves the call. */
  async blindTransfer(callId: string, pipeline: PipelineInput): Promise<QueuedAction> {
    const body = validateCallActionTransferBody({ pipeline: normalizePipeline(resolvePipeline(pipeline)) });
    return queued(callId, await this.http.post(`${callPath(callId)}/actions/transfer`, body, ACT));
  }

  /** Ends the call with a cause. */
  async hangup(callId: string, options: CallHangupOptions = {}): Promise<QueuedAction> {
    const body = validateCallActionHangupBody(compact({ cause: options.cause ?? 'normal', reason: options.reason }));
    return queued(callId, await this.http.post(`${callPath(callId)}/actions/hangup`, body, ACT));
  }

  /** The call's live state (`GET /calls/{call_id}`); a 404 PiopiyApiError once it ended. Shape not documented. */
  async get(callId: string): Promise<PiopiyResponse> {
    return this.http.request('GET', callPath(callId), undefined, READ);
  }

  /** Where a transfer stands (`GET /transfers/{request_id}`; kept 15 minutes after it settles). */
  async transferStatus(requestId: string): Promise<TransferStatus> {
    const id = validatePathId(requestId, 'requestId');
    const response = await this.http.request('GET', `/transfers/${encodeURIComponent(id)}`, undefined, READ);
    return parseTransferStatus(id, response);
  }

  /** Reads the transfer's status until it settles, the wait times out or `signal` aborts; returns the last one read. */
  async waitForTransfer(requestId: string, options: WaitForTransferOptions = {}): Promise<TransferStatus> {
    const pollIntervalMs = options.pollIntervalMs ?? 2000;
    const timeoutMs = options.timeoutMs ?? 90_000;
    if (!(pollIntervalMs > 0)) throw new RangeError('waitForTransfer: pollIntervalMs must be a positive number.');
    const deadline = this.clock.now() + timeoutMs;
    let last = await this.transferStatus(requestId);
    while (!last.settled && this.clock.now() < deadline && options.signal?.aborted !== true) {
      const waitMs = Math.min(pollIntervalMs, Math.max(0, deadline - this.clock.now()));
      if (!(await sleep(this.clock, waitMs, options.signal))) break;
      last = await this.transferStatus(requestId);
    }
    return last;
  }
}

function callPath(callId: string): string {
  return `/calls/${encodeURIComponent(validatePathId(callId, 'callId'))}`;
}

function queued(callId: string, response: PiopiyResponse): QueuedAction {
  const requestId = typeof response.request_id === 'string' && response.request_id !== '' ? response.request_id : undefined;
  const echoed = typeof response.call_id === 'string' && response.call_id !== '' ? response.call_id : callId;
  return { requestId, callId: echoed, response };
}

/** A status body; a status the SDK does not know (a newer platform's) reads as still ringing, so polling goes on. */
export function parseTransferStatus(requestId: string, response: PiopiyResponse): TransferStatus {
  const raw = response.status;
  const status: TransferState = raw === 'completed' || raw === 'failed' ? raw : 'queued';
  if (raw !== undefined && typeof raw !== 'string') {
    throw new PiopiyError(`GET /transfers/${requestId}: status is not a string (${JSON.stringify(raw)}).`);
  }
  return {
    requestId: typeof response.request_id === 'string' ? response.request_id : requestId,
    callId: typeof response.call_id === 'string' ? response.call_id : undefined,
    status,
    reason: typeof response.reason === 'string' && response.reason !== '' ? response.reason : undefined,
    settled: status !== 'queued',
    response,
  };
}
