// The carriers `piopiy-ai demo --carrier` can place its call through: for each, the fake carrier (piopiy-ai/testing)
// and the agent's server for it, wired together. One table row per carrier; the demo itself is carrier-blind.
import { silentLogger } from '../logging/index.js';
import { startFakeExotel } from '../testing/carriers/exotel.js';
import type { FakeStreamCall } from '../testing/carriers/fake-stream-call.js';
import { startFakePlivo } from '../testing/carriers/plivo.js';
import { startFakeTelnyx } from '../testing/carriers/telnyx.js';
import { startFakeTwilio } from '../testing/carriers/twilio.js';
import { startFakeVonage } from '../testing/carriers/vonage.js';
import type { SpeechSampleRate } from '../testing/speech.js';
import { ExotelServer } from '../transports/exotel/exotel-server.js';
import type { MediaStreamSessionBase } from '../transports/media-stream/stream-sessions.js';
import { PlivoServer } from '../transports/plivo/plivo-server.js';
import { TelnyxServer } from '../transports/telnyx/telnyx-server.js';
import { TwilioServer } from '../transports/twilio/twilio-server.js';
import { VonageServer } from '../transports/vonage/vonage-server.js';
import type { DemoCarrier } from './command-choices.js';
export { DEMO_CARRIERS, type DemoCarrier } from './command-choices.js';

export const SUPPORT_NUMBER = '+15550199999';

/** A call on the carrier's server, with the one thing the demo needs of it: handing the caller to a human. */
export type DemoCall = MediaStreamSessionBase & { transferToHuman(): Promise<void> };

/** A REST request (or Call Control command) the fake carrier received, in one shape for every carrier. */
export interface DemoRestRequest {
  method: string;
  path: string;
  params: Record<string, string>;
}

/** The fake carrier and the agent's server for it, wired together. */
export interface CarrierHarness {
  /** The rate of the stream's audio (the caller's line is synthesised at it). */
  sampleRate: SpeechSampleRate;
  /** What the fake does to place the call, for the progress line. */
  describe: string;
  /** Starts the agent's server. */
  listen(): Promise<void>;
  placeCall(): Promise<{ call: FakeStreamCall; callId: string }>;
  restRequests(): DemoRestRequest[];
  close(): Promise<void>;
}

type StartHarness = (onCall: (call: DemoCall) => Promise<void>) => Promise<CarrierHarness>;

/** Request bodies as flat strings (JSON values stringified), so every carrier's requests print alike. */
function flatParams(body: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** A harness whose server serves `listen()`/`close()` and whose fake closes after it. */
function harness(
  server: { listen(): Promise<string>; close(): Promise<void> },
  fake: { close(): Promise<void> },
  parts: Omit<CarrierHarness, 'listen' | 'close' | 'placeCall'> & { placeCall(origin: string): Promise<{ call: FakeStreamCall; callId: string }> },
): CarrierHarness {
  let origin = '';
  return {
    ...parts,
    listen: async () => void (origin = await server.listen()),
    placeCall: () => parts.placeCall(origin),
    close: async () => {
      await server.close();
      await fake.close();
    },
  };
}

export const CARRIER_HARNESSES: Record<DemoCarrier, StartHarness> = {
  twilio: async (onCall) => {
    const twilio = await startFakeTwilio();
    const server = new TwilioServer({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      apiBaseUrl: twilio.apiBaseUrl,
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.transfer(SUPPORT_NUMBER) }),
    });
    return harness(server, twilio, {
      sampleRate: 8000,
      describe: 'Twilio POSTs the signed webhook and opens the stream its TwiML names',
      placeCall: async (origin) => {
        const call = await twilio.placeCall({ answerUrl: `${origin}/twilio/voice`, from: '+15550100001', to: '+15550100002' });
        return { call, callId: call.callSid };
      },
      restRequests: () => twilio.restRequests.map((r) => ({ method: r.method, path: r.path, params: { ...r.params } })),
    });
  },
  exotel: async (onCall) => {
    const exotel = await startFakeExotel();
    const server = new ExotelServer({
      streamAuth: { username: 'demo', password: 'demo-secret' },
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.leaveStream() }),
    });
    return harness(server, exotel, {
      sampleRate: 8000,
      describe: 'the Voicebot applet opens its stream (Basic credentials), a Connect applet to the support line follows',
      placeCall: async (origin) => {
        const streamUrl = server.streamUrl(origin);
        const call = await exotel.placeCall({ streamUrl, from: '+919800000001', to: '+918000000002', next: { connect: SUPPORT_NUMBER } });
        return { call, callId: call.callSid };
      },
      restRequests: () => [], // Exotel: the stream closes and the call flow's next applet transfers
    });
  },
  plivo: async (onCall) => {
    const plivo = await startFakePlivo();
    const server = new PlivoServer({
      authId: plivo.authId,
      authToken: plivo.authToken,
      apiBaseUrl: plivo.apiBaseUrl,
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.transfer(SUPPORT_NUMBER) }),
    });
    return harness(server, plivo, {
      sampleRate: 8000,
      describe: 'Plivo POSTs the V3-signed answer webhook and opens the stream its XML names',
      placeCall: async (origin) => {
        const call = await plivo.placeCall({ answerUrl: `${origin}/plivo/answer`, from: '15550100001', to: '15550100002' });
        return { call, callId: call.callUuid };
      },
      restRequests: () => plivo.restRequests.map((r) => ({ method: r.method, path: r.path, params: flatParams(r.body) })),
    });
  },
  telnyx: async (onCall) => {
    const telnyx = await startFakeTelnyx();
    const server = new TelnyxServer({
      apiKey: telnyx.apiKey,
      publicKey: telnyx.publicKey,
      apiBaseUrl: telnyx.apiBaseUrl,
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.transfer(SUPPORT_NUMBER) }),
    });
    return harness(server, telnyx, {
      sampleRate: 8000,
      describe: 'Telnyx POSTs the Ed25519-signed call.initiated webhook; the agent answers with a stream',
      placeCall: async (origin) => {
        const call = await telnyx.placeCall({ webhookUrl: `${origin}/telnyx/webhook`, from: '+15550100001', to: '+15550100002' });
        return { call, callId: call.callSessionId };
      },
      restRequests: () =>
        telnyx.commands.map((c) => ({ method: 'POST', path: `/v2/calls/${c.callControlId}/actions/${c.action}`, params: flatParams(c.body) })),
    });
  },
  vonage: async (onCall) => {
    const vonage = await startFakeVonage();
    const server = new VonageServer({
      applicationId: vonage.applicationId,
      privateKey: vonage.privateKey,
      signatureSecret: vonage.signatureSecret,
      apiBaseUrl: vonage.apiBaseUrl,
      logger: silentLogger,
      onCall: (call) => onCall({ ...call, transferToHuman: () => call.transfer(SUPPORT_NUMBER) }),
    });
    return harness(server, vonage, {
      sampleRate: 16000,
      describe: 'Vonage GETs the signed answer webhook and connects the websocket its NCCO names (16 kHz linear PCM)',
      placeCall: async (origin) => {
        const call = await vonage.placeCall({ answerUrl: `${origin}/vonage/answer`, from: '15550100001', to: '15550100002' });
        return { call, callId: call.uuid };
      },
      restRequests: () => vonage.restRequests.map((r) => ({ method: r.method, path: r.path, params: flatParams(r.body) })),
    });
  },
};
