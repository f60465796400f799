// `piopiy-ai start --transport <carrier>`'s wiring: each carrier's server built from the environment the fakes
// give, a call placed through each fake reaching the agent file's onCall, the file's export found (or a clear error),
// and the variables a carrier needs named when missing. Real sockets, one short call per carrier.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { START_TRANSPORTS, carrierServerFromEnv, onCallOf, startCarrier, type CarrierServer, type StartTransport } from '../../src/cli/start-carrier.js';
import { silentLogger } from '../../src/logging/index.js';
import { startFakeExotel } from '../../src/testing/carriers/exotel.js';
import { startFakePlivo } from '../../src/testing/carriers/plivo.js';
import { startFakeTelnyx } from '../../src/testing/carriers/telnyx.js';
import { startFakeTwilio } from '../../src/testing/carriers/twilio.js';
import { startFakeVonage } from '../../src/testing/carriers/vonage.js';
import type { MediaStreamSessionBase } from '../../src/transports/media-stream/stream-sessions.js';
import { useClosers, within } from '../transports/carrier-kit.js';

const closeAfter = useClosers();

/** A fake of `transport`, the environment `start` would be given for it, and a call placer. */
async function fakeFor(transport: StartTransport): Promise<{ env: NodeJS.ProcessEnv; place: (origin: string, server: CarrierServer) => Promise<unknown> }> {
  switch (transport) {
    case 'twilio': {
      const fake = await startFakeTwilio();
      closeAfter(() => fake.close());
      return { env: { TWILIO_ACCOUNT_SID: fake.accountSid, TWILIO_AUTH_TOKEN: fake.authToken, TWILIO_API_BASE_URL: fake.apiBaseUrl }, place: (o) => fake.placeCall({ answerUrl: `${o}/twilio/voice` }) };
    }
    case 'exotel': {
      const fake = await startFakeExotel();
      closeAfter(() => fake.close());
      return { env: { EXOTEL_STREAM_USER: 'bot', EXOTEL_STREAM_PASSWORD: 'pw' }, place: (o, s) => fake.placeCall({ streamUrl: (s as unknown as { streamUrl(o: string): string }).streamUrl(o) }) };
    }
    case 'plivo': {
      const fake = await startFakePlivo();
      closeAfter(() => fake.close());
      return { env: { PLIVO_AUTH_ID: fake.authId, PLIVO_AUTH_TOKEN: fake.authToken, PLIVO_API_BASE_URL: fake.apiBaseUrl }, place: (o) => fake.placeCall({ answerUrl: `${o}/plivo/answer` }) };
    }
    case 'telnyx': {
      const fake = await startFakeTelnyx();
      closeAfter(() => fake.close());
      return { env: { TELNYX_API_KEY: fake.apiKey, TELNYX_PUBLIC_KEY: fake.publicKey, TELNYX_API_BASE_URL: fake.apiBaseUrl }, place: (o) => fake.placeCall({ webhookUrl: `${o}/telnyx/webhook` }) };
    }
    case 'vonage': {
      const fake = await startFakeVonage();
      closeAfter(() => fake.close());
      return {
        env: { VONAGE_APPLICATION_ID: fake.applicationId, VONAGE_PRIVATE_KEY: fake.privateKey, VONAGE_SIGNATURE_SECRET: fake.signatureSecret, VONAGE_API_BASE_URL: fake.apiBaseUrl },
        place: (o) => fake.placeCall({ answerUrl: `${o}/vonage/answer` }),
      };
    }
  }
}

describe('piopiy-ai start --transport', () => {
  it.each(START_TRANSPORTS)('%s: the server built from the environment takes a call to onCall', async (transport) => {
    const { env, place } = await fakeFor(transport);
    const calls: MediaStreamSessionBase[] = [];
    let called!: () => void;
    const reached = new Promise<void>((resolve) => (called = resolve));
    const server = carrierServerFromEnv(transport, (call) => {
      calls.push(call);
      called();
    }, env, silentLogger);
    closeAfter(() => server.close());
    const origin = await server.listen();
    expect(server.setup(origin)).toContain(origin.replace('http://', ''));
    await place(origin, server);
    expect(await within(reached, 5000)).toBeUndefined();
    expect(calls[0]!.callId).not.toBe('');
  });

  it('names the variables a carrier needs, and the export an agent file lacks', () => {
    expect(() => carrierServerFromEnv('plivo', () => undefined, { PLIVO_AUTH_ID: 'MA123' })).toThrow(/PLIVO_AUTH_TOKEN/);
    expect(() => carrierServerFromEnv('vonage', () => undefined, {})).toThrow(/VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY, VONAGE_SIGNATURE_SECRET/);
    expect(() => onCallOf({ agent: {} }, 'agent.ts')).toThrow(/exports no onCall/);
    const named = (): void => undefined;
    expect(onCallOf({ onCall: named }, 'a.ts')).toBe(named);
    expect(onCallOf({ default: named }, 'a.ts')).toBe(named);
  });

  it('serves an agent file’s onCall on the port', async () => {
    const fake = await startFakeTwilio();
    closeAfter(() => fake.close());
    const dir = mkdtempSync(join(tmpdir(), 'start-carrier-'));
    const file = join(dir, 'agent.mjs');
    writeFileSync(file, 'export const seen = []; export async function onCall(call) { seen.push(call.callId); }\n');
    const env = { TWILIO_ACCOUNT_SID: fake.accountSid, TWILIO_AUTH_TOKEN: fake.authToken, TWILIO_API_BASE_URL: fake.apiBaseUrl };
    const { server, origin } = await startCarrier(file, 'agent.mjs', { transport: 'twilio', port: 0, host: '127.0.0.1', env });
    closeAfter(() => server.close());
    const call = await fake.placeCall({ answerUrl: `${origin}/twilio/voice` });
    // onCall returned at once: the server closes the stream, which ends the fake's call.
    expect(await within(call.ended, 5000)).toBe('stream-closed');
    const module = (await import(file)) as { seen: string[] };
    expect(module.seen).toEqual([call.callSid]);
  });
});
