// The legacy DTMF callback: a PCMO `input` or `play_get_input` action collects keys on the platform and POSTs
// them to its `action_url` as JSON `{ from, to, dtmf, cmiuuid }` (docs.telecmi.com piopiy "Input" and "Play & Get
// Input"; docs/dtmf.md). This parses that body, strictly, and gives a request handler to mount on any Node HTTP
// server (node:http, Express, Fastify's raw handler).
//
// Where the docs are silent or contradict themselves, the safe reading:
// - the docs' sample spells the call id `cmuuid` while their table says `cmiuuid`: both are accepted;
// - `from`/`to` are numbers in the sample and strings in other Piopiy callbacks: both, kept as digit strings;
// - whether `dtmf` can be empty (the caller pressed nothing before the timeout) is unknown: it is accepted as "";
// - what the platform expects back is unknown: the handler answers 200 with the JSON your callback returns (e.g. the
//   next PCMO actions) or 204 with no body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDtmfDigit, MAX_DTMF_SEQUENCE } from '../frames/index.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { PiopiyValidationError } from './rest/errors.js';

/** Keys a caller entered, as the platform reported them. */
export interface PiopiyDtmfResult {
  /** The call (`cmiuuid`). */
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  /** The keys, in order ("1234", "" when none was pressed). */
  readonly digits: string;
}

const NUMBER = /^\+?[0-9]{1,20}$/;
/** A callback body is a few dozen bytes; anything much larger is not one. */
const MAX_BODY_BYTES = 8192;

/** Checks a DTMF callback body; throws PiopiyValidationError naming the field that is wrong. */
export function parseDtmfCallback(body: unknown): PiopiyDtmfResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PiopiyValidationError('DTMF callback: the body must be a JSON object', 'body');
  }
  const fields = body as Record<string, unknown>;
  const callId = fields.cmiuuid ?? fields.cmuuid;
  if (typeof callId !== 'string' || callId.length === 0 || callId.length > 128) {
    throw new PiopiyValidationError('DTMF callback: cmiuuid must be the call id (a non-empty string)', 'cmiuuid');
  }
  const digits = fields.dtmf;
  const keys = typeof digits === 'number' && Number.isSafeInteger(digits) && digits >= 0 ? String(digits) : digits;
  if (typeof keys !== 'string' || keys.length > MAX_DTMF_SEQUENCE || ![...keys].every(isDtmfDigit)) {
    throw new PiopiyValidationError('DTMF callback: dtmf must be the keys pressed (0-9, *, #, A-D; at most 64)', 'dtmf');
  }
  return { callId, from: phoneNumber(fields.from, 'from'), to: phoneNumber(fields.to, 'to'), digits: keys };
}

function phoneNumber(value: unknown, field: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !NUMBER.test(text)) {
    throw new PiopiyValidationError(`DTMF callback: ${field} must be a phone number`, field);
  }
  return text;
}

export type DtmfCallbackListener = (result: PiopiyDtmfResult) => unknown;

/**
 * A request handler for the `action_url`: it reads the JSON body (at most 8 KB), checks it, calls `onResult` and
 * answers 200 with what `onResult` returns as JSON (the next PCMO actions, say), or 204 when it returns nothing.
 * A malformed body gets 400 naming the bad field; `onResult` throwing gets 500 and a warning in the log.
 */
export function dtmfCallbackHandler(
  onResult: DtmfCallbackListener,
  options: { logger?: Logger } = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof onResult !== 'function') throw new TypeError('dtmfCallbackHandler: onResult must be a function');
  const logger = options.logger ?? getDefaultLogger();
  return (request, response) => {
    const reply = (status: number, body?: unknown): void => {
      if (response.headersSent) return;
      if (body === undefined) {
        response.writeHead(status).end();
        return;
      }
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method !== 'POST') {
      reply(405, { error: 'POST the DTMF result as JSON' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reply(413, { error: 'body too large for a DTMF callback' });
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', () => reply(400, { error: 'the request failed' }));
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      let result: PiopiyDtmfResult;
      try {
        result = parseDtmfCallback(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        const field = error instanceof PiopiyValidationError ? error.field : 'body';
        const message = error instanceof PiopiyValidationError ? error.message : 'DTMF callback: the body is not JSON';
        reply(400, { error: message, field });
        return;
      }
      Promise.resolve()
        .then(() => onResult(result))
        .then(
          (answer) => reply(answer === undefined || answer === null ? 204 : 200, answer ?? undefined),
          (error: unknown) => {
            logger.warn({ err: error, callId: result.callId }, 'the DTMF callback listener failed');
            reply(500, { error: 'the DTMF result could not be handled' });
          },
        );
    });
  };
}
