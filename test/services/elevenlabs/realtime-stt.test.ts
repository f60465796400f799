import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { elevenLabsRealtimeError, ElevenLabsRealtimeSTTService } from '../../../src/services/elevenlabs/index.js';
import { startFakeElevenLabsRealtime, type FakeElevenLabsRealtime } from '../../../src/testing/fakes/elevenlabs-stt-realtime.js';
import { runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'xi-test-key-0123456789';
const RATE = 16000;

let fake: FakeElevenLabsRealtime;
beforeAll(async () => {
  fake = await startFakeElevenLabsRealtime({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('ElevenLabsRealtimeSTTService', () => {
  it('manual commits: config in the query, partials while speaking, a commit at VAD stop answers the final', async () => {
    fake.scriptTranscripts('Where is my order');
    const stt = new ElevenLabsRealtimeSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'hi', keyterms: ['Piopiy'] });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1200));
    await send(run, new Int16Array((RATE * 300) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    const session = fake.sessions.at(-1)!;
    expect(session.query).toEqual({ model_id: 'scribe_v2_realtime', audio_format: 'pcm_16000', commit_strategy: 'manual', language_code: 'hi', keyterms: 'Piopiy' });
    expect(session.commits).toBe(1);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final).toMatchObject({ text: 'Where is my order', language: 'hi' });
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final && f.text !== '')).toBe(true);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    // The end of the call commits the silence sent since, and its (empty) committed transcript closes the socket.
    await run.stop();
    await waitUntil(() => session.closed !== undefined, 2000);
    expect(session.commits).toBe(2);
    expect(session.closed?.by).toBe('client');
    expect(run.errors).toEqual([]);
  });

  it("'vad' commits: Scribe ends the segment itself, word times on the call's clock; the VAD stop then completes at once", async () => {
    fake.scriptTranscripts('Mujhe refund chahiye');
    const stt = new ElevenLabsRealtimeSTTService({ apiKey: KEY, baseUrl: fake.url, commitStrategy: 'vad', vadSilenceThresholdSecs: 0.5 });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1200));
    await send(run, new Int16Array((RATE * 700) / 1000));
    await waitUntil(() => finals(run.collector.downstream).length === 1, 2000);
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    const session = fake.sessions.at(-1)!;
    expect(session.query).toMatchObject({ commit_strategy: 'vad', vad_silence_threshold_secs: '0.5', include_timestamps: 'true' });
    expect(session.query.language_code).toBeUndefined();
    expect(session.commits).toBe(0);
    const [final] = finals(run.collector.downstream);
    expect(final?.text).toBe('Mujhe refund chahiye');
    // Scribe detected the language (the fake reports 'en' when none is asked for).
    expect(final?.language).toBe('en');
    expect(final?.words?.map((w) => w.word)).toEqual(['Mujhe', 'refund', 'chahiye']);
    // Speech began 1 s into the call.
    expect(final?.words?.[0]?.start).toBeCloseTo(1, 1);
    await run.stop();
    expect(run.errors).toEqual([]);
  });

  it('a language code Scribe refuses is one `bad-request` error (in band), not a retry loop', async () => {
    const before = fake.sessions.length;
    const stt = new ElevenLabsRealtimeSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'hindi', reconnect: { attemptsBeforeError: 2 } });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(3200));
    await waitUntil(() => run.errors.length > 0, 2000);
    await run.clock.advance(5000);
    await run.cancel();
    const error = run.errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect({ code: error.code, vendorCode: error.vendorCode, retryable: error.retryable }).toEqual({ code: 'bad-request', vendorCode: 'invalid_request', retryable: false });
    expect(error.message).toContain('hindi');
    expect(fake.sessions.length - before).toBe(1);
  });

  it('reads each in-band error type, without the key; checks option ranges', () => {
    const cases: [string, string, boolean][] = [
      ['auth_error', 'auth', false],
      ['unaccepted_terms', 'auth', false],
      ['quota_exceeded', 'quota', false],
      ['rate_limited', 'rate-limited', true],
      ['resource_exhausted', 'rate-limited', true],
      ['input_error', 'bad-request', false],
      ['chunk_size_exceeded', 'bad-request', false],
      ['session_time_limit_exceeded', 'connection-lost', true],
      ['transcriber_error', 'server', true],
      ['some_new_error', 'server', true],
    ];
    for (const [type, code, retryable] of cases) {
      const error = elevenLabsRealtimeError(type, `message naming ${KEY}`, [KEY]);
      expect({ type, code: error.code, retryable: error.retryable }).toEqual({ type, code, retryable });
      expect(error.message).not.toContain(KEY);
    }
    expect(() => new ElevenLabsRealtimeSTTService({ apiKey: KEY, vadThreshold: 2 })).toThrow(/vadThreshold/);
    expect(() => new ElevenLabsRealtimeSTTService({ apiKey: KEY, sampleRate: 11025 as 8000 })).toThrow(RangeError);
  });
});
