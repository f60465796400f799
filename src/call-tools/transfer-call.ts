// transfer_call: hands the caller to a human (or another AI agent).
// - blind: the call's PCMO pipeline becomes one `connect` to the target (`voice.transfer`); the platform bridges
//   the caller and takes the agent out of the call.
// - warm (spec §7.6): the human's phone rings while the caller goes on talking to the agent; the tool answers
//   `ringing` at once, then polls `GET /transfers/{request_id}` on the clock. On answer the platform hands the
//   caller over and removes the agent; on failure (busy, no answer, ...) the outcome is fed into the conversation
//   as a note the model reads, the agent tells the caller, and the call goes on.
// One transfer at a time: while one rings, another request is answered with an error (as the platform's 409
// `transfer_in_progress` would be).
import { FunctionSchema } from '../llm/function-schema.js';
import type { ToolHandler } from '../llm/tools.js';
import type { Logger } from '../logging/index.js';
import { PiopiyApiError, type CallVariables, type ConnectEndpoint, type RestClient, type TransferStatus } from '../piopiy/index.js';
import { sleep, systemClock, type Clock } from '../runtime/clock.js';
import type { VoiceAgent } from '../voice-agent/index.js';
import { cut, errorResult, type CallToolResult } from './results.js';
import { transferSummary } from './summary.js';

/** A phone number (`+91 98765 43210`), a SIP URI (`sip:desk@pbx.example.com`), or another Piopiy AI agent. */
export type TransferTarget = string | { agentId: string };

export interface TransferToolOptions {
  to: TransferTarget;
  /** Default `warm`. A transfer to another AI agent is always blind (the platform rings only numbers and SIP). */
  mode?: 'warm' | 'blind';
  /** The number shown to the target. Required for blind transfers (the connect action needs it). */
  callerId?: string;
  /** Warm: the human presses 1 before the caller is bridged (voicemail can never take the call). */
  confirm?: boolean;
  /** Warm: hold the caller with music instead of the agent: `true`, a file name or an http(s) URL. */
  holdAudio?: true | string;
  /** Warm: how long the human's phone rings. Default: the platform's. */
  ringTimeoutSec?: number;
  /** Warm, SIP targets: extra `X-` headers. */
  sipHeaders?: Record<string, string>;
  /** Warm: your data, attached to the transfer leg. */
  variables?: CallVariables;
  /** Warm: between two status reads. Default 2000. */
  pollIntervalMs?: number;
  /**
   * Warm, when the transfer fails: `say` (default) has the agent say the line for the reason (`failureLines`) and
   * puts the outcome in the history for the model; `model` puts it there and has the model answer at once.
   */
  announce?: 'say' | 'model';
  /** Lines said per failure reason (`busy`, `no_answer`, `rejected`, ...; `default` for the others). */
  failureLines?: Partial<Record<string, string>>;
  /** Longest transfer summary. Default 400 characters. */
  maxSummaryChars?: number;
  /** The description the model reads. */
  description?: string;
}

export interface TransferArgs {
  summary?: string;
}

export const DEFAULT_FAILURE_LINES: Readonly<Record<string, string>> = {
  busy: "I'm sorry, their line is busy right now. Let me keep helping you in the meantime.",
  no_answer: "I'm sorry, nobody is picking up right now. Let me keep helping you myself.",
  rejected: "I'm sorry, they can't take the call right now. Let me help you instead.",
  default: "I'm sorry, I couldn't connect you. Let me keep helping you myself.",
};

const SIP_URI = /^sips?:/i;

export function transferSchema(options: TransferToolOptions): FunctionSchema<TransferArgs> {
  const warm = transferMode(options) === 'warm';
  return new FunctionSchema<TransferArgs>({
    name: 'transfer_call',
    description:
      options.description ??
      (warm
        ? 'Transfer the caller to a human when they ask for a person or you cannot help. Tell the caller you are connecting them. Their phone rings while you stay with the caller; you will be told if nobody answers.'
        : 'Transfer the caller to a human when they ask for a person or you cannot help. You leave the call: say a short goodbye.'),
    properties: {
      summary: {
        type: 'string',
        description: 'One or two sentences for the person who picks up: who is calling and what they need.',
      },
    },
    required: [],
  });
}

export function transferMode(options: TransferToolOptions): 'warm' | 'blind' {
  return options.mode ?? (typeof options.to === 'object' ? 'blind' : 'warm');
}

/** Checks the options once, when the tools are made, so a misconfiguration fails at startup rather than mid-call. */
export function checkTransferOptions(options: TransferToolOptions): void {
  const { to } = options;
  const mode = transferMode(options);
  if (mode !== 'warm' && mode !== 'blind') throw new TypeError(`piopiyCallTools: transfer.mode must be 'warm' or 'blind'`);
  if (typeof to === 'object' && to !== null) {
    if (typeof to.agentId !== 'string' || to.agentId === '') throw new TypeError('piopiyCallTools: transfer.to.agentId must be a non-empty string');
    if (mode === 'warm') throw new TypeError('piopiyCallTools: a transfer to another AI agent is blind (set mode: blind)');
  } else if (typeof to !== 'string' || to.trim() === '') {
    throw new TypeError('piopiyCallTools: transfer.to must be a phone number, a SIP URI or { agentId }');
  }
  if (mode === 'blind' && (options.callerId === undefined || options.callerId.trim() === '')) {
    throw new TypeError('piopiyCallTools: a blind transfer needs transfer.callerId (the number shown to the target)');
  }
}

