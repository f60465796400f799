// Keypad digits (DTMF): the one place that says what a key is, so every transport, the aggregator and the
// send_dtmf tool accept and reject the same things. See docs/dtmf.md for the sources.

/** One key of a telephone keypad: 0-9, * and #, and the A-D column that a few networks still carry. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** A key to send, or `w`: half a second of pause between keys (the convention of phone dial strings). */
export type DtmfSendKey = DtmfDigit | 'w';

/** Longest digit string sent or accepted in one go: enough for any IVR code, small enough to bound the work. */
export const MAX_DTMF_SEQUENCE = 64;

const DIGIT = /^[0-9*#A-D]$/;

export function isDtmfDigit(value: unknown): value is DtmfDigit {
  return typeof value === 'string' && DIGIT.test(value);
}

/**
 * The keys of a digit string to send, validated: 0-9, *, #, A-D and `w` (a pause). Letters a-d are taken as A-D;
 * spaces, dashes and dots are ignored so "1-800 555" can be written as it is read. Throws a RangeError naming the
 * first bad character, or when the string has no key or more than MAX_DTMF_SEQUENCE.
 */
export function parseDtmfSequence(digits: string, options: { allowPauses?: boolean } = {}): DtmfSendKey[] {
  if (typeof digits !== 'string') throw new TypeError('DTMF digits must be a string such as "123#"');
  const keys: DtmfSendKey[] = [];
  for (const char of digits) {
    if (char === ' ' || char === '-' || char === '.') continue;
    const key = /^[a-d]$/.test(char) ? char.toUpperCase() : char;
    if (key === 'w' ? options.allowPauses === true : DIGIT.test(key)) {
      keys.push(key as DtmfSendKey);
      continue;
    }
    const allowed = options.allowPauses === true ? '0-9, *, #, A-D, or w for a pause' : '0-9, *, # or A-D';
    throw new RangeError(`invalid DTMF key ${JSON.stringify(char)} in ${JSON.stringify(digits.slice(0, 80))}: use ${allowed}`);
  }
  if (keys.length === 0) throw new RangeError('no DTMF keys given');
  if (keys.length > MAX_DTMF_SEQUENCE) throw new RangeError(`too many DTMF keys (${keys.length}); at most ${MAX_DTMF_SEQUENCE}`);
  return keys;
}

/** RFC 4733 §3.2 event codes of the keypad: 0-9 are themselves, * is 10, # is 11, A-D are 12-15. */
export function dtmfEventCode(digit: DtmfDigit): number {
  if (digit === '*') return 10;
  if (digit === '#') return 11;
  if (digit >= 'A' && digit <= 'D') return 12 + digit.charCodeAt(0) - 65;
  return digit.charCodeAt(0) - 48;
}

/** The key of an RFC 4733 event code, or undefined for codes that are not keypad keys (16 and up: flash, tones). */
export function dtmfDigitOfCode(code: number): DtmfDigit | undefined {
  if (!Number.isInteger(code) || code < 0 || code > 15) return undefined;
  return '0123456789*#ABCD'[code] as DtmfDigit;
}
