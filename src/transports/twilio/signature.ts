// Twilio's request signature (docs/carriers.md): base64 HMAC-SHA1, keyed with the account's auth token, over the
// full URL Twilio requested followed by each form parameter's name and value, names sorted.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `X-Twilio-Signature` Twilio sends for a request to `url` with form `params` (none for a WebSocket). */
export function twilioSignature(authToken: string, url: string, params: Readonly<Record<string, string>> = {}): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Whether `signature` is Twilio's for this request (compared in constant time). */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Readonly<Record<string, string>> = {},
): boolean {
  if (signature === undefined || signature === '') return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
