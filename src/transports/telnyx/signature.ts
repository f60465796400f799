// Telnyx's webhook signature (docs/carriers.md): Ed25519 over `${telnyx-timestamp}|${raw body}`, base64 in the
// `telnyx-signature-ed25519` header, checked with the account's public key (base64, from the portal). A timestamp
// more than 5 minutes from now is refused (a replayed webhook).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const TOLERANCE_SECS = 300;

/** The key object of a base64 Ed25519 public key (32 raw bytes, as Telnyx's portal shows it). */
export function telnyxPublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) throw new TypeError('Telnyx: the public key must be 32 bytes of base64 (Ed25519)');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Whether a webhook's body and headers are Telnyx's, signed less than 5 minutes from `nowSecs`. */
export function isValidTelnyxSignature(
  publicKey: KeyObject,
  signature: string | undefined,
  timestamp: string | undefined,
  body: string,
  nowSecs = Date.now() / 1000,
): boolean {
  if (signature === undefined || timestamp === undefined || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSecs - Number(timestamp)) > TOLERANCE_SECS) return false;
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64) return false;
  return verify(null, Buffer.from(`${timestamp}|${body}`, 'utf8'), publicKey, bytes);
}
