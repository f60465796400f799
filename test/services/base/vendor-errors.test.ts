import { describe, expect, it } from 'vitest';
import { isRetryableStatus, redactSecrets, requireApiKey, retryAfterSecs } from '../../../src/services/base/vendor-errors.js';

describe('requireApiKey', () => {
  it('returns the key trimmed, or names the service and the variable to set', () => {
    expect(requireApiKey('  dg-key-123  ', 'DeepgramSTTService', 'DEEPGRAM_API_KEY')).toBe('dg-key-123');
    for (const missing of [undefined, null, '', '   ', 42]) {
      expect(() => requireApiKey(missing, 'DeepgramSTTService', 'DEEPGRAM_API_KEY')).toThrow(
        new TypeError('DeepgramSTTService: apiKey is required (e.g. { apiKey: process.env.DEEPGRAM_API_KEY })'),
      );
    }
  });
});

describe('isRetryableStatus', () => {
  it('timeouts, conflicts, rate limits and server errors may pass; auth, payment and bad requests do not', () => {
    expect([408, 409, 429, 500, 502, 503, 529].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 402, 403, 404, 413, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe('retryAfterSecs', () => {
  it('reads retry-after-ms first, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterSecs(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1.5);
    expect(retryAfterSecs(new Headers({ 'retry-after': '7' }))).toBe(7);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const secs = retryAfterSecs(new Headers({ 'retry-after': inTenSeconds }))!;
    expect(secs).toBeGreaterThan(8);
    expect(secs).toBeLessThanOrEqual(10);
    expect(retryAfterSecs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterSecs(new Headers())).toBeUndefined();
    expect(retryAfterSecs(undefined)).toBeUndefined();
  });
});

describe('redactSecrets', () => {
  it('removes the given secrets, echoed and masked keys, and key-shaped tokens of every vendor', () => {
    expect(redactSecrets('my-key-value echoed: my-key-value', ['my-key-value'])).toBe('[redacted] echoed: [redacted]');
    expect(redactSecrets('bad key sk-proj-abcdefghijklmnop here', ['other'])).toBe('bad key [redacted] here');
    expect(redactSecrets('Incorrect API key provided: You are ****tep.. You can find it', [])).toBe(
      'Incorrect API key provided: [redacted]. You can find it',
    );
    expect(redactSecrets('token gsk_1234567890abc leaked', [])).toBe('token [redacted] leaked');
    expect(redactSecrets('x-api-key sk-ant-api03-abcdefgh rejected', [])).toBe('x-api-key [redacted] rejected');
    expect(redactSecrets('key=AIzaSyA1234567890abcdef in URL', [])).toBe('key=[redacted] in URL');
    // Too short to be a key: left alone, or every "a" in a message would go.
    expect(redactSecrets('a bad request', ['a'])).toBe('a bad request');
  });
});
