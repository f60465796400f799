// Plivo's request signature V3 (docs/carriers.md): base64 HMAC-SHA256, keyed with the auth token, over the URL
// Plivo requested (its query sorted), then for a POST each form parameter's name and value (names sorted), then
// "." and the request's nonce (the X-Plivo-Signature-V3-Nonce header). The header may hold several signatures,
// comma-separated (one per auth token of the account): any one matching is enough.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The string Plivo signs for a POST to `url` with form `params`, before the nonce. */
function signedPostString(url: string, params: Readonly<Record<string, string>>): string {
  const parsed = new URL(url);
  const query = [...parsed.searchParams].map(([k, v]) => `${k}=${v}`).sort();
  const names = Object.keys(params).sort();
  let base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  if (query.length > 0 || names.length > 0) base += `?${query.join('&')}`;
  if (query.length > 0 && names.length > 0) base += '.';
  for (const name of names) base += name + params[name];
  return base;
}

/** The `X-Plivo-Signature-V3` Plivo sends for a POST to `url` with `params` and `nonce`. */
export function plivoSignatureV3(authToken: string, url: string, nonce: string, params: Readonly<Record<string, string>> = {}): string {
  return createHmac('sha256', authToken).update(`${signedPostString(url, params)}.${nonce}`, 'utf8').digest('base64');
}

/** Whether `signature` (the header, maybe a comma-separated list) is Plivo's for this POST. */
export function isValidPlivoSignatureV3(
  authToken: string,
  signature: string | undefined,
  nonce: string | undefined,
  url: string,
  params: Readonly<Record<string, string>> = {},
): boolean {
  if (signature === undefined || signature === '' || nonce === undefined || nonce === '') return false;
  const expected = Buffer.from(plivoSignatureV3(authToken, url, nonce, params));
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
