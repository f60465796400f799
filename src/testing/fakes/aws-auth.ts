// How the AWS fakes check SigV4 as AWS does: the signature recomputed with the secret of the access key id, from
// the `Authorization` header (Bedrock) or the presigned query (`X-Amz-Signature`: Transcribe's WebSocket URL), the
// scope's date, region and service, the request time within 5 minutes (or the presigned URL within its
// `X-Amz-Expires`), and a session token the fake was told is expired. The refusals carry AWS's error types.
import { createHash } from 'node:crypto';
import { canonicalRequest, signature } from '../../services/aws/sigv4.js';
import { isAcceptedKey, type FakeKeyPolicy } from './auth.js';

export interface FakeAwsAuthPolicy extends FakeKeyPolicy {
  /** The secret every accepted access key id signs with. */
  secretAccessKey: string;
  /** The signing name the scope must end with (`bedrock`, `transcribe`). */
  service: string;
  /** A session token refused as expired (403 `ExpiredTokenException`), as AWS refuses one past its expiry. */
  expiredSessionToken?: string;
}

export interface AwsAuthRefusal {
  readonly status: 403;
  readonly type: string;
  readonly message: string;
}

const MAX_SKEW_MS = 5 * 60_000;
const CREDENTIAL = /^([^/]+)\/(\d{8}\/[^/]+\/[^/]+\/aws4_request)$/;

const refusal = (type: string, message: string): AwsAuthRefusal => ({ status: 403, type, message });
const parseAmzDate = (date: string): number => Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

function checkScope(policy: FakeAwsAuthPolicy, keyId: string, scope: string, date: string, token: string | undefined): AwsAuthRefusal | undefined {
  if (!isAcceptedKey(keyId, policy)) return refusal('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (token !== undefined && token === policy.expiredSessionToken) return refusal('ExpiredTokenException', 'The security token included in the request is expired');
  if (!scope.startsWith(date.slice(0, 8)) || !scope.endsWith(`/${policy.service}/aws4_request`)) {
    return refusal('InvalidSignatureException', `Credential should be scoped to a valid date, region and the ${policy.service} service: ${scope}`);
  }
  return undefined;
}

/** A request signed in its `Authorization` header; the path is signed as sent, encoded once more. */
export function verifyAwsHeaderSignature(
  policy: FakeAwsAuthPolicy,
  request: { method: string; url: URL; headers: Readonly<Record<string, string | string[] | undefined>>; body: Buffer },
): AwsAuthRefusal | undefined {
  const header = String(request.headers.authorization ?? '');
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(header);
  if (parsed === null) return refusal('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [, credential = '', signedNames = '', sent = ''] = parsed;
  const [, keyId = '', scope = ''] = CREDENTIAL.exec(credential) ?? [];
  const date = String(request.headers['x-amz-date'] ?? '');
  const token = request.headers['x-amz-security-token'];
  const scopeRefusal = checkScope(policy, keyId, scope, date, typeof token === 'string' ? token : undefined);
  if (scopeRefusal !== undefined) return scopeRefusal;
  const when = parseAmzDate(date);
  if (Number.isNaN(when) || Math.abs(when - Date.now()) > MAX_SKEW_MS) return refusal('InvalidSignatureException', `Signature expired: ${date} is not within 5 minutes of the server time.`);
  const names = signedNames.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return refusal('InvalidSignatureException', "'Host' or 'x-amz-date' must be a signed header.");
  if (typeof token === 'string' && !names.includes('x-amz-security-token')) return refusal('InvalidSignatureException', "'x-amz-security-token' must be a signed header.");
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = String(request.headers[name] ?? '');
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  const { text } = canonicalRequest({ method: request.method, url: request.url, headers, payloadHash, doubleEncodePath: true });
  if (signature(policy.secretAccessKey, date, scope, text) !== sent) {
    return refusal('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return undefined;
}

/** A presigned URL (query signing): the signature covers the query without `X-Amz-Signature`, and `host`. */
export function verifyAwsPresignedUrl(policy: FakeAwsAuthPolicy, request: { method: string; url: URL; host: string }): AwsAuthRefusal | undefined {
  const query = request.url.searchParams;
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !query.has('X-Amz-Signature')) return refusal('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [, keyId = '', scope = ''] = CREDENTIAL.exec(query.get('X-Amz-Credential') ?? '') ?? [];
  const date = query.get('X-Amz-Date') ?? '';
  const scopeRefusal = checkScope(policy, keyId, scope, date, query.get('X-Amz-Security-Token') ?? undefined);
  if (scopeRefusal !== undefined) return scopeRefusal;
  const when = parseAmzDate(date);
  const expiresSecs = Number(query.get('X-Amz-Expires') ?? 'NaN');
  if (!Number.isInteger(expiresSecs) || expiresSecs < 1 || expiresSecs > 300) return refusal('InvalidSignatureException', 'X-Amz-Expires must be between 1 and 300 seconds.');
  if (Number.isNaN(when) || Date.now() > when + expiresSecs * 1000 || when - Date.now() > MAX_SKEW_MS) return refusal('InvalidSignatureException', 'Signature expired.');
  if (query.get('X-Amz-SignedHeaders') !== 'host') return refusal('InvalidSignatureException', 'Only host may be signed in a presigned URL.');
  const unsigned = new URL(request.url);
  unsigned.searchParams.delete('X-Amz-Signature');
  const { text } = canonicalRequest({ method: request.method, url: unsigned, headers: { host: request.host }, payloadHash: createHash('sha256').update('').digest('hex') });
  if (signature(policy.secretAccessKey, date, scope, text) !== query.get('X-Amz-Signature')) {
    return refusal('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return undefined;
}
