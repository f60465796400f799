// The handshake of the fake Deepgram Flux (deepgram-flux.ts): the key, the query as Deepgram's reference checks it,
// and refusals in Deepgram's error shape. Facts and sources: docs/vendors/deepgram-flux.md.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { refuseUpgrade } from './http.js';

export type FakeDeepgramFluxFault = 401 | 429 | 500;

const MODELS = ['flux-general-en', 'flux-general-multi'];
const ENCODINGS = ['linear16', 'linear32', 'mulaw', 'alaw', 'opus', 'ogg-opus'];
export const LIST_PARAMS = ['keyterm', 'tag', 'language_hint'];

export const FAULTS: Readonly<Record<FakeDeepgramFluxFault, [string, string]>> = {
  401: ['INVALID_AUTH', 'Invalid credentials.'],
  429: ['TOO_MANY_REQUESTS', 'Too many requests. Please try again later.'],
  500: ['INTERNAL_SERVER_ERROR', 'The server encountered an error.'],
};

export function refuse(socket: Socket, status: number, errCode: string, errMsg: string): void {
  const requestId = randomUUID();
  const body = JSON.stringify({ err_code: errCode, err_msg: errMsg, request_id: requestId });
  refuseUpgrade(socket, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'dg-request-id': requestId, 'dg-error': errMsg, Connection: 'close' }, body);
}

/** The key of the handshake (header or `token` subprotocol), and the subprotocol to echo. */
export function handshakeKey(req: IncomingMessage): { key: string | undefined; protocol: string | undefined } {
  const header = /^(token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (header !== null) return { key: header[2]!.trim(), protocol: undefined };
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const scheme = offered[0]?.toLowerCase();
  if ((scheme === 'token' || scheme === 'bearer') && offered[1] !== undefined) return { key: offered[1], protocol: offered[0] };
  return { key: undefined, protocol: undefined };
}

export interface Thresholds {
  eot: number;
  eager: number | undefined;
  timeoutMs: number;
}

/** What Deepgram would refuse in the query, or the thresholds it sets. */
export function parseQuery(params: URLSearchParams): string | Thresholds {
  const model = params.get('model');
  if (model === null) return 'model is required';
  if (!MODELS.includes(model)) return `No such model: ${model}`;
  const encoding = params.get('encoding');
  if (encoding === null) return 'this fake takes raw audio only: encoding=linear16 is required';
  if (!ENCODINGS.includes(encoding)) return `encoding must be one of ${ENCODINGS.join(', ')}`;
  if (encoding !== 'linear16') return 'this fake takes encoding linear16 only';
  const rate = Number(params.get('sample_rate'));
  if (!Number.isInteger(rate) || rate <= 0) return 'sample_rate is required with a raw encoding';
  const number = (name: string): number | undefined => (params.has(name) ? Number(params.get(name)) : undefined);
  const eot = number('eot_threshold') ?? 0.7;
  const eager = number('eager_eot_threshold');
  const timeoutMs = number('eot_timeout_ms') ?? 5000;
  if (!(eot >= 0.5 && eot <= 1)) return 'eot_threshold must be between 0.5 and 1.0';
  if (eager !== undefined && !(eager >= 0.3 && eager <= 0.9)) return 'eager_eot_threshold must be between 0.3 and 0.9';
  if (eager !== undefined && eager > eot) return 'eager_eot_threshold must not exceed eot_threshold';
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 500 && timeoutMs <= 60_000)) return 'eot_timeout_ms must be an integer between 500 and 60000';
  // Hints bias the multilingual model only; the reference does not say what English does with one: refused here.
  if (params.has('language_hint') && model !== 'flux-general-multi') return 'language_hint is supported by flux-general-multi only';
  return { eot, eager, timeoutMs };
}
