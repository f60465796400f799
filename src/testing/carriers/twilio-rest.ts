// The fake Twilio's REST API: the call resource's update (hang up with Status=completed, a <Dial> TwiML transfer),
// with Twilio's Basic auth and its JSON errors (docs/carriers.md, "REST").
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeTwilioCall } from './twilio-call.js';
import type { FakeTwilioRestRequest } from './twilio.js';

/** Serves one REST request. */
export async function serveTwilioRest(
  request: IncomingMessage,
  response: ServerResponse,
  state: { accountSid: string; authToken: string; calls: FakeTwilioCall[]; restRequests: FakeTwilioRestRequest[] },
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const reply = (status: number, body: Record<string, unknown>): void => {
    state.restRequests.push({ method: request.method ?? '', path, params, status });
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const expected = `Basic ${Buffer.from(`${state.accountSid}:${state.authToken}`).toString('base64')}`;
  if (request.headers.authorization !== expected) {
    reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    return;
  }
  const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/.exec(path);
  const call = route !== null && route[1] === state.accountSid ? state.calls.find((c) => c.callSid === route[2]) : undefined;
  if (request.method !== 'POST' || call === undefined) {
    reply(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    return;
  }
  if (call.isEnded) {
    reply(400, { code: 21220, message: 'Call is not in-progress. Cannot redirect.', status: 400 });
    return;
  }
  if (params.Status === 'completed') {
    reply(200, { sid: call.callSid, status: 'completed' });
    call.end('hangup');
    return;
  }
  if (params.Twiml !== undefined) {
    const dial = /<Dial\b[^>]*>\s*<(?:Number|Sip)>([^<]+)<\/(?:Number|Sip)>\s*<\/Dial>|<Dial\b[^>]*>([^<]+)<\/Dial>/.exec(params.Twiml);
    if (dial === null) {
      reply(400, { code: 12100, message: 'Document parse failure (the fake understands <Dial> only)', status: 400 });
      return;
    }
    reply(200, { sid: call.callSid, status: 'in-progress' });
    call.end('transferred', unescapeXml((dial[1] ?? dial[2]!).trim()));
    return;
  }
  reply(400, { code: 20001, message: 'Missing Status, Url or Twiml', status: 400 });
}

export function unescapeXml(text: string): string {
  return text.replace(/&(#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#')) return String.fromCharCode(Number(entity.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[entity]!;
  });
}
