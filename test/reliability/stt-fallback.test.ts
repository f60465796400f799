// An STT service lost for good in the middle of a caller's sentence, seen from the caller: two calls at once
// through VoiceAgent on the in-memory transport, each with FallbackSTTService([Deepgram, Deepgram backup]), both
// primaries on the same (fake) Deepgram server. Call A's socket drops half-way through its second sentence and the
// server refuses it back: the backup is given the audio not yet transcribed, so that sentence is understood and
// answered, and so is the next one. Call B, speaking at the same time on the same server, is untouched: its own
// socket all along, no backup, nothing logged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/index.js';
import { DeepgramSTTService } from '../../src/services/deepgram/index.js';
import { FallbackSTTService } from '../../src/services/fallback/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { FakeTTSService } from '../../src/testing/fake-services.js';
import { startFakeDeepgram, type FakeDeepgram, type FakeDeepgramRequest, type FakeDeepgramSpeechSegment } from '../../src/testing/fakes/deepgram.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { sleep, waitUntil } from '../support/wait.js';

const KEY = 'dg-test-SECRET-0123456789';

const A1 = 'I want to check my order.';
const A2 = 'Where is my refund?';
const A3 = 'Thank you, goodbye.';
const B1 = 'What time do you open?';
const B2 = 'And on Sundays?';

/**
 * What each stream hears, stretch of speech after stretch, told apart by the call's `tag`: A's primary hears its
 * first two sentences (the second cut by the drop), A's backup the second again (the replay) and the third.
 */
const SCRIPTS: Readonly<Record<string, readonly string[]>> = {
  'primary:call-a': [A1, A2],
  'backup:call-a': [A2, A3],
  'primary:call-b': [B1, B2],
};

function transcriber(server: 'primary' | 'backup'): (segment: FakeDeepgramSpeechSegment, request: FakeDeepgramRequest) => string {
  const heard = new Map<FakeDeepgramRequest, number>();
  return (_segment, request) => {
    const index = heard.get(request) ?? 0;
    heard.set(request, index + 1);
    return SCRIPTS[`${server}:${String(request.query.tag)}`]?.[index] ?? '';
  };
}

const REPLIES = [
  { match: /order/i, reply: 'It ships tomorrow.' },
  { match: /refund/i, reply: 'Your refund is on its way.' },
  { match: /goodbye/i, reply: 'Goodbye!' },
  { match: /open/i, reply: 'We open at nine.' },
  { match: /sundays/i, reply: 'We are closed on Sundays.' },
];

let primaryFake: FakeDeepgram;
let backupFake: FakeDeepgram;
beforeEach(async () => {
  primaryFake = await startFakeDeepgram({ defaultTranscript: transcriber('primary'), interimIntervalMs: 300 });
  backupFake = await startFakeDeepgram({ defaultTranscript: transcriber('backup'), interimIntervalMs: 300 });
});
const calls: Call[] = [];
afterEach(async () => {
  for (const call of calls.splice(0)) {
    call.transport.caller.hangUp();
    await call.done;
  }
  await primaryFake.close();
  await backupFake.close();
});

interface Call {
  transport: MemoryTransport;
  stt: FallbackSTTService;
  backup: DeepgramSTTService;
  done: Promise<void>;
  userTurns: string[];
  assistantTurns: string[];
  errors: string[];
  logs: string[];
  /** Says a sentence (a tone standing for it: the fake servers know which sentence comes next). */
  say(ms: number): Promise<void>;
}

