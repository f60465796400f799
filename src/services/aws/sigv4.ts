// AWS Signature Version 4, written once for every AWS client here (Polly today): the canonical request, the string
// to sign and the HMAC chain as AWS's "Create a signed AWS API request" describes them, checked against AWS's
// published test suite (test/services/aws/sigv4.test.ts). No AWS SDK: the signature is ~60 lines, the SDK's
// signer and its credential chain several packages.
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** For temporary credentials (STS, an assumed role): sent and signed as `x-amz-security-token`. */
  readonly sessionToken?: string;
}

export interface AwsRequestToSign {
  readonly method: string;
  readonly url: string;
  /** Headers to send and sign (host and x-amz-date are added). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentials;
  /** The signing time (AWS refuses one more than 5 minutes off its own). Default: now. */
  readonly now?: Date;
  /**
   * Signs the path as sent (percent-encoded) encoded once more, as AWS wants for every service but S3: a Bedrock
   * model id's `:` is `%3A` in the URL and `%253A` in the canonical request. Off by default, because AWS's test
   * suite writes its paths unencoded; it makes a difference only for a path holding a percent-escape.
   */
  readonly doubleEncodePath?: boolean;
}

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 percent-encoding: everything but unreserved characters, as SigV4 wants it. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The canonical request, and the signed header names, of a request. */
export function canonicalRequest(request: {
  method: string;
  url: URL;
  headers: Readonly<Record<string, string>>;
  payloadHash: string;
  doubleEncodePath?: boolean;
}): { text: string; signedHeaders: string } {
  const path = request.url.pathname
    .split('/')
    .map((segment) => (request.doubleEncodePath === true ? encodeRfc3986(segment) : encodeRfc3986(decodeURIComponent(segment))))
    .join('/');
  const query = [...request.url.searchParams]
    .map(([key, value]) => [encodeRfc3986(key), encodeRfc3986(value)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const headers = Object.entries(request.headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = headers.map(([name]) => name).join(';');
  const text = [request.method, path || '/', query, ...headers.map(([name, value]) => `${name}:${value}`), '', signedHeaders, request.payloadHash].join('\n');
  return { text, signedHeaders };
}

/** The signature of `canonical` (hex), with the key derived for the day, region and service. */
export function signature(secretAccessKey: string, date: string, scope: string, canonical: string): string {
  const [day = '', region = '', service = ''] = scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonical)].join('\n');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** The headers to send: the request's own, `host`, `x-amz-date`, the session token if any, and `authorization`. */
export function signAwsRequest(request: AwsRequestToSign): Record<string, string> {
  const url = new URL(request.url);
  const date = amzDate(request.now ?? new Date());
  const headers: Record<string, string> = { ...request.headers, host: url.host, 'x-amz-date': date };
  if (request.credentials.sessionToken !== undefined) headers['x-amz-security-token'] = request.credentials.sessionToken;
  const { text, signedHeaders } = canonicalRequest({
    method: request.method,
    url,
    headers,
    payloadHash: sha256Hex(request.body ?? ''),
    ...(request.doubleEncodePath === undefined ? {} : { doubleEncodePath: request.doubleEncodePath }),
  });
  const scope = `${date.slice(0, 8)}/${request.region}/${request.service}/aws4_request`;
  const sig = signature(request.credentials.secretAccessKey, date, scope, text);
  // `host` is set by fetch from the URL; sending it ourselves is refused by undici.
  delete headers.host;
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${sig}` };
}

export interface AwsUrlToPresign {
  /** The address with its own query (Transcribe's `language-code`, ...); the X-Amz-* parameters are added. */
  readonly url: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentials;
  /** How long the URL may be used; AWS takes at most 300 s for Transcribe's WebSocket. */
  readonly expiresSecs: number;
  readonly method?: string;
  readonly now?: Date;
}

/**
 * A presigned URL (query-string signing): the X-Amz-* parameters, the session token among them, are signed with the
 * rest of the query and `host`, over an empty payload, and the signature is added last.
 */
export function presignAwsUrl(request: AwsUrlToPresign): string {
  const url = new URL(request.url);
  const date = amzDate(request.now ?? new Date());
  const scope = `${date.slice(0, 8)}/${request.region}/${request.service}/aws4_request`;
  url.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  url.searchParams.set('X-Amz-Credential', `${request.credentials.accessKeyId}/${scope}`);
  url.searchParams.set('X-Amz-Date', date);
  url.searchParams.set('X-Amz-Expires', String(request.expiresSecs));
  url.searchParams.set('X-Amz-SignedHeaders', 'host');
  if (request.credentials.sessionToken !== undefined) url.searchParams.set('X-Amz-Security-Token', request.credentials.sessionToken);
  const { text } = canonicalRequest({ method: request.method ?? 'GET', url, headers: { host: url.host }, payloadHash: sha256Hex('') });
  url.searchParams.set('X-Amz-Signature', signature(request.credentials.secretAccessKey, date, scope, text));
  return url.toString();
}
