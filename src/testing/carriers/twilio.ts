// A faithful fake of Twilio for testing agents offline (docs/carriers.md, "Twilio Media Streams"): it places a
// call the way Twilio does (a signed POST to the answer webhook, the TwiML's <Connect><Stream> opened as a signed
// WebSocket, `connected` then `start`), sends the caller's audio as Twilio does (a `media` event every 20 ms,
// silence when the caller says nothing), plays what the agent sends in real time, echoes each mark once the audio
// before it has played (plus a network delay), empties its buffer at `clear` (echoing the pending marks), sends
// keys as `dtmf` events, and serves the REST call update (hang up, <Dial> transfer). What our side sends is
// checked: a message that is not JSON, an unknown event, a bad payload or a foreign streamSid is recorded and the
// socket closed with 1008 (Twilio reports error 31951; whether it closes is not documented, see docs/carriers.md).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { twilioSignature } from '../../transports/twilio/signature.js';
import { FakeTwilioCall } from './twilio-call.js';
import { serveTwilioRest, unescapeXml } from './twilio-rest.js';

export { FakeTwilioCall, type FakeTwilioCallEndReason } from './twilio-call.js';

export interface FakeTwilioOptions {
  /** Default a random AC... SID. */
  accountSid?: string;
  /** Default a random token. */
  authToken?: string;
  /**
   * One-way network delay between the agent and Twilio: what the agent sends reaches Twilio's buffer this much
   * later, and a mark's echo reaches the agent this much after its audio played. Default 40 ms.
   */
  networkDelayMs?: number;
}

/** A REST request the fake received. */
export interface FakeTwilioRestRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
}

export interface PlaceTwilioCallOptions {
  /** The agent's answer webhook (the number's Voice URL). */
  answerUrl: string;
  from?: string;
  to?: string;
  /** Sign the webhook and the stream request. Default true (false: to test that unsigned requests are refused). */
  sign?: boolean;
  /**
   * Answering Machine Detection's verdict (`human`, `machine_start`, `machine_end_beep`, ...): the webhook then
   * carries `AnsweredBy`, as Twilio's does for an outbound call created with `MachineDetection`.
   */
  answeredBy?: string;
}

export interface FakeTwilio {
  readonly accountSid: string;
  readonly authToken: string;
  /** The REST API's base URL (give it as `apiBaseUrl`). */
  readonly apiBaseUrl: string;
  readonly calls: readonly FakeTwilioCall[];
  readonly restRequests: readonly FakeTwilioRestRequest[];
  /** Places an inbound call at the agent's answer webhook and opens the stream its TwiML names. */
  placeCall(options: PlaceTwilioCallOptions): Promise<FakeTwilioCall>;
  close(): Promise<void>;
}

/** Starts the fake Twilio (REST API on 127.0.0.1, an ephemeral port). */
export async function startFakeTwilio(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${randomUUID().replace(/-/g, '')}`;
  const authToken = options.authToken ?? randomUUID().replace(/-/g, '');
  const networkDelayMs = options.networkDelayMs ?? 40;
  const calls: FakeTwilioCall[] = [];
  const restRequests: FakeTwilioRestRequest[] = [];
  const server: Server = createServer((request, response) => {
    void serveTwilioRest(request, response, { accountSid, authToken, calls, restRequests });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    accountSid,
    authToken,
    apiBaseUrl,
    calls,
    restRequests,
    async placeCall(place) {
      const call = new FakeTwilioCall(place.from ?? '+15550100001', place.to ?? '+15550100002', accountSid, networkDelayMs);
      calls.push(call);
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        CallSid: call.callSid,
        CallStatus: 'ringing',
        Direction: place.answeredBy === undefined ? 'inbound' : 'outbound-api',
        From: call.from,
        To: call.to,
        ...(place.answeredBy === undefined ? {} : { AnsweredBy: place.answeredBy }),
      };
      const sign = place.sign !== false;
      const response = await fetch(place.answerUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(sign ? { 'x-twilio-signature': twilioSignature(authToken, place.answerUrl, params) } : {}),
        },
        body: new URLSearchParams(params).toString(),
      });
      const twiml = await response.text();
      if (!response.ok) throw new Error(`the answer webhook answered HTTP ${response.status}`);
      const stream = /<Connect>\s*<Stream\b[^>]*\burl="([^"]+)"[^>]*>([\s\S]*?)<\/Stream>/.exec(twiml);
      if (stream === null) throw new Error(`the TwiML has no <Connect><Stream url>: ${twiml.slice(0, 200)}`);
      const url = unescapeXml(stream[1]!);
      if (url.includes('?')) throw new Error('a <Stream> url with a query string (Twilio passes none: use <Parameter>)');
      const parameters: Record<string, string> = {};
      for (const match of stream[2]!.matchAll(/<Parameter\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)) {
        parameters[unescapeXml(match[1]!)] = unescapeXml(match[2]!);
      }
      await call.open(url, parameters, sign ? twilioSignature(authToken, url) : undefined);
      return call;
    },
    async close() {
      for (const call of calls) call.end('hangup');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
