// The REST half of the local Piopiy simulator: a node:http request listener that answers like the v3 API.
// It checks the Bearer token (401), parses JSON (400), validates each body with the very validators the
// RestClient runs (400 `{ message, field }`, same wording), and hands valid requests to the handlers, which
// play the platform's side (calls, transfers, hangups). Unknown paths get 404, other methods on known paths 405.
//
// Every request is recorded, rejected ones included, as `{ method, path, body }`: `path` is the path as
// requested, `/v3` prefix included and query string left out (e.g. `/v3/voice/pcmo/transfer`); `body` is the
// parsed JSON, the raw text when it is not JSON, or `undefined` when empty.
//
// Routes (all under /v3, all POST):
//   /voice/pcmo/transfer, /voice/call/hangup, /voice/ai/call, /voice/pcmo/call, /voice/flow/call (spec §7.2);
//   /calls/{id}/actions/hangup and the blind form `{ pipeline }` of /calls/{id}/actions/transfer (spec §7.6).
//   The warm form of the latter (to_number / sip_uri) answers 501: its behaviour is not simulated.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  PiopiyValidationError,
  validateAiCallBody,
  validateCallActionHangupBody,
  validateCallActionTransferBody,
  validateFlowCallBody,
  validateHangupBody,
  validatePcmoCallBody,
  validateTransferBody,
  type PipelineAction,
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

export interface SimulatorRestHandlers {
  /** A valid transfer of `callId` (`/voice/pcmo/transfer` or a blind `/calls/{id}/actions/transfer`). */
  transfer(callId: string, pipeline: PipelineAction[]): SimResult | Promise<SimResult>;
  /** A valid hangup; `cause` is filled in with the platform default when the body has none. */
  hangup(callId: string, cause: string, reason?: string): SimResult | Promise<SimResult>;
  /** A valid outbound call request; `body` is the validated wire body. */
  call(kind: SimCallKind, body: Record<string, unknown>): SimResult | Promise<SimResult>;
  isValidToken(token: string): boolean;
}

export interface SimulatorRestRequest {
  method: string;
  path: string;
  body: unknown;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The request listener itself (mount it on a node:http server, for all requests or those under `/v3/`), with
 * the request log attached; `listener` is the same function, for destructuring.
 */
export interface SimulatorRestApi {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly listener: SimulatorRestApi;
  /** Every request received, in order. */
  readonly requests: SimulatorRestRequest[];
}

const API_PREFIX = '/v3';
/** Larger bodies are refused (413) rather than buffered: no legitimate v3 body comes close. */
const MAX_BODY_BYTES = 1024 * 1024;

type Route = (body: unknown, handlers: SimulatorRestHandlers) => SimResult | Promise<SimResult>;

const STATIC_ROUTES: Readonly<Record<string, Route>> = {
  '/voice/pcmo/transfer': (raw, h) => {
    const body = validateTransferBody(raw);
    return h.transfer(body.call_id, body.pipeline);
  },
  '/voice/call/hangup': (raw, h) => {
    const body = validateHangupBody(raw);
    return h.hangup(body.call_id, body.cause ?? 'NORMAL_CLEARING', body.reason);
  },
  '/voice/ai/call': (raw, h) => h.call('ai', { ...validateAiCallBody(raw) }),
  '/voice/pcmo/call': (raw, h) => h.call('pcmo', { ...validatePcmoCallBody(raw) }),
  '/voice/flow/call': (raw, h) => h.call('flow', { ...validateFlowCallBody(raw) }),
};

const CALL_ACTION_PATH = /^\/calls\/([^/]+)\/actions\/(transfer|hangup)$/;

function findRoute(apiPath: string): Route | undefined {
  const route = STATIC_ROUTES[apiPath];
  if (route !== undefined) return route;
  const match = CALL_ACTION_PATH.exec(apiPath);
  if (match === null) return undefined;
  const callId = decodeURIComponent(match[1]!);
  if (match[2] === 'hangup') {
    return (raw, h) => {
      const body = validateCallActionHangupBody(raw);
      return h.hangup(callId, body.cause ?? 'normal', body.reason);
    };
  }
  return (raw, h) => {
    if (typeof raw === 'object' && raw !== null && ('to_number' in raw || 'sip_uri' in raw)) {
      return {
        status: 501,
        body: { error: 'not_implemented', message: 'The simulator implements only blind transfers ({ pipeline }) here.' },
      };
    }
    return h.transfer(callId, validateCallActionTransferBody(raw).pipeline);
  };
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
    const route = path.startsWith(`${API_PREFIX}/`) ? findRoute(path.slice(API_PREFIX.length)) : undefined;
    if (route === undefined) {
      send(res, 404, { error: 'not_found', message: `No such endpoint: ${method} ${path}` });
      return;
    }
    if (method !== 'POST') {
      send(res, 405, { error: 'method_not_allowed', message: `${path} accepts POST only.` }, { Allow: 'POST' });
      return;
    }
    if (!parsed.ok) {
      send(res, 400, { error: 'invalid_json', message: 'Request body must be valid JSON.' });
      return;
    }
    let result: SimResult;
    try {
      result = await route(parsed.value, handlers);
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
