import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { cartesiaSTTError, CartesiaSTTService } from '../../../src/services/cartesia/index.js';
import { startFakeCartesiaSTT, type FakeCartesiaSTT } from '../../../src/testing/fakes/cartesia-stt.js';
import { firstServiceError, runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'sk_car_test-key-0123456789';
const RATE = 16000;

const silence = (ms: number): Int16Array => new Int16Array((RATE * ms) / 1000);

let fake: FakeCartesiaSTT;
beforeAll(async () => {
  fake = await startFakeCartesiaSTT({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('CartesiaSTTService', () => {
  it('key and version in headers, options in the query; `finalize` at the VAD stop, `flush_done` completes the turn, `done` ends the call', async () => {
    fake.scriptTranscripts('Mujhe apna order dekhna hai');
    const stt = new CartesiaSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'hi', minVolume: 0.1 });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(500));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1400));
    await send(run, silence(300));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.query).toEqual({ model: 'ink-whisper', language: 'hi', encoding: 'pcm_s16le', sample_rate: String(RATE), min_volume: '0.1' });
    expect(session.version).toBe('2025-04-16');
    expect(session.commands).toEqual(['finalize', 'done']);
    expect(session.sent.map((m) => m.type)).toContain('flush_done');
    expect(session.sent.at(-1)).toMatchObject({ type: 'done' });
    await waitUntil(() => session.closed !== undefined, 2000);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final?.text).toBe('Mujhe apna order dekhna hai');
    expect(final?.language).toBe('hi');
    expect(final?.words?.map((w) => w.word)).toEqual(['Mujhe', 'apna', 'order', 'dekhna', 'hai']);
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it("Cartesia's own endpointing makes a final before the stop; the stop's `finalize` then only completes the turn", async () => {
    fake.scriptTranscripts('Hello there');
    const stt = new CartesiaSTTService({ apiKey: KEY, baseUrl: fake.url, maxSilenceDurationSecs: 0.2 });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(800));
    await send(run, silence(400));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    expect(finals(run.collector.downstream).map((f) => f.text)).toEqual(['Hello there']);
    expect(fake.sessions.at(-1)!.query.max_silence_duration_secs).toBe('0.2');
  });

  it('a refused key is one `auth` error, without the key', async () => {
    const stt = new CartesiaSTTService({ apiKey: 'sk_car_wrong-key-987654', baseUrl: fake.url });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, silence(100));
    await waitUntil(() => run.errors.length > 0, 3000);
    await run.cancel();
    const error = firstServiceError(run.errors);
    expect(error.code).toBe('auth');
    expect(error.message).toMatch(/Cartesia.*401.*CARTESIA_API_KEY/);
    expect(error.message).not.toContain('wrong-key');
  });

  it('reads in-band errors of both versions, and checks its options', () => {
    expect(cartesiaSTTError({ type: 'error', message: 'The model is not valid', status_code: 400, error_code: 'model_not_found' }, [KEY])).toMatchObject({ code: 'bad-request', vendorCode: 'model_not_found' });
    expect(cartesiaSTTError({ type: 'error', error: `bad key ${KEY}` }, [KEY]).code).toBe('server');
    expect(cartesiaSTTError({ type: 'error', error: `bad key ${KEY}` }, [KEY]).message).not.toContain(KEY);
    expect(cartesiaSTTError({ type: 'error', message: 'slow down', status_code: 429 }, [KEY]).retryable).toBe(true);
    expect(() => new CartesiaSTTService({ apiKey: KEY, minVolume: 2 })).toThrow(/minVolume/);
    expect(() => new CartesiaSTTService({ apiKey: KEY, maxSilenceDurationSecs: 0 })).toThrow(/maxSilenceDurationSecs/);
    expect(new CartesiaSTTService({ apiKey: KEY }).url).not.toContain(KEY);
  });
});
