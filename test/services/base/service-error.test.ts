import { describe, expect, it } from 'vitest';
import {
  codeForStatus,
  isRetryableCode,
  isServiceErrorCode,
  retryDelayMs,
  SERVICE_ERROR_CODES,
  ServiceError,
} from '../../../src/services/base/service-error.js';
import { createSeededRandom } from '../../../src/testing/random.js';

describe('ServiceError codes', () => {
  it('an HTTP status says what went wrong', () => {
    expect([401, 403].map(codeForStatus)).toEqual(['auth', 'auth']);
    expect(codeForStatus(402)).toBe('quota');
    expect(codeForStatus(408)).toBe('timeout');
    expect(codeForStatus(429)).toBe('rate-limited');
    expect([500, 502, 503, 529, 409].map(codeForStatus)).toEqual(['server', 'server', 'server', 'server', 'server']);
    expect([400, 404, 413, 422].map(codeForStatus)).toEqual(['bad-request', 'bad-request', 'bad-request', 'bad-request']);
    expect([0, 302].map(codeForStatus)).toEqual(['protocol', 'protocol']);
  });

  it('every code has a retry rule, and only documented codes are codes', () => {
    expect(SERVICE_ERROR_CODES.filter(isRetryableCode)).toEqual([
      'rate-limited',
      'server',
      'timeout',
      'connection-failed',
      'connection-lost',
      'protocol',
      'unknown',
    ]);
    expect(isServiceErrorCode('auth')).toBe(true);
    expect(isServiceErrorCode('INVALID_AUTH')).toBe(false);
    expect(isServiceErrorCode('toString')).toBe(false);
  });

  it('the constructor derives the code from the status, and keeps a vendor string given as code as vendorCode', () => {
    expect(new ServiceError('V', 'refused', { status: 401 })).toMatchObject({ code: 'auth', vendorCode: undefined, retryable: false });
    // The shape vendors used before the codes were stable.
    const legacy = new ServiceError('V', 'refused', { status: 401, code: 'INVALID_AUTH' });
    expect(legacy).toMatchObject({ code: 'auth', vendorCode: 'INVALID_AUTH', retryable: false, message: 'V: refused' });
    expect(new ServiceError('V', 'dropped', { code: 'connection_error' })).toMatchObject({ code: 'unknown', vendorCode: 'connection_error', retryable: true });
    expect(new ServiceError('V', 'slow', { code: 'timeout', vendorCode: 'DEADLINE' })).toMatchObject({ code: 'timeout', vendorCode: 'DEADLINE', retryable: true });
    expect(new ServiceError('V', 'x')).toMatchObject({ code: 'unknown', retryable: true, status: undefined });
    // The vendor's explicit word on retrying wins over the policy.
    expect(new ServiceError('V', 'busy', { status: 503, retryable: false })).toMatchObject({ code: 'server', retryable: false });
  });
});

describe('retryDelayMs', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 2000 };
  const retryable = new ServiceError('V', 'down', { status: 503 });

  it('grows from the initial wait up to the longest, then slows down past the fast retries', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(retryable, n, backoff))).toEqual([100, 200, 400, 800, 1600, 2000]);
    const slow = { ...backoff, slowAfterRetries: 3, slowDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(retryable, n, slow))).toEqual([100, 200, 400, 5000, 5000]);
    // The LLM base's schedule, as the policy writes it: 250, 1000, 2000, at most 5 s with Retry-After.
    const llm = { initialDelayMs: 250, factor: 4, maxDelayMs: 2000, limitMs: 5000 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(retryable, n, llm))).toEqual([250, 1000, 2000, 2000]);
  });

  it('waits at least what the vendor asked (Retry-After), at most the limit', () => {
    const limited = new ServiceError('V', 'slow down', { status: 429, retryAfterSecs: 3 });
    expect(retryDelayMs(limited, 1, backoff)).toBe(3000);
    expect(retryDelayMs(limited, 1, { ...backoff, limitMs: 1500 })).toBe(1500);
  });

  it('says undefined when trying again cannot help', () => {
    expect(retryDelayMs(new ServiceError('V', 'bad key', { status: 401 }), 1, backoff)).toBeUndefined();
    expect(retryDelayMs(new ServiceError('V', 'no quota', { code: 'quota', status: 429 }), 1, backoff)).toBeUndefined();
    expect(retryDelayMs(new Error('not a vendor error'), 1, backoff)).toBeUndefined();
  });

  it('jitters only with a random source, the same way for the same seed', () => {
    const jittered = (seed: number): (number | undefined)[] => {
      const options = { ...backoff, jitter: 0.5, random: createSeededRandom(seed) };
      return [1, 2, 3].map((n) => retryDelayMs(retryable, n, options));
    };
    expect(jittered(7)).toEqual(jittered(7));
    for (const [i, delay] of jittered(7).entries()) {
      expect(delay).toBeGreaterThan((100 * 2 ** i) / 2);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** i);
    }
    expect(retryDelayMs(retryable, 1, { ...backoff, jitter: 0.5 })).toBe(100);
  });
});