interface TransferDeps {
  rest: RestClient;
  voice: VoiceAgent;
  clock?: Clock;
  logger: Logger;
}

/** The handler for one VoiceAgent: its own "one transfer at a time" state. */
export function transferHandler(options: TransferToolOptions, deps: TransferDeps): ToolHandler<TransferArgs> {
  let ringing = false;
  return async (args, ctx): Promise<CallToolResult> => {
    const callId = ctx.call?.callId;
    if (callId === undefined) return { status: 'error', detail: 'there is no live phone call to transfer' };
    if (ringing) return { status: 'error', detail: 'a transfer is already in progress; wait for its outcome' };
    const summary = transferSummary({
      messages: deps.voice.context.messages,
      modelSummary: args.summary,
      maxChars: options.maxSummaryChars,
    });
    try {
      if (transferMode(options) === 'blind') {
        const response = await deps.rest.voice.transfer(
          callId,
          deps.rest.voice.pipeline().connect({ callerId: options.callerId! }, [endpointOf(options.to)]),
        );
        deps.logger.info({ callId }, 'blind transfer requested');
        return {
          status: 'transferred',
          request_id: typeof response.request_id === 'string' ? response.request_id : undefined,
          detail: 'the caller is being handed over and you are leaving the call; say a short goodbye',
        };
      }
      const to = options.to as string;
      const queued = await deps.rest.calls.warmTransfer(callId, {
        ...(SIP_URI.test(to) ? { sipUri: to } : { toNumber: to }),
        callerId: options.callerId,
        timeoutSec: options.ringTimeoutSec,
        confirm: options.confirm,
        holdAudio: options.holdAudio,
        transferSummary: summary,
        sipHeaders: options.sipHeaders,
        variables: options.variables,
      });
      deps.logger.info({ callId, requestId: queued.requestId }, 'warm transfer ringing');
      if (queued.requestId !== undefined) {
        ringing = true;
        void watch(queued.requestId, options, deps).finally(() => (ringing = false));
      }
      return {
        status: 'ringing',
        request_id: queued.requestId,
        detail: "the human's phone is ringing; stay with the caller and tell them. You will be told if nobody answers.",
      };
    } catch (error) {
      deps.logger.warn({ err: error, callId }, 'transfer_call failed');
      return errorResult(error, 'transfer');
    }
  };
}

function endpointOf(to: TransferTarget): ConnectEndpoint {
  if (typeof to === 'object') return { type: 'agent', id: to.agentId };
  return SIP_URI.test(to) ? { type: 'sip', uri: to } : { type: 'pstn', number: to };
}

/** Follows a warm transfer to its outcome and tells the conversation. Never throws. */
async function watch(requestId: string, options: TransferToolOptions, deps: TransferDeps): Promise<void> {
  const { rest, voice, logger } = deps;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  // The platform settles a transfer when the ring times out; the margin covers its own delays.
  const timeoutMs = (options.ringTimeoutSec ?? 60) * 1000 + 30_000;
  let status: TransferStatus | undefined;
  for (let failures = 0; status === undefined; ) {
    try {
      status = await rest.calls.waitForTransfer(requestId, { pollIntervalMs, timeoutMs, signal: voice.signal });
    } catch (error) {
      if (voice.signal.aborted) return;
      if (error instanceof PiopiyApiError && error.status === 404) {
        logger.warn({ requestId }, 'the transfer status is gone (404); its outcome is unknown');
        return;
      }
      if (++failures >= 3) {
        logger.warn({ err: error, requestId }, 'could not read the transfer status; its outcome is unknown');
        voice.addNote('Transfer update: the outcome of the transfer could not be read. You are still with the caller.');
        return;
      }
      await sleep(deps.clock ?? systemClock, pollIntervalMs, voice.signal);
    }
  }
  if (voice.signal.aborted) return;
  if (status.status === 'completed') {
    logger.info({ requestId }, 'warm transfer answered; the platform hands the caller over');
    voice.addNote('Transfer update: the human answered and the caller is being handed over to them.');
    return;
  }
  const raw = status.settled ? (status.reason ?? 'unknown') : 'no_answer';
  if (raw.endsWith('_and_call_ended')) return; // the whole call ended: nobody to tell
  logger.info({ requestId, reason: raw, settled: status.settled }, 'warm transfer failed');
  const reason = cut(raw.replace(/_/g, ' '));
  const note = `Transfer update: the transfer failed (${reason}). You are still with the caller: tell them, and keep helping; do not try the transfer again unless they ask.`;
  if ((options.announce ?? 'say') === 'model') {
    voice.addNote(note, { respond: true });
    return;
  }
  const lines = { ...DEFAULT_FAILURE_LINES, ...options.failureLines };
  voice.addNote(note);
  voice.say(lines[raw] ?? lines.default ?? DEFAULT_FAILURE_LINES.default!);
}
