// Voicemail detection on carriers' streams, in real time over the fakes: Twilio's own AMD verdict (AnsweredBy on
// the answer webhook of an outbound call) reaches the VoiceAgent through TwilioServer; on Plivo, which has none on
// the stream, our detection hears a greeting and a beep and leaves the message after it, then hangs up through
// the REST API.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { startFakePlivo } from '../../src/testing/carriers/plivo.js';
import { startFakeTwilio } from '../../src/testing/carriers/twilio.js';
import { EnergyVAD } from '../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { concatAudio, silence, synthesizeSpeech } from '../../src/testing/speech.js';
import { PlivoServer } from '../../src/transports/plivo/plivo-server.js';
import { TwilioServer } from '../../src/transports/twilio/twilio-server.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import type { VoicemailDetectionOptions, VoicemailEvent } from '../../src/voicemail/index.js';
import { useClosers, within } from '../transports/carrier-kit.js';

const closeAfter = useClosers();
const MESSAGE = 'Hi, this is Acme. Your order is ready.';

async function voicemailAgent(detection: VoicemailDetectionOptions, events: VoicemailEvent[]): Promise<VoiceAgent> {
  const voice = new VoiceAgent({ instructions: 'Be brief.', greeting: 'Hello!', logger: silentLogger, idleTimeoutSecs: 0, voicemailDetection: detection });
  voice.events.on('voicemail', (event) => events.push(event));
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: [] }),
    llm: new ScriptedLLMService({ rules: [{ match: /.*/, reply: 'Sure.' }] }),
    tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 20 }),
    vad: new EnergyVAD({ sampleRate: 8000 }),
  });
  return voice;
}

describe('voicemail detection through the carriers', () => {
  it("Twilio: AnsweredBy=machine_end_beep decides at once; the message is played whole, then the call is hung up", async () => {
    const twilio = await startFakeTwilio();
    closeAfter(() => twilio.close());
    const events: VoicemailEvent[] = [];
    const server = new TwilioServer({
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      apiBaseUrl: twilio.apiBaseUrl,
      logger: silentLogger,
      onCall: async (call) => {
        const voice = await voicemailAgent({ onMachine: { leaveMessage: MESSAGE }, hangUp: () => call.hangUp() }, events);
        await voice.start();
      },
    });
    closeAfter(() => server.close());
    const call = await twilio.placeCall({ answerUrl: `${await server.listen()}/twilio/voice`, answeredBy: 'machine_end_beep' });
    expect(await within(call.ended, 10_000)).toBe('hangup');
    expect(events).toEqual([expect.objectContaining({ reason: 'carrier', detail: 'machine_end_beep', action: 'leave-message', decidedAtMs: 0 })]);
    expect(twilio.restRequests.map((r) => r.params.Status)).toEqual(['completed']);
    // The message (38 characters at 20 ms) reached the caller before the hang-up.
    expect(call.agentSpeechMs()).toBeGreaterThan(600);
  }, 20_000);

  it('Plivo: our detection hears the greeting and the beep, leaves the message after the beep, then hangs up', async () => {
    const plivo = await startFakePlivo();
    closeAfter(() => plivo.close());
    const events: VoicemailEvent[] = [];
    const server = new PlivoServer({
      authId: plivo.authId,
      authToken: plivo.authToken,
      apiBaseUrl: plivo.apiBaseUrl,
      logger: silentLogger,
      onCall: async (call) => {
        const voice = await voicemailAgent({ onMachine: { leaveMessage: MESSAGE }, hangUp: () => call.hangUp() }, events);
        await voice.start();
      },
    });
    closeAfter(() => server.close());
    const greeting = await synthesizeSpeech('Hi, you have reached Sarah. Please leave a message after the tone.', { sampleRate: 8000 });
    const beep = new Int16Array(8000 * 0.4).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    const call = await plivo.placeCall({ answerUrl: `${await server.listen()}/plivo/answer` });
    const saidAt = performance.now();
    await call.say(concatAudio(silence(300, 8000), greeting, silence(500, 8000), beep));
    const beepEndedAt = performance.now();
    expect(call.agentSpeechMs()).toBe(0); // nothing said over the greeting
    await call.say(silence(2000, 8000));
    expect(await within(call.ended, 10_000)).toBe('hangup');
    expect(events).toEqual([expect.objectContaining({ answeredBy: 'machine', action: 'leave-message' })]);
    expect(events[0]!.decidedAtMs).toBeLessThan((beepEndedAt - saidAt) + 200);
    expect(plivo.restRequests.map((r) => r.method)).toEqual(['DELETE']);
    expect(call.agentSpeechMs()).toBeGreaterThan(600);
  }, 30_000);
});
