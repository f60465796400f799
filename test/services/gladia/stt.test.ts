import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { gladiaSessionError, GladiaSTTService } from '../../../src/services/gladia/index.js';
import { startFakeGladia, type FakeGladia } from '../../../src/testing/fakes/gladia.js';
import { runOnVirtualClock } from '../conformance/run.js';
import { finals, send, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'gl-test-key-0123456789';
const RATE = 16000;

const post = (body: unknown, key = KEY): Promise<Response> =>
  fetch(`${fake.url}/v2/live`, { method: 'POST', headers: { 'x-gladia-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });

let fake: FakeGladia;
beforeAll(async () => {
  fake = await startFakeGladia({ requireKey: KEY });
});
afterAll(() => fake.close());

describe('GladiaSTTService', () => {
  it('session POST with the config, socket without the key; the final utterance ends the turn; stop_recording at the end', async () => {
    fake.scriptTranscripts('Mera order kahan hai?');
    const stt = new GladiaSTTService({ apiKey: KEY, baseUrl: fake.url, languages: ['hi', 'en'], codeSwitching: true });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1400));
    await send(run, new Int16Array((RATE * 300) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.config).toEqual({
      encoding: 'wav/pcm',
      bit_depth: 16,
      sample_rate: RATE,
      channels: 1,
      model: 'solaria-1',
      endpointing: 0.05,
      language_config: { languages: ['hi', 'en'], code_switching: true },
      messages_config: { receive_partial_transcripts: true, receive_final_transcripts: true, receive_speech_events: true },
    });
    expect(session.controls).toEqual(['stop_recording']);
    await waitUntil(() => session.closed !== undefined, 2000);
    expect(session.closed?.by).toBe('server');
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final?.text).toBe('Mera order kahan hai?');
    expect(final?.language).toBe('hi');
    expect(final?.words?.map((w) => w.word)).toEqual(['Mera', 'order', 'kahan', 'hai?']);
    // Gladia's times start at the session's start; the speech began 0.5 s into the call.
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it('a rate Gladia does not take is one bad-request error, no retry loop', async () => {
    const before = fake.sessions.length;
    const stt = new GladiaSTTService({ apiKey: KEY, baseUrl: fake.url, sampleRate: 22050 });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await waitUntil(() => run.errors.length > 0, 2000);
    await run.clock.advance(5000);
    await run.stop();
    expect(run.errors.map((e) => (e.error as { code?: string }).code)).toEqual(['bad-request']);
    expect(fake.sessions.length).toBe(before);
  });

  it('the fake refuses a bad key with 401 and a bad config with 400 naming the fields; one socket per session URL', async () => {
    const refused = await post({ encoding: 'wav/pcm', sample_rate: RATE }, 'wrong-key-123');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ statusCode: 401, message: expect.any(String) as string });
    const bad = await post({ encoding: 'wav/pcm', bit_depth: 16, sample_rate: 22050, channels: 1, endpointing: 20 });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { validation_errors: string[] };
    expect(body.validation_errors.join(' ')).toMatch(/sample_rate.*endpointing/);
    const ok = await post({ encoding: 'wav/pcm', bit_depth: 16, sample_rate: RATE, channels: 1 });
    expect(ok.status).toBe(201);
    const { id, url } = (await ok.json()) as { id: string; url: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v2\/live\?token=/);
    expect(url).not.toContain(KEY);
  });

  it('a call ended while the session POST is pending opens no socket when the answer comes', async () => {
    const held: ServerResponse[] = [];
    let upgrades = 0;
    const server = createServer((_req, res) => void held.push(res));
    server.on('upgrade', (_req, socket: Socket) => {
      upgrades++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const stt = new GladiaSTTService({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}` });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await waitUntil(() => held.length === 1, 2000);
    await run.stop();
    held[0]!.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', url: `ws://127.0.0.1:${port}/v2/live?token=t` }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(upgrades).toBe(0);
    expect(run.errors).toEqual([]);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads refused session POSTs by status, without the key', () => {
    const cases: [number, string, boolean][] = [
      [401, 'auth', false],
      [400, 'bad-request', false],
      [429, 'rate-limited', true],
      [500, 'server', true],
    ];
    for (const [status, code, retryable] of cases) {
      const error = gladiaSessionError(status, `{"message":"key ${KEY} refused"}`, [KEY], status === 429 ? 3 : undefined);
      expect({ code: error.code, retryable: error.retryable, status: error.status }).toEqual({ code, retryable, status });
      expect(error.message).not.toContain(KEY);
      if (status === 429) expect(error.retryAfterSecs).toBe(3);
    }
  });
});
