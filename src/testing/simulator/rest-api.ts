// The REST half of the local Piopiy simulator: a node:http request listener that answers like the Piopiy APIs.
// It checks the Bearer token (401), parses JSON (400), validates each body with the very validators the
// RestClient runs (400 `{ message, field }`, same wording), and hands valid requests to the handlers, which
// play the platform's side (calls, transfers, hangups, agents). Unknown paths get 404, other methods on known
// paths 405.
//
// Every request is recorded, rejected ones included, as `{ method, path, body }`: `path` is the path as
// requested, prefix included and query string left out (e.g. `/v3/voice/pcmo/transfer`); `body` is the parsed
// JSON, the raw text when it is not JSON, or `undefined` when empty.
//
// Routes under /v3 (the call API):
//   POST /voice/pcmo/transfer, /voice/call/hangup, /voice/ai/call, /voice/pcmo/call, /voice/flow/call (spec §7.2);
//   POST /calls/{id}/actions/transfer (warm: to_number / sip_uri; blind: { pipeline }), /calls/{id}/actions/hangup,
//   GET /calls/{id}, GET /transfers/{request_id} (spec §7.6); GET /balance.
// Routes under /v1 (the AI-agent management API): POST and GET /ai-agents, DELETE /ai-agents/{id},
//   POST /phone-number-routing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  PiopiyValidationError,
  validateAiCallBody,
  validateCallActionHangupBody,
  validateCallActionTransferBody,
  validateCreateAgentBody,
  validateFlowCallBody,
  validateHangupBody,
  validatePcmoCallBody,
  validateRouteNumberBody,
  validateTransferBody,
  validateWarmTransferBody,
  type CreateAgentBody,
  type PipelineAction,
  type RouteNumberBody,
  type WarmTransferBody,
} from '../../piopiy/rest/index.js';

