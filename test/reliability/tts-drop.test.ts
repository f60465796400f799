// A TTS socket dropped in the middle of a sentence, seen from the caller: two calls at once through VoiceAgent on
// the in-memory transport, both speaking through the same (fake) Cartesia server. One call's socket is cut in the
// middle of its reply's first sentence: that caller still hears the whole reply (the rest re-synthesised on a new
// socket from the word that was cut), and the assistant's turn holds every word once. The other call hears its
// reply as if nothing had happened, on its one socket. A third call has a fallback list whose primary cannot come
// back: the backup says the rest.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/index.js';
import type { TTSService } from '../../src/services/base/index.js';
import { CartesiaTTSService } from '../../src/services/cartesia/index.js';
import { FallbackTTSService } from '../../src/services/fallback/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startFakeCartesia, type FakeCartesia } from '../../src/testing/fakes/cartesia.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { waitUntil } from '../support/wait.js';

const KEY = 'sk_car_test_SECRET_0123456789';
const GREETING = 'Hello.';
const HOURS = 'We are open from nine in the morning to five in the evening. On Saturdays we open at ten.';
const ORDER = 'Your order left the warehouse today. It should arrive on Friday.';
const MS_PER_CHARACTER = 15;

let cartesia: FakeCartesia;
beforeEach(async () => {
  cartesia = await startFakeCartesia({ msPerCharacter: MS_PER_CHARACTER, chunkDelayMs: 1 });
});
const calls: Call[] = [];
afterEach(async () => {
  for (const call of calls.splice(0)) {
    call.transport.caller.hangUp();
    await call.done;
  }
  await cartesia.close();
});

interface Call {
  transport: MemoryTransport;
  done: Promise<void>;
  assistantTurns: { text: string; interrupted: boolean }[];
  userTurns: string[];
  errors: string[];
  warnings: string[];
}

function cartesiaTTS(name: string): CartesiaTTSService {
  return new CartesiaTTSService({ apiKey: KEY, baseUrl: cartesia.baseUrl, name });
}

async function startCall(transcript: string, tts: TTSService): Promise<Call> {
  const warnings: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void warnings.push(line) },
  });
  const transport = new MemoryTransport({ callerSampleRate: 16000 });
  const voice = new VoiceAgent({ instructions: 'Answer.', greeting: GREETING, logger });
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: [transcript] }),
    llm: new ScriptedLLMService({
      rules: [
        { match: /hours/i, reply: HOURS },
        { match: /order/i, reply: ORDER },
      ],
    }),
    tts,
    vad: new EnergyVAD({ sampleRate: 16000 }),
    transport,
  });
  const call: Call = { transport, done: voice.start(), assistantTurns: [], userTurns: [], errors: [], warnings };
  voice.events.on('assistant-turn', (text, interrupted) => call.assistantTurns.push({ text, interrupted }));
  voice.events.on('user-turn', (text) => call.userTurns.push(text));
  voice.events.on('error', (frame) => call.errors.push(frame.error.message));
  calls.push(call);
  transport.caller.connect();
  return call;
}

/** Milliseconds of agent audio the caller received that are not silence. */
function heardMs(call: Call): number {
  let samples = 0;
  let rate = 8000;
  for (const chunk of call.transport.caller.received) {
    rate = chunk.sampleRate;
    for (const s of chunk.audio) if (s !== 0) samples++;
  }
  return (samples * 1000) / rate;
}

