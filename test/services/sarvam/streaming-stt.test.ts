import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame, type Frame } from '../../../src/frames/index.js';
import { ServiceError } from '../../../src/services/base/index.js';
import { SarvamStreamingSTTService, sarvamStreamError } from '../../../src/services/sarvam/index.js';
import { startFakeSarvamStream, type FakeSarvamStream } from '../../../src/testing/fakes/sarvam-stt-stream.js';
import { runOnVirtualClock, type ConformanceRun } from '../conformance/run.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'sarvam-test-key-0123456789';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function tone(ms: number, rate: number): Int16Array {
  const out = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return out;
}

async function send(run: ConformanceRun, audio: Int16Array, rate: number): Promise<void> {
  const step = (rate * 20) / 1000;
  for (let at = 0; at < audio.length; at += step) {
    await run.task.queueFrame(inputAudioFrame(audio.slice(at, at + step), rate));
    await tick();
  }
}

const finals = (frames: readonly Frame[]) => frames.flatMap((f) => (f.type === 'transcription' && f.final ? [f] : []));

let fake: FakeSarvamStream;
beforeAll(async () => {
  fake = await startFakeSarvamStream({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('SarvamStreamingSTTService', () => {
  it('an 8 kHz phone call: language, model and mode in the query at 8 kHz, key in the header, flush at VAD stop', async () => {
    const rate = 8000;
    fake.scriptTranscripts('மேலும் ஒரு கேள்வி');
    const stt = new SarvamStreamingSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'ta-IN', mode: 'codemix' });
    const run = runOnVirtualClock(stt, { audioInSampleRate: rate });
    await send(run, new Int16Array(rate / 2), rate);
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1200, rate), rate);
    await send(run, new Int16Array((rate * 300) / 1000), rate);
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    const session = fake.sessions.at(-1)!;
    // Indian languages reach Sarvam as asked; the call's 8 kHz goes as it is (no resampling).
    expect(session.query).toEqual({
      'language-code': 'ta-IN',
      model: 'saaras:v3',
      mode: 'codemix',
      sample_rate: '8000',
      input_audio_codec: 'pcm_s16le',
      vad_signals: 'true',
      flush_signal: 'true',
    });
    expect(session.controls).toEqual(['flush']);
    // Sarvam's own silence detection (1 s) had not ended the utterance: the flush did.
    expect(session.sent.map((m) => (m.type === 'events' ? (m.data as { signal_type: string }).signal_type : m.type))).toEqual(['START_SPEECH', 'data']);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final).toMatchObject({ text: 'மேலும் ஒரு கேள்வி', language: 'ta-IN' });
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    await run.stop();
    await waitUntil(() => session.closed !== undefined, 2000);
    expect(run.errors).toEqual([]);
  });

  it('an utterance Sarvam ended by itself: its final comes first, and the VAD stop after it sends no flush', async () => {
    const rate = 16000;
    fake.scriptTranscripts('mera order kahan hai');
    const stt = new SarvamStreamingSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'hi-IN', highVadSensitivity: true, model: 'saarika:v2.5' });
    const run = runOnVirtualClock(stt, { audioInSampleRate: rate });
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(900, rate), rate);
    // High sensitivity: Sarvam ends the utterance after 0.5 s of silence, before our VAD's (late) stop.
    await send(run, new Int16Array((rate * 700) / 1000), rate);
    await waitUntil(() => finals(run.collector.downstream).length === 1, 2000);
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    const session = fake.sessions.at(-1)!;
    expect(session.query).toMatchObject({ 'language-code': 'hi-IN', model: 'saarika:v2.5', high_vad_sensitivity: 'true' });
    expect(session.query.mode).toBeUndefined();
    expect(session.controls).toEqual([]);
    expect(finals(run.collector.downstream).map((f) => f.text)).toEqual(['mera order kahan hai']);
    await run.stop();
    expect(run.errors).toEqual([]);
  });

  it('a language Sarvam does not know is one `bad-request` error, not a retry loop', async () => {
    const before = fake.sessions.length;
    const stt = new SarvamStreamingSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'xx-IN', reconnect: { attemptsBeforeError: 2 } });
    const run = runOnVirtualClock(stt, { audioInSampleRate: 16000 });
    await send(run, new Int16Array(3200), 16000);
    await waitUntil(() => run.errors.length > 0, 2000);
    await run.clock.advance(5000);
    await run.cancel();
    const error = run.errors[0]!.error as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect({ code: error.code, status: error.status, vendorCode: error.vendorCode }).toEqual({ code: 'bad-request', status: 400, vendorCode: 'invalid_request_error' });
    expect(error.message).toContain('xx-IN');
    expect(fake.sessions.length - before).toBe(1);
  });

  it('refuses a sample rate the socket does not take, and resamples other call rates to 16 kHz', async () => {
    expect(() => new SarvamStreamingSTTService({ apiKey: KEY, sampleRate: 24000 as 16000 })).toThrow(RangeError);
    const stt = new SarvamStreamingSTTService({ apiKey: KEY, baseUrl: fake.url });
    const run = runOnVirtualClock(stt, { audioInSampleRate: 48000 });
    await send(run, new Int16Array(4800), 48000);
    await waitUntil(() => (fake.sessions.at(-1)?.audioMessages ?? 0) > 0, 2000);
    expect(fake.sessions.at(-1)!.query).toMatchObject({ 'language-code': 'unknown', sample_rate: '16000' });
    await run.stop();
    expect(run.errors).toEqual([]);
  });

  it('reads an in-band error by its code, without the key', () => {
    const cases: [unknown, string, boolean][] = [
      [{ error: `bad key ${KEY}`, code: 'invalid_api_key_error' }, 'auth', false],
      [{ message: 'no credits', code: 'insufficient_quota_error' }, 'quota', false],
      [{ error: 'slow down', code: 'rate_limit_exceeded_error' }, 'rate-limited', true],
      [{ error: 'bad audio', code: 'invalid_request_error' }, 'bad-request', false],
      [{ error: 'oops', code: 'internal_server_error' }, 'server', true],
      [{ error: 'something new' }, 'server', true],
    ];
    for (const [data, code, retryable] of cases) {
      const error = sarvamStreamError(data, [KEY]);
      expect({ code: error.code, retryable: error.retryable }).toEqual({ code, retryable });
      expect(error.message).not.toContain(KEY);
      expect(error.message).toContain('Sarvam');
    }
  });
});
