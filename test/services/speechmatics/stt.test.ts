import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { SpeechmaticsSTTService, speechmaticsError } from '../../../src/services/speechmatics/index.js';
import { startFakeSpeechmatics, type FakeSpeechmatics } from '../../../src/testing/fakes/speechmatics.js';
import { runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'sm-test-key-0123456789';
const RATE = 16000;

let fake: FakeSpeechmatics;
beforeAll(async () => {
  fake = await startFakeSpeechmatics();
});
afterAll(() => fake.close());

describe('SpeechmaticsSTTService', () => {
  it('StartRecognition first, audio after RecognitionStarted, ForceEndOfUtterance at VAD stop, EndOfStream numbering every frame', async () => {
    fake.scriptTranscripts('Namaste, mujhe madad chahiye.');
    const stt = new SpeechmaticsSTTService({ apiKey: KEY, baseUrl: fake.url, language: 'hi', maxDelaySecs: 1, additionalVocab: ['Piopiy'] });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    // Audio from before the session started is kept and sent once it has.
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1500));
    await send(run, new Int16Array((RATE * 300) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.startRecognition).toEqual({
      message: 'StartRecognition',
      audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: RATE },
      transcription_config: { language: 'hi', operating_point: 'enhanced', enable_partials: true, max_delay: 1, additional_vocab: ['Piopiy'] },
    });
    expect(session.messages).toEqual(['StartRecognition', 'ForceEndOfUtterance', 'EndOfStream']);
    // 2.3 s in 20 ms frames: every frame went out, numbered, and the last number matched (else a protocol_error).
    expect(session.audioFrames).toBe(115);
    expect(session.sent.map((m) => m.message)).toContain('EndOfTranscript');
    await waitUntil(() => session.closed !== undefined, 2000);
    expect(session.closed).toMatchObject({ code: 1000, by: 'client' });
    const [final] = finals(run.collector.downstream);
    expect(final?.text).toBe('Namaste, mujhe madad chahiye.');
    expect(final?.language).toBe('hi');
    expect(final?.words?.map((w) => w.word)).toEqual(['Namaste', 'mujhe', 'madad', 'chahiye']);
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it('maps the in-band Error types to our codes, without the key', () => {
    const cases: [string, string, boolean][] = [
      ['not_authorised', 'auth', false],
      ['insufficient_funds', 'quota', false],
      ['quota_exceeded', 'rate-limited', true],
      ['invalid_model', 'bad-request', false],
      ['protocol_error', 'bad-request', false],
      ['job_error', 'server', true],
      ['buffer_error', 'server', true],
      ['idle_timeout', 'connection-lost', true],
      ['something_new', 'server', true],
    ];
    for (const [type, code, retryable] of cases) {
      const error = speechmaticsError(type, `reason with ${KEY}`, [KEY]);
      expect({ code: error.code, retryable: error.retryable, vendorCode: error.vendorCode }).toEqual({ code, retryable, vendorCode: type });
      expect(error.message).not.toContain(KEY);
    }
  });

  it('a bad max_delay is refused by the constructor, as the service would refuse it in band', () => {
    expect(() => new SpeechmaticsSTTService({ apiKey: KEY, maxDelaySecs: 0.5 })).toThrow(/maxDelaySecs/);
  });
});
