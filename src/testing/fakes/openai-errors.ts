// OpenAI's error answers, shared by the chat and audio fakes: the `{"error": {message, type, param, code}}` body,
// the auth failures (a wrong key echoed masked, as OpenAI does), an unknown URL or model, the scripted statuses
// with their headers, and the headers every answer carries.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomString, sendJSON } from './sse.js';

const KEYS_URL = 'https://platform.openai.com/account/api-keys';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A refused request: thrown by the checks, answered with its status, body and headers. */
export class OpenAIRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(body.error.message);
  }
}

export function invalid(message: string, param: string | null = null, code: string | null = null): OpenAIRequestError {
  return new OpenAIRequestError(400, { error: { message, type: 'invalid_request_error', param, code } });
}

/** How OpenAI echoes a wrong key: the first 8 and last 4 characters around asterisks; short keys in full. */
export function maskKey(key: string): string {
  if (key.length <= 12) return key;
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

export function incorrectKey(key: string): OpenAIRequestError {
  return new OpenAIRequestError(401, {
    error: {
      message: `Incorrect API key provided: ${maskKey(key)}. You can find your API key at ${KEYS_URL}.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  });
}

export function missingKey(): OpenAIRequestError {
  return new OpenAIRequestError(401, {
    error: {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer " +
        "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're " +
        'accessing the API from your browser and are prompted for a username and password. You can obtain an API ' +
        `key from ${KEYS_URL}.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  });
}

/** The key is checked before anything else of the request: missing, then refused. */
export function checkKey(key: string, keyValid: boolean): void {
  if (key === '') throw missingKey();
  if (!keyValid) throw incorrectKey(key);
}

export function invalidURL(method: string | undefined, path: string): OpenAIRequestError {
  return new OpenAIRequestError(404, {
    error: { message: `Invalid URL (${method ?? 'GET'} ${path})`, type: 'invalid_request_error', param: null, code: null },
  });
}

export function modelNotFoundBody(model: string, message?: string): OpenAIErrorBody {
  return {
    error: {
      message: message ?? `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    },
  };
}

export function modelNotFound(model: string): OpenAIRequestError {
  return new OpenAIRequestError(404, modelNotFoundBody(model));
}

/** A scripted error's options: `message` replaces the default text; `shouldRetry` adds the `x-should-retry` header. */
export interface ScriptedOpenAIError {
  retryAfter?: number;
  shouldRetry?: boolean;
  message?: string;
}

/**
 * OpenAI's answer to a 403, 429, 500 or 503 that both the chat and the audio endpoints give; a 429 carries the
 * request rate-limit headers, its text telling when to try again.
 */
export function commonError(
  status: 403 | 429 | 500 | 503,
  model: string,
  response: ScriptedOpenAIError,
): { body: OpenAIErrorBody; headers: OutgoingHttpHeaders } {
  switch (status) {
    case 403:
      return {
        body: {
          error: {
            message: response.message ?? 'Country, region, or territory not supported',
            type: 'request_forbidden',
            param: null,
            code: 'unsupported_country_region_territory',
          },
        },
        headers: {},
      };
    case 429: {
      const wait = response.retryAfter ?? 20;
      return {
        body: {
          error: {
            message:
              response.message ??
              `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, ` +
                `Requested 1. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
        headers: {
          'x-ratelimit-limit-requests': '3',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${wait}s`,
        },
      };
    }
    case 500:
      return {
        body: {
          error: {
            message:
              response.message ??
              'The server had an error while processing your request. Sorry about that! You can retry your request, ' +
                'or contact us through our help center at help.openai.com if the error persists.',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
        headers: {},
      };
    case 503:
      return {
        body: {
          error: {
            message: response.message ?? 'The engine is currently overloaded, please try again later.',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
        headers: {},
      };
  }
}

/** A scripted error's headers (`headers`, then `retry-after` and `x-should-retry` when the script asked for them). */
export function scriptedErrorHeaders(headers: OutgoingHttpHeaders, response: ScriptedOpenAIError): OutgoingHttpHeaders {
  if (response.retryAfter !== undefined) headers['retry-after'] = String(response.retryAfter);
  if (response.shouldRetry !== undefined) headers['x-should-retry'] = String(response.shouldRetry);
  return headers;
}

/** How OpenAI names a JSON value's type in its error messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

/** The headers every OpenAI answer carries. */
export function openAIHeaders(random: () => number): OutgoingHttpHeaders {
  return {
    'x-request-id': `req_${randomString(random, 32, '0123456789abcdef')}`,
    'openai-processing-ms': String(50 + Math.floor(random() * 400)),
    'openai-version': '2020-10-01',
  };
}

/** Answers a refused request. */
export function sendOpenAIError(res: ServerResponse, error: OpenAIRequestError, random: () => number): void {
  sendJSON(res, error.status, error.body, { ...openAIHeaders(random), ...error.headers });
}

/** The answer when the fake itself failed. */
export function sendFakeFailure(res: ServerResponse): void {
  sendJSON(res, 500, { error: { message: 'fake server failure', type: 'server_error', param: null, code: null } });
}