describe('TTS socket dropped mid-sentence (VoiceAgent calls, fake Cartesia)', () => {
  it('the caller hears the whole reply, every word once in the transcript; the other call is untouched', async () => {
    // Call A's first sentence (59 characters: 885 ms) loses its socket after 10 chunks of 40 ms.
    cartesia.failGeneration({ drop: true, afterChunks: 10, onText: 'We are open' });
    const a = await startCall('What are your hours?', cartesiaTTS('tts-a'));
    const b = await startCall('Where is my order?', cartesiaTTS('tts-b'));
    await waitUntil(() => a.assistantTurns.length === 1 && b.assistantTurns.length === 1, 10_000);

    const hearing = heardMs(a);
    await Promise.all([a.transport.caller.say(speechTone(400)), b.transport.caller.say(speechTone(400))]);
    await waitUntil(() => a.assistantTurns.length === 2 && b.assistantTurns.length === 2, 15_000);

    // What caller A experienced: the whole reply, not interrupted, each word once; and at least its full audio.
    expect(a.userTurns).toEqual(['What are your hours?']);
    expect(a.assistantTurns[1]).toEqual({ text: HOURS, interrupted: false });
    expect(heardMs(a) - hearing).toBeGreaterThan(HOURS.length * MS_PER_CHARACTER * 0.9);
    expect(a.errors).toEqual([]);
    // The cut sentence went on from the word cut, on a second socket.
    const contextsOfA = cartesia.contexts.filter((c) => c.generations.some((g) => g.includes('open')));
    expect(contextsOfA.map((c) => c.outcome)).toEqual(['dropped', 'done']);
    const resumed = contextsOfA[1]!.generations;
    expect(resumed).toHaveLength(2);
    expect(HOURS.split('. ')[0]!.endsWith(resumed[0]!.replace(/\.$/, ''))).toBe(true);
    expect(resumed[0]!.length).toBeLessThan(HOURS.split('. ')[0]!.length);
    expect(resumed[1]).toBe('On Saturdays we open at ten.');
    expect(resumed[0]).toBe('the morning to five in the evening.');
    expect(a.warnings.some((l) => l.includes('socket dropped mid-sentence'))).toBe(true);

    // Call B: its reply whole, on its one socket, nothing logged.
    expect(b.assistantTurns[1]).toEqual({ text: ORDER, interrupted: false });
    expect(b.errors).toEqual([]);
    expect(b.warnings).toEqual([]);
    const contextsOfB = cartesia.contexts.filter((c) => c.generations.some((g) => g.includes('order') || g.includes('Friday')));
    expect(contextsOfB.map((c) => c.outcome)).toEqual(['done']);
    expect(new Set(cartesia.contexts.filter((c) => c.generations.some((g) => g === GREETING)).map((c) => c.connection)).size).toBe(2);
    expect(cartesia.connections.filter((c) => c.close?.by === 'dropped')).toHaveLength(1);
  }, 30_000);

  it('a fallback list: the primary drops mid-sentence and cannot come back, the backup says the rest', async () => {
    cartesia.failGeneration({ drop: true, afterChunks: 10, onText: 'We are open' });
    // The primary's reconnection is refused (armed once the reply's first sentence is on its way).
    void cartesia
      .waitForMessage((m) => typeof (m as { transcript?: unknown }).transcript === 'string' && (m as { transcript: string }).transcript.startsWith('We are open'), 10_000)
      .then(() => cartesia.failHandshake({ status: 503 }));
    const backup = new FakeTTSService({ sampleRate: 16000, msPerCharacter: MS_PER_CHARACTER, wordTimestamps: true, name: 'backup-tts' });
    const a = await startCall('What are your hours?', new FallbackTTSService([cartesiaTTS('tts-primary'), backup]));
    await waitUntil(() => a.assistantTurns.length === 1, 10_000);
    await a.transport.caller.say(speechTone(400));
    await waitUntil(() => a.assistantTurns.length === 2, 15_000);

    expect(a.assistantTurns[1]).toEqual({ text: HOURS, interrupted: false });
    expect(a.errors).toEqual([]);
    // The backup took the sentence from the word cut, then the rest of the reply (the primary rests).
    expect(backup.spoken).toHaveLength(2);
    expect(HOURS.split('. ')[0]!.endsWith(backup.spoken[0]!.replace(/\.$/, ''))).toBe(true);
    expect(backup.spoken[1]).toBe('On Saturdays we open at ten.');
    expect(backup.spoken[0]).toBe('the morning to five in the evening.');
    expect(a.warnings.some((l) => l.includes('tts-primary failed; switching to backup-tts'))).toBe(true);
    expect(a.warnings.join('\n')).not.toContain('SECRET');
  }, 30_000);
});
