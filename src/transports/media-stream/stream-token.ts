// A stream URL our signed answer hands the carrier, signed by us: for carriers that sign their webhooks but not the
// WebSocket request of the stream (Plivo, Telnyx, Vonage; docs/carriers.md), the answer puts the call's fields and
// an HMAC of them (keyed with a secret only our server and the carrier's signed answer know) in the stream URL's
// query, and the stream is accepted only with a valid one. A URL is good for the call it was made for only.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The query of a stream URL carrying `fields`, signed with `secret`. */
export function signedStreamQuery(secret: string, fields: Readonly<Record<string, string>>): URLSearchParams {
  const query = new URLSearchParams(fields);
  query.sort();
  query.set('token', tokenOf(secret, query));
  return query;
}

/** The fields of a stream URL's query when its token is valid; undefined otherwise. */
export function verifiedStreamFields(secret: string, requestUrl: string | undefined): Record<string, string> | undefined {
  const query = new URL(requestUrl ?? '/', 'http://localhost').searchParams;
  const token = query.get('token');
  if (token === null) return undefined;
  query.delete('token');
  query.sort();
  const expected = Buffer.from(tokenOf(secret, query));
  const given = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return Object.fromEntries(query);
}

function tokenOf(secret: string, sortedFields: URLSearchParams): string {
  return createHmac('sha256', `stream-url:${secret}`).update(sortedFields.toString()).digest('base64url');
}
