// RestClient: the Piopiy v3 REST API (spec §7) as `voice`, `ai`, `pcmo` and `flow` namespaces. Every method
// maps its camelCase input to the exact wire body of spec §7.2, validates it like the platform does, and only
// then sends it; transfers and hangups are never retried once they may have reached the platform
// (policy in ./http.ts).
import { systemClock, type Clock } from '../../runtime/clock.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { PiopiyValidationError } from './errors.js';
import { HttpTransport, type RetryPolicy } from './http.js';
import { compact, normalizeParties, normalizePipeline, resolvePipeline, toWire } from './normalize.js';
import { PipelineBuilder } from './pipeline.js';
import type {
  AiCallInput,
  AiCallRequest,
  FailoverBody,
  FlowCallInput,
  HangupOptions,
  PcmoCallInput,
  PiopiyResponse,
  PipelineInput,
  VoiceCallInput,
} from './types.js';
import {
  isPlainObject,
  validateAiCallBody,
  validateAiCallRequest,
  validateFlowCallBody,
  validateHangupBody,
  validatePcmoCallBody,
  validateTransferBody,
} from './validation.js';

export const DEFAULT_BASE_URL = 'https://rest.piopiy.com/v3';

export interface RestClientOptions {
  /** The Piopiy REST API token (Bearer), usually `process.env.PIOPIY_TOKEN`. */
  token: string;
  /**
   * Default `https://rest.piopiy.com/v3`; the local simulator gives its own. Takes `undefined` too, so
   * `process.env.PIOPIY_API_URL` can be passed as it is under `exactOptionalPropertyTypes`.
   */
  baseUrl?: string | undefined;
  /** Per attempt, headers and body included. Default 10000. */
  timeoutMs?: number;
  /** Retries of requests that certainly did not reach the platform (see ./http.ts). Default 2. */
  maxRetries?: number;
  /** First backoff delay before retrying an unsent request; doubles each time. Default 400. */
  retryDelayMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
  /** The clock of timeouts and retry waits. Default: the system clock. */
  clock?: Clock;
}

type WireObject = Record<string, unknown>;

/** Calls are retried on 429 + Retry-After too: a rate-limited call was refused, not placed. */
const CALL_RETRY: RetryPolicy = 'unsent-or-rate-limited';
/** Transfers and hangups act on a live call: retried only when certainly unsent. */
const CALL_CONTROL_RETRY: RetryPolicy = 'unsent-only';

function inputObject(input: unknown): WireObject {
  if (!isPlainObject(input)) throw new PiopiyValidationError('body must be an object.', 'body');
  return input;
}

/** Call control shared by every namespace: transfer of a live call with a PCMO pipeline. */
class TransferApi {
  /** @internal */
  constructor(protected readonly http: HttpTransport) {}

  /** A new pipeline builder. */
  pipeline(): PipelineBuilder {
    return new PipelineBuilder();
  }

  /**
   * Replaces what a live call does with `pipeline` (`POST /voice/pcmo/transfer`), e.g. connects the caller to a
   * human. Accepts a builder or the raw action array (`params.from` and `+` numbers are normalised).
   */
  async transfer(callId: string, pipeline: PipelineInput): Promise<PiopiyResponse> {
    const body = validateTransferBody({ call_id: callId, pipeline: normalizePipeline(resolvePipeline(pipeline)) });
    return this.http.post('/voice/pcmo/transfer', body, CALL_CONTROL_RETRY);
  }
}

class CallControlApi extends TransferApi {
  /** Ends a live call (`POST /voice/call/hangup`). `cause` defaults to `NORMAL_CLEARING`. */
  async hangup(callId: string, options: HangupOptions = {}): Promise<PiopiyResponse> {
    const { cause, reason, ...unknownKeys } = inputObject(options);
    const body = validateHangupBody(
      compact({ ...unknownKeys, call_id: callId, cause: cause ?? 'NORMAL_CLEARING', reason }),
    );
    return this.http.post('/voice/call/hangup', body, CALL_CONTROL_RETRY);
  }
}

const VOICE_CALL_WIRE_KEYS = ['caller_id', 'to_number', 'app_id', 'options', 'variables'];

export class VoiceApi extends CallControlApi {
  /**
   * Calls one number (`POST /voice/pcmo/call` with one generated connect to `toNumber`). `connect` shapes
   * that leg (`strategy` defaults to `sequential`); `callOptions` are the call's own options.
   */
  async call(input: VoiceCallInput): Promise<PiopiyResponse> {
    const { connect, callOptions, ...fields } = inputObject(input);
    const wire = toWire(fields) as WireObject;
    if (callOptions !== undefined && wire.options !== undefined) {
      throw new PiopiyValidationError('Use either callOptions or options, not both.', 'callOptions');
    }
    const unknown = Object.keys(wire).filter((key) => !VOICE_CALL_WIRE_KEYS.includes(key)).sort();
    if (unknown.length > 0) throw new PiopiyValidationError(`Unknown field(s): ${unknown.join(', ')}`, 'body');
    const leg = connect === undefined ? {} : connectLeg(connect);
    normalizeParties(wire);
    const body = validatePcmoCallBody(
      compact({
        caller_id: wire.caller_id,
        to_number: wire.to_number,
        app_id: wire.app_id,
        pipeline: [
          {
            action: 'connect',
            params: compact({ caller_id: wire.caller_id, strategy: leg.strategy ?? 'sequential', options: toWire(leg.options), metadata: leg.metadata }),
            endpoints: [{ type: 'pstn', number: wire.to_number }],
          },
        ],
        options: callOptions === undefined ? wire.options : toWire(callOptions),
        variables: wire.variables,
      }),
    );
    return this.http.post('/voice/pcmo/call', body, CALL_RETRY);
  }
}

