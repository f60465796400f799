// What every vendor client needs when a request fails or before it is made: the key checked once, the vendor's
// requested wait and its explicit word on retrying, and messages scrubbed of secrets before they reach an error
// (errors end up in logs). What a failure means and whether it may pass (the codes, the retry policy) is in
// service-error.ts. Internal to the services: not exported from `piopiy-ai/services/base`.
export { isRetryableStatus } from './service-error.js';

const REDACTED = '[redacted]';

/** What the helpers below read headers through: a fetch `Headers`, or anything with its `get`. */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/** The key from a service's options, trimmed, or a TypeError naming the service and the variable to set. */
export function requireApiKey(apiKey: unknown, service: string, envName: string): string {
  const key = typeof apiKey === 'string' ? apiKey.trim() : '';
  if (key === '') throw new TypeError(`${service}: apiKey is required (e.g. { apiKey: process.env.${envName} })`);
  return key;
}

/** Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date), when the vendor said. */
export function retryAfterSecs(headers: HeaderReader | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = headers?.get('retry-after');
  if (value === null || value === undefined) return undefined;
  const secs = Number.parseFloat(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** The vendor's explicit word on retrying (`x-should-retry: true|false`, OpenAI and Anthropic), when it gave one. */
export function shouldRetryHeader(headers: HeaderReader | undefined): boolean | undefined {
  const value = headers?.get('x-should-retry');
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

/**
 * `text` with the given secrets, and anything shaped like a vendor key, replaced: keys echoed back by a vendor
 * (OpenAI's 401 names the key it got, masked or in full), masked echoes such as `sk-proj-****abcd`, and tokens
 * shaped like OpenAI, Groq, Anthropic, xAI or Google keys.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  return (
    out
      // OpenAI's 401 wording: whatever stands between these words is the key as sent.
      .replace(/(Incorrect API key provided: ).*?(\. You can find|$)/s, `$1${REDACTED}$2`)
      .replace(/\S*\*{3,}\S*/g, REDACTED)
      .replace(/\bsk-ant-[A-Za-z0-9_-]{6,}/g, REDACTED)
      .replace(/\b(?:sk|gsk|pk|rk|xai|key)[-_][A-Za-z0-9_.-]{6,}/g, REDACTED)
      .replace(/\bAIza[0-9A-Za-z_-]{10,}/g, REDACTED)
  );
}
