import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { sonioxError, SonioxSTTService } from '../../../src/services/soniox/index.js';
import { startFakeSoniox, type FakeSoniox } from '../../../src/testing/fakes/soniox.js';
import { runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'sx-test-key-0123456789';
const RATE = 16000;

let fake: FakeSoniox;
beforeAll(async () => {
  fake = await startFakeSoniox({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('SonioxSTTService', () => {
  it('key in the header, config first, finalize at VAD stop; <fin> ends the turn with sub-word tokens joined into words', async () => {
    fake.scriptTranscripts('Mera order kahan hai?');
    const stt = new SonioxSTTService({ apiKey: KEY, baseUrl: fake.url, languageHints: ['hi', 'en'] });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1400));
    await send(run, new Int16Array((RATE * 300) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    // The key went in the header only (the fake requires it there or in the config, and the config has none).
    expect(session.config).toEqual({ model: 'stt-rt-v5', audio_format: 'pcm_s16le', sample_rate: RATE, num_channels: 1, language_hints: ['hi', 'en'], enable_endpoint_detection: false });
    expect(session.controls).toEqual(['finalize']);
    expect(session.sent.at(-1)).toMatchObject({ finished: true });
    await waitUntil(() => session.closed !== undefined, 2000);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final?.text).toBe('Mera order kahan hai?');
    expect(final?.language).toBe('hi');
    // 'order' and 'kahan' came in two tokens each.
    expect(final?.words?.map((w) => w.word)).toEqual(['Mera', 'order', 'kahan', 'hai?']);
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it('reads the in-band error codes as HTTP statuses, without the key', () => {
    const cases: [number, string, boolean][] = [
      [401, 'auth', false],
      [402, 'quota', false],
      [400, 'bad-request', false],
      [408, 'timeout', true],
      [429, 'rate-limited', true],
      [503, 'server', true],
    ];
    for (const [status, code, retryable] of cases) {
      const error = sonioxError(status, `message naming ${KEY}`, [KEY]);
      expect({ code: error.code, retryable: error.retryable, status: error.status }).toEqual({ code, retryable, status });
      expect(error.message).not.toContain(KEY);
    }
  });
});