function connectLeg(connect: unknown): WireObject {
  if (!isPlainObject(connect)) throw new PiopiyValidationError('connect must be an object.', 'connect');
  const unknown = Object.keys(connect)
    .filter((key) => connect[key] !== undefined && !['strategy', 'options', 'metadata'].includes(key))
    .sort();
  if (unknown.length > 0) throw new PiopiyValidationError(`Unknown connect field(s): ${unknown.join(', ')}`, 'connect');
  return connect;
}

export class AiApi extends CallControlApi {
  /**
   * Calls a number and connects an AI agent (`POST /voice/ai/call`). With `failover`, the call goes through
   * `POST /voice/pcmo/call` with a generated connect to both agents (primary first), and `appId` is required.
   */
  async call(input: AiCallInput): Promise<PiopiyResponse> {
    const request = validateAiCallRequest(normalizeParties(toWire(inputObject(input)) as WireObject));
    const { caller_id, to_number, agent_id, options, variables } = request;
    if (request.failover === undefined) {
      const body = validateAiCallBody(compact({ caller_id, to_number, agent_id, options, variables }));
      return this.http.post('/voice/ai/call', body, CALL_RETRY);
    }
    const body = validatePcmoCallBody(
      compact({ caller_id, to_number, app_id: request.app_id, pipeline: failoverPipeline(request, request.failover), options, variables }),
    );
    return this.http.post('/voice/pcmo/call', body, CALL_RETRY);
  }
}

/** Spec §7.2: one connect to the primary agent then the failover agent, with the failover's leg settings. */
function failoverPipeline(request: AiCallRequest, failover: FailoverBody): WireObject[] {
  const legOptions = compact({
    max_duration_sec: failover.max_duration_sec,
    ring_timeout_sec: failover.ring_timeout_sec,
    machine_detection: failover.machine_detection,
    recording: failover.recording,
    waiting_music: failover.waiting_music,
  });
  return [
    {
      action: 'connect',
      params: compact({
        caller_id: request.caller_id,
        strategy: failover.strategy,
        options: Object.keys(legOptions).length > 0 ? legOptions : undefined,
        metadata: failover.metadata,
      }),
      endpoints: [
        { type: 'agent', id: request.agent_id },
        { type: 'agent', id: failover.agent_id },
      ],
    },
  ];
}

export class PcmoApi extends TransferApi {
  /** Places a call that runs `pipeline` (`POST /voice/pcmo/call`). */
  async call(input: PcmoCallInput): Promise<PiopiyResponse> {
    const { pipeline, ...fields } = inputObject(input);
    const wire = normalizeParties(toWire(fields) as WireObject);
    const body = validatePcmoCallBody(compact({ ...wire, pipeline: normalizePipeline(resolvePipeline(pipeline)) }));
    return this.http.post('/voice/pcmo/call', body, CALL_RETRY);
  }
}

export class FlowApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /** Places a call that runs a flow built on the platform (`POST /voice/flow/call`). */
  async call(input: FlowCallInput): Promise<PiopiyResponse> {
    const body = validateFlowCallBody(normalizeParties(toWire(inputObject(input)) as WireObject));
    return this.http.post('/voice/flow/call', body, CALL_RETRY);
  }
}

/** The Piopiy REST API client. */
export class RestClient {
  readonly voice: VoiceApi;
  readonly ai: AiApi;
  readonly pcmo: PcmoApi;
  readonly flow: FlowApi;
  readonly baseUrl: string;

  constructor(options: RestClientOptions) {
    const token: unknown = (options as Partial<RestClientOptions> | undefined)?.token;
    if (typeof token !== 'string' || token.trim() === '') {
      throw new TypeError(
        'RestClient: a Piopiy REST API token is required: pass { token: process.env.PIOPIY_TOKEN } with PIOPIY_TOKEN set.',
      );
    }
    this.baseUrl = checkedBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('RestClient: timeoutMs must be a positive number.');
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError('RestClient: maxRetries must be an integer >= 0.');
    const retryDelayMs = options.retryDelayMs ?? 400;
    if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) throw new RangeError('RestClient: retryDelayMs must be a number >= 0.');
    const http = new HttpTransport({
      token,
      baseUrl: this.baseUrl,
      timeoutMs,
      maxRetries,
      retryDelayMs,
      fetch: options.fetch ?? globalThis.fetch,
      logger: options.logger ?? getDefaultLogger().child({ component: 'piopiy-rest' }),
      clock: options.clock ?? systemClock,
    });
    this.voice = new VoiceApi(http);
    this.ai = new AiApi(http);
    this.pcmo = new PcmoApi(http);
    this.flow = new FlowApi(http);
  }
}

function checkedBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`RestClient: baseUrl is not a valid URL: ${baseUrl}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`RestClient: baseUrl must be an http(s) URL: ${baseUrl}`);
  }
  return baseUrl.replace(/\/+$/, '');
}