/** What a handler answers: an HTTP status and a JSON object body. */
export interface SimResult {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Which call endpoint was used. `voice.call` arrives as `pcmo`: on the platform it is the same endpoint with a
 * generated pipeline.
 */
export type SimCallKind = 'ai' | 'pcmo' | 'flow';

type Answer = SimResult | Promise<SimResult>;

export interface SimulatorRestHandlers {
  /** A valid transfer of `callId` (`/voice/pcmo/transfer` or a blind `/calls/{id}/actions/transfer`). */
  transfer(callId: string, pipeline: PipelineAction[]): Answer;
  /** A valid warm transfer (`/calls/{id}/actions/transfer` with `to_number` or `sip_uri`). */
  warmTransfer(callId: string, body: WarmTransferBody): Answer;
  /** `GET /transfers/{request_id}`. */
  transferStatus(requestId: string): Answer;
  /** `GET /calls/{id}`. */
  callStatus(callId: string): Answer;
  /** A valid hangup; `cause` is filled in with the platform default when the body has none. */
  hangup(callId: string, cause: string, reason?: string): Answer;
  /** A valid outbound call request; `body` is the validated wire body. */
  call(kind: SimCallKind, body: Record<string, unknown>): Answer;
  /** `GET /balance`. */
  balance(): Answer;
  createAgent(body: CreateAgentBody): Answer;
  listAgents(): Answer;
  deleteAgent(agentId: string): Answer;
  routeNumber(body: RouteNumberBody): Answer;
  isValidToken(token: string): boolean;
}

export interface SimulatorRestRequest {
  method: string;
  path: string;
  body: unknown;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The request listener itself (mount it on a node:http server, for all requests or those under `/v3/` and
 * `/v1/`), with the request log attached; `listener` is the same function, for destructuring.
 */
export interface SimulatorRestApi {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly listener: SimulatorRestApi;
  /** Every request received, in order. */
  readonly requests: SimulatorRestRequest[];
}

/** Larger bodies are refused (413) rather than buffered: no legitimate body comes close. */
const MAX_BODY_BYTES = 1024 * 1024;

type Method = 'GET' | 'POST' | 'DELETE';
type Handle = (body: unknown, h: SimulatorRestHandlers, params: string[]) => Answer;
interface Route {
  readonly path: RegExp;
  readonly methods: Partial<Record<Method, Handle>>;
}

const ID = '([^/]+)';
const route = (path: string, methods: Route['methods']): Route => ({ path: new RegExp(`^${path}$`), methods });

const ROUTES: readonly Route[] = [
  route('/v3/voice/pcmo/transfer', {
    POST: (raw, h) => {
      const body = validateTransferBody(raw);
      return h.transfer(body.call_id, body.pipeline);
    },
  }),
  route('/v3/voice/call/hangup', {
    POST: (raw, h) => {
      const body = validateHangupBody(raw);
      return h.hangup(body.call_id, body.cause ?? 'NORMAL_CLEARING', body.reason);
    },
  }),
  route('/v3/voice/ai/call', { POST: (raw, h) => h.call('ai', { ...validateAiCallBody(raw) }) }),
  route('/v3/voice/pcmo/call', { POST: (raw, h) => h.call('pcmo', { ...validatePcmoCallBody(raw) }) }),
  route('/v3/voice/flow/call', { POST: (raw, h) => h.call('flow', { ...validateFlowCallBody(raw) }) }),
  route(`/v3/calls/${ID}/actions/hangup`, {
    POST: (raw, h, [callId]) => {
      const body = validateCallActionHangupBody(raw);
      return h.hangup(callId!, body.cause ?? 'normal', body.reason);
    },
  }),
  route(`/v3/calls/${ID}/actions/transfer`, {
    POST: (raw, h, [callId]) => {
      // The warm form names a destination; the blind form carries a pipeline (spec §7.6).
      if (typeof raw === 'object' && raw !== null && !('pipeline' in raw)) return h.warmTransfer(callId!, validateWarmTransferBody(raw));
      return h.transfer(callId!, validateCallActionTransferBody(raw).pipeline);
    },
  }),
  route(`/v3/calls/${ID}`, { GET: (_raw, h, [callId]) => h.callStatus(callId!) }),
  route(`/v3/transfers/${ID}`, { GET: (_raw, h, [requestId]) => h.transferStatus(requestId!) }),
  route('/v3/balance', { GET: (_raw, h) => h.balance() }),
  route('/v1/ai-agents', {
    POST: (raw, h) => h.createAgent(validateCreateAgentBody(raw)),
    GET: (_raw, h) => h.listAgents(),
  }),
  route(`/v1/ai-agents/${ID}`, { DELETE: (_raw, h, [agentId]) => h.deleteAgent(agentId!) }),
  route('/v1/phone-number-routing', { POST: (raw, h) => h.routeNumber(validateRouteNumberBody(raw)) }),
];

function findRoute(path: string): { route: Route; params: string[] } | undefined {
  for (const candidate of ROUTES) {
    const match = candidate.path.exec(path);
    if (match !== null) return { route: candidate, params: match.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}

export function createSimulatorRestApi(handlers: SimulatorRestHandlers): SimulatorRestApi {
  const requests: SimulatorRestRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://simulator.invalid').pathname;
    const text = await readBody(req);
    if (text === undefined) {
      requests.push({ method, path, body: undefined });
      send(res, 413, { error: 'payload_too_large', message: `Request body exceeds ${MAX_BODY_BYTES} bytes.` });
      return;
    }
    const parsed = parseJson(text);
    requests.push({ method, path, body: parsed.ok ? parsed.value : text === '' ? undefined : text });

    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || !handlers.isValidToken(token)) {
      send(res, 401, { error: 'unauthorized', message: 'Missing or invalid Bearer token.' });
      return;
    }
    const found = findRoute(path);
    if (found === undefined) {
      send(res, 404, { error: 'not_found', message: `No such endpoint: ${method} ${path}` });
      return;
    }
    const handle = found.route.methods[method as Method];
    if (handle === undefined) {
      const allow = Object.keys(found.route.methods).join(', ');
      send(res, 405, { error: 'method_not_allowed', message: `${path} accepts ${allow} only.` }, { Allow: allow });
      return;
    }
    if (!parsed.ok) {
      send(res, 400, { error: 'invalid_json', message: 'Request body must be valid JSON.' });
      return;
    }
    let result: SimResult;
    try {
      result = await handle(parsed.value, handlers, found.params);
    } catch (error) {
      if (!(error instanceof PiopiyValidationError)) throw error;
      send(res, 400, { message: error.message, field: error.field });
      return;
    }
    send(res, result.status, result.body);
  }

  const handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      // A handler bug: answer like a platform fault rather than leave the client hanging.
      if (!res.headersSent) send(res, 500, { error: 'internal_error', message: String(error) });
      else res.destroy();
    });
  };
  const api = handleRequest as SimulatorRestApi & { listener: SimulatorRestApi; requests: SimulatorRestRequest[] };
  api.listener = api;
  api.requests = requests;
  return api;
}

/** The body as text, or `undefined` when it is over the size limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true; // keep draining so the 413 reaches the client
    else chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  // An empty body parses as "no body": the validators then answer "body must be an object.".
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}
