// RestClient: the Piopiy v3 REST API (spec §7) as `voice`, `ai`, `pcmo` and `flow` namespaces. Every method
// maps its camelCase input to the exact wire body of spec §7.2, validates it like the platform does, and only
// then sends it; transfers and hangups are never retried once they may have reached the platform
// (policy in ./http.ts).
import { systemClock, type Clock } from '../../runtime/clock.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { ConfigurationProblems } from '../../runtime/configuration-error.js';
import { PiopiyValidationError } from './errors.js';
import { HttpTransport, type RetryPolicy } from './http.js';
import { compact, normalizeParties, normalizePipeline, resolvePipeline, toWire } from './normalize.js';
import { PipelineBuilder } from './pipeline.js';
import { AgentsApi, DEFAULT_MANAGEMENT_BASE_URL } from './agents.js';
import { CallsApi } from './call-control.js';
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
  /** The Piopiy REST API token (Bearer). Default: `process.env.PIOPIY_TOKEN` (read only when this is omitted). */
  token?: string | undefined;
  /**
   * Default: `process.env.PIOPIY_API_URL` (read only when this is omitted), else `https://rest.piopiy.com/v3`;
   * the local simulator gives its own.
   */
  baseUrl?: string | undefined;
  /**
   * The AI-agent management API (`agents`). Default: `process.env.PIOPIY_MANAGEMENT_API_URL` (read only when this is
   * omitted), else `https://api.piopiy.com/v1`; the simulator gives its own.
   */
  managementBaseUrl?: string | undefined;
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
  /**
   * Ends a live call (`POST /voice/call/hangup`) with a SIP-style cause (default `NORMAL_CLEARING`) and an
   * optional reason: `hangup(callId, 'USER_BUSY', 'caller asked')` or `hangup(callId, { cause, reason })`.
   */
  async hangup(callId: string, causeOrOptions?: string | HangupOptions, reason?: string): Promise<PiopiyResponse> {
    if (typeof causeOrOptions === 'string') return this.hangup(callId, { cause: causeOrOptions, reason });
    if (reason !== undefined) throw new PiopiyValidationError('Give reason inside the options object, not after it.', 'reason');
    const { cause, reason: why, ...unknownKeys } = inputObject(causeOrOptions ?? {});
    const body = validateHangupBody(
      compact({ ...unknownKeys, call_id: callId, cause: cause ?? 'NORMAL_CLEARING', reason: why }),
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
  /** Actions on a live call (spec §7.6): warm and blind transfer, hangup with a cause, transfer status. */
  readonly calls: CallsApi;
  /** AI-agent management: create, list, delete, route a number (on `managementBaseUrl`). */
  readonly agents: AgentsApi;
  readonly baseUrl: string;
  readonly managementBaseUrl: string;
  readonly #http: HttpTransport;

  /**
   * Throws a ConfigurationError listing every missing or invalid option at once (no token: set PIOPIY_TOKEN).
   */
  constructor(options: RestClientOptions = {}) {
    const { token, baseUrl, managementBaseUrl, timeoutMs, maxRetries, retryDelayMs } = resolveRestClientSettings(options ?? {});
    this.baseUrl = baseUrl;
    this.managementBaseUrl = managementBaseUrl;
    const clock = options.clock ?? systemClock;
    const transport = {
      token,
      timeoutMs,
      maxRetries,
      retryDelayMs,
      fetch: options.fetch ?? globalThis.fetch,
      logger: options.logger ?? getDefaultLogger().child({ component: 'piopiy-rest' }),
      clock,
    };
    const http = new HttpTransport({ ...transport, baseUrl: this.baseUrl });
    this.#http = http;
    this.voice = new VoiceApi(http);
    this.ai = new AiApi(http);
    this.pcmo = new PcmoApi(http);
    this.flow = new FlowApi(http);
    this.calls = new CallsApi(http, clock);
    this.agents = new AgentsApi(new HttpTransport({ ...transport, baseUrl: this.managementBaseUrl }));
  }

  /**
   * The account's remaining balance. The docs list `get_balance()` without its request; this reads
   * `GET {baseUrl}/balance` (the legacy TeleCMI APIs answer balance at `/v1/balance` and `/v2/balance`, with
   * `{ balance, sms, expire }`). The body is returned parsed.
   */
  async getBalance(): Promise<PiopiyResponse> {
    return this.#http.request('GET', '/balance', undefined, 'unsent-or-rate-limited');
  }
}

interface RestClientSettings {
  token: string;
  baseUrl: string;
  managementBaseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
}

function resolveRestClientSettings(options: RestClientOptions): RestClientSettings {
  const problems = new ConfigurationProblems('RestClient');
  const token = problems.credential(options.token ?? process.env.PIOPIY_TOKEN, {
    option: 'token',
    variable: 'PIOPIY_TOKEN',
    purpose: 'the Piopiy REST API token from the Piopiy dashboard',
  });
  // An option wins; else the variable, where an empty one (a blank line in .env) means "not set"; else the default.
  const url = (option: 'baseUrl' | 'managementBaseUrl', variable: string, fallback: string, purpose: string): string =>
    problems.url(options[option] ?? (process.env[variable] || undefined) ?? fallback, ['https:', 'http:'], { option, variable, purpose }).replace(/\/+$/, '');
  const baseUrl = url('baseUrl', 'PIOPIY_API_URL', DEFAULT_BASE_URL, "the Piopiy REST API's address");
  const managementBaseUrl = url(
    'managementBaseUrl',
    'PIOPIY_MANAGEMENT_API_URL',
    DEFAULT_MANAGEMENT_BASE_URL,
    "the Piopiy AI-agent management API's address",
  );
  const { timeoutMs, maxRetries, retryDelayMs } = options;
  problems.number(timeoutMs, { option: 'timeoutMs', purpose: 'how long one attempt may take' }, (n) => Number.isFinite(n) && n > 0, 'a positive number');
  problems.number(maxRetries, { option: 'maxRetries', purpose: 'retries of requests that were not sent' }, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  problems.number(retryDelayMs, { option: 'retryDelayMs', purpose: 'the first retry backoff' }, (n) => Number.isFinite(n) && n >= 0, 'a number >= 0');
  problems.throwIfAny();
  return {
    token,
    baseUrl,
    managementBaseUrl,
    timeoutMs: timeoutMs ?? 10_000,
    maxRetries: maxRetries ?? 2,
    retryDelayMs: retryDelayMs ?? 400,
  };
}