async function startCall(name: string): Promise<Call> {
  const logs: string[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void logs.push(line) } });
  const reconnect = { initialDelayMs: 50, maxDelayMs: 100, attemptsBeforeError: 2 };
  const extraParams = { tag: name };
  const primary = new DeepgramSTTService({ apiKey: KEY, baseUrl: primaryFake.url, name: `${name}-deepgram`, reconnect, extraParams });
  const backup = new DeepgramSTTService({ apiKey: KEY, baseUrl: backupFake.url, name: `${name}-deepgram-backup`, reconnect, extraParams });
  const stt = new FallbackSTTService([primary, backup]);
  const transport = new MemoryTransport({ callerSampleRate: 16000 });
  const voice = new VoiceAgent({ instructions: 'Answer.', greeting: 'Hello.', logger });
  await voice.action({
    stt,
    llm: new ScriptedLLMService({ rules: REPLIES }),
    tts: new FakeTTSService({ msPerCharacter: 10 }),
    vad: new EnergyVAD({ sampleRate: 16000 }),
    transport,
  });
  const call: Call = {
    transport,
    stt,
    backup,
    done: voice.start(),
    userTurns: [],
    assistantTurns: [],
    errors: [],
    logs,
    say: async (ms) => {
      await transport.caller.say(speechTone(ms));
    },
  };
  voice.events.on('user-turn', (text) => call.userTurns.push(text));
  voice.events.on('assistant-turn', (text) => call.assistantTurns.push(text));
  voice.events.on('error', (frame) => call.errors.push(frame.error.message));
  calls.push(call);
  transport.caller.connect();
  return call;
}

/** Length of the first stretch of speech (10 ms windows louder than the fake's threshold) in 16 kHz audio. */
function firstSpeechMs(audio: Int16Array): number {
  let speechMs = 0;
  for (let at = 0; at + 160 <= audio.length; at += 160) {
    let sum = 0;
    for (let i = at; i < at + 160; i++) sum += audio[i]! * audio[i]!;
    const loud = Math.sqrt(sum / 160) > 500;
    if (loud) speechMs += 10;
    else if (speechMs > 0) break;
  }
  return speechMs;
}

describe('STT lost mid-utterance, with a fallback (VoiceAgent calls, fake Deepgram)', () => {
  it("the backup understands the caller's sentence in progress and the next one; the other call is untouched", async () => {
    const a = await startCall('call-a');
    await waitUntil(() => primaryFake.listenSessions.length === 1, 5000);
    const b = await startCall('call-b');
    await waitUntil(() => primaryFake.listenSessions.length === 2 && a.assistantTurns.length === 1 && b.assistantTurns.length === 1, 10_000);
    const [sessionA, sessionB] = primaryFake.listenSessions;

    await a.say(500);
    await waitUntil(() => a.assistantTurns.length === 2, 10_000);

    // Both callers speak; half-way through A's sentence its socket drops and the server refuses it back.
    const speaking = Promise.all([a.say(900), b.say(700)]);
    await sleep(400);
    primaryFake.failNextConnections(503, 2, '/v1/listen');
    sessionA!.drop();
    await speaking;
    await waitUntil(() => a.assistantTurns.length === 3 && b.assistantTurns.length === 2, 10_000);

    await Promise.all([a.say(1300), b.say(1100)]);
    await waitUntil(() => a.assistantTurns.length === 4 && b.assistantTurns.length === 3, 10_000);

    // What caller A experienced: every sentence understood and answered, the one cut by the drop included.
    expect(a.userTurns).toEqual(['I want to check my order.', 'Where is my refund?', 'Thank you, goodbye.']);
    expect(a.assistantTurns.slice(1)).toEqual(['It ships tomorrow.', 'Your refund is on its way.', 'Goodbye!']);
    expect(a.errors).toEqual([]);
    expect(a.stt.current).toBe(a.backup);
    const switched = a.logs.filter((l) => l.includes('switching to'));
    expect(switched).toHaveLength(1);
    expect(switched[0]).toContain('call-a-deepgram failed; switching to call-a-deepgram-backup');
    // The backup heard the cut sentence whole (900 ms of speech): its start replayed, the rest live.
    expect(backupFake.listenSessions).toHaveLength(1);
    expect(firstSpeechMs(backupFake.listenSessions[0]!.audio())).toBeGreaterThan(850);

    // Call B: its own socket all along, no switch, nothing logged.
    expect(b.userTurns).toEqual(['What time do you open?', 'And on Sundays?']);
    expect(b.assistantTurns.slice(1)).toEqual(['We open at nine.', 'We are closed on Sundays.']);
    expect(b.errors).toEqual([]);
    expect(b.logs).toEqual([]);
    expect(b.stt.current).not.toBe(b.backup);
    expect(sessionB!.closed).toBeUndefined();
    expect(primaryFake.listenSessions).toHaveLength(2);
    expect([...a.logs, ...b.logs].join('\n')).not.toContain('SECRET');
  }, 40_000);
});
