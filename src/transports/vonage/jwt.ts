// The JSON Web Tokens Vonage uses both ways (docs/carriers.md, "Vonage"): it signs its webhooks with HS256 (the
// account's signature secret) in `Authorization: Bearer`, with a `payload_hash` of the body; our REST requests
// carry an RS256 token signed with the application's private key.
import { createHash, createHmac, randomUUID, sign, timingSafeEqual, type KeyLike } from 'node:crypto';

const TOLERANCE_SECS = 300;

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** An RS256 token for Vonage's REST API: `application_id`, issued now, valid 5 minutes. */
export function vonageApplicationJwt(applicationId: string, privateKey: KeyLike, nowSecs = Math.floor(Date.now() / 1000)): string {
  const head = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify({ application_id: applicationId, iat: nowSecs, exp: nowSecs + 300, jti: randomUUID() }))}`;
  return `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
}

/** An HS256 token as Vonage signs a webhook with `body` (for fakes and tests). */
export function vonageWebhookJwt(signatureSecret: string, body: string, claims: Record<string, unknown> = {}, nowSecs = Math.floor(Date.now() / 1000)): string {
  const payload = { iat: nowSecs, jti: randomUUID(), iss: 'Vonage', ...(body === '' ? {} : { payload_hash: createHash('sha256').update(body).digest('hex') }), ...claims };
  const head = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  return `${head}.${createHmac('sha256', signatureSecret).update(head).digest('base64url')}`;
}

/**
 * Whether `authorization` ("Bearer <jwt>") is Vonage's signature of a webhook with `body`: HS256 with the
 * signature secret, issued within 5 minutes of now, and (when there is a body) its `payload_hash` matching it.
 */
export function isValidVonageWebhook(signatureSecret: string, authorization: string | undefined, body: string, nowSecs = Date.now() / 1000): boolean {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  const parts = token?.split('.');
  if (parts?.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  let claims: { iat?: unknown; payload_hash?: unknown };
  try {
    if ((JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg !== 'HS256') return false;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return false;
  }
  const expected = Buffer.from(createHmac('sha256', signatureSecret).update(`${header}.${payload}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  if (typeof claims.iat !== 'number' || Math.abs(nowSecs - claims.iat) > TOLERANCE_SECS) return false;
  if (body !== '' && claims.payload_hash !== createHash('sha256').update(body).digest('hex')) return false;
  return true;
}
