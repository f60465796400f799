// Keypad keys: what is accepted to send, what counts as a received key, and the RFC 4733 event codes.
import { describe, expect, it } from 'vitest';
import { MAX_DTMF_SEQUENCE, dtmfDigitOfCode, dtmfEventCode, isDtmfDigit, parseDtmfSequence } from '../../src/frames/index.js';

describe('DTMF keys', () => {
  it('accepts 0-9, *, #, A-D (a-d as A-D), ignores spaces, dashes and dots, and w only when pauses are allowed', () => {
    expect(parseDtmfSequence('123#')).toEqual(['1', '2', '3', '#']);
    expect(parseDtmfSequence('*0 a-D.9')).toEqual(['*', '0', 'A', 'D', '9']);
    expect(parseDtmfSequence('1w2', { allowPauses: true })).toEqual(['1', 'w', '2']);
    expect(() => parseDtmfSequence('1w2')).toThrow(/invalid DTMF key "w" in "1w2": use 0-9, \*, # or A-D/);
  });

  it('rejects other characters, nothing at all, too many keys and non-strings with a clear error', () => {
    expect(() => parseDtmfSequence('12x', { allowPauses: true })).toThrow(/invalid DTMF key "x" .*or w for a pause/);
    expect(() => parseDtmfSequence('E')).toThrow(RangeError);
    expect(() => parseDtmfSequence(' - ')).toThrow(/no DTMF keys given/);
    expect(() => parseDtmfSequence('1'.repeat(MAX_DTMF_SEQUENCE + 1))).toThrow(/too many DTMF keys \(65\); at most 64/);
    expect(parseDtmfSequence('1'.repeat(MAX_DTMF_SEQUENCE))).toHaveLength(64);
    expect(() => parseDtmfSequence(5 as unknown as string)).toThrow(TypeError);
  });

  it('a received key is exactly one keypad key', () => {
    for (const key of ['0', '9', '*', '#', 'A', 'D']) expect(isDtmfDigit(key)).toBe(true);
    for (const key of ['', '10', 'a', 'E', 'w', ' ', 5, null, undefined]) expect(isDtmfDigit(key)).toBe(false);
  });

  it('maps keys to RFC 4733 event codes and back: digits are themselves, * 10, # 11, A-D 12-15', () => {
    const keys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'] as const;
    expect(keys.map(dtmfEventCode)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    for (const key of keys) expect(dtmfDigitOfCode(dtmfEventCode(key))).toBe(key);
    expect(dtmfDigitOfCode(16)).toBeUndefined(); // flash and the tones above are not keys
    expect(dtmfDigitOfCode(-1)).toBeUndefined();
    expect(dtmfDigitOfCode(1.5)).toBeUndefined();
  });
});
