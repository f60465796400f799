// PiperHttpTTSService against the fake Piper HTTP server: what it posts (Piper's JSON fields), the WAV read as it
// streams and resampled when the voice's rate is not the service's, the fallback to `POST /` of servers before 1.5,
// Flask's HTML 500 for empty text, and what is refused before any request. The behaviour every vendor shares is in
// test/services/conformance.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatInt16, writeWav } from '../../../src/audio/index.js';
import { PiperHttpTTSService } from '../../../src/services/piper/index.js';
import { fakePiperSpeech, startFakePiper, type FakePiper } from '../../../src/testing/fakes/piper.js';
import { failureOf } from '../../support/service-calls.js';

let fake: FakePiper;
beforeAll(async () => {
  fake = await startFakePiper({
    voices: { 'en_US-lessac-medium': { sampleRate: 22050 }, 'hi_IN-pratham-medium': { sampleRate: 22050 }, 'en_US-ryan-low': { sampleRate: 16000 }, 'en_US-libritts_r-medium': { sampleRate: 22050, speakers: ['p1', 'p2', 'p3'] } },
  });
});
afterAll(() => fake.close());

async function synthesize(tts: PiperHttpTTSService, text: string): Promise<{ audio: Int16Array; chunks: number }> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: new AbortController().signal })) if (chunk.type === 'audio') chunks.push(chunk.audio);
  return { audio: concatInt16(chunks), chunks: chunks.length };
}

describe('PiperHttpTTSService', () => {
  it('posts Piper’s JSON fields to /synthesize and yields the WAV’s samples as they stream in', async () => {
    const tts = new PiperHttpTTSService({ baseUrl: `${fake.baseUrl}/`, voice: 'en_US-libritts_r-medium', speaker: 'p2', lengthScale: 1.1, noiseScale: 0.6, noiseWScale: 0.7 });
    const { audio, chunks } = await synthesize(tts, 'Your appointment is on Monday.');
    expect(audio).toEqual(fakePiperSpeech('Your appointment is on Monday.', { voice: 'en_US-libritts_r-medium', sampleRate: 22050, speakerId: 1 }));
    expect(chunks).toBeGreaterThan(1);
    const request = fake.requests.at(-1)!;
    expect([request.method, request.path, request.status, request.outcome, request.voiceUsed, request.speakerIdUsed]).toEqual(['POST', '/synthesize', 200, 'completed', 'en_US-libritts_r-medium', 1]);
    expect(request.body).toEqual({ text: 'Your appointment is on Monday.', voice: 'en_US-libritts_r-medium', speaker: 'p2', length_scale: 1.1, noise_scale: 0.6, noise_w_scale: 0.7 });
  });

  it('sends only the text by default (the server’s own voice), and speaker_id when given', async () => {
    await synthesize(new PiperHttpTTSService({ baseUrl: fake.baseUrl }), 'Hello.');
    expect(fake.requests.at(-1)!.body).toEqual({ text: 'Hello.' });
    expect(fake.requests.at(-1)!.voiceUsed).toBe('en_US-lessac-medium');
    await synthesize(new PiperHttpTTSService({ baseUrl: fake.baseUrl, voice: 'en_US-libritts_r-medium', speakerId: 2 }), 'Hello.');
    expect(fake.requests.at(-1)!.speakerIdUsed).toBe(2);
  });

  it('resamples a voice whose rate differs from the service’s, and passes it through when they match', async () => {
    const text = 'This low quality voice speaks at sixteen kilohertz.';
    const native = fakePiperSpeech(text, { voice: 'en_US-ryan-low', sampleRate: 16000 });
    const resampled = await synthesize(new PiperHttpTTSService({ baseUrl: fake.baseUrl, voice: 'en_US-ryan-low' }), text);
    expect(resampled.audio.length).toBe(Math.ceil((native.length * 22050) / 16000));
    const matched = new PiperHttpTTSService({ baseUrl: fake.baseUrl, voice: 'en_US-ryan-low', sampleRate: 16000 });
    expect(matched.sampleRate).toBe(16000);
    expect((await synthesize(matched, text)).audio).toEqual(native);
  });

  it('falls back to POST / on a server before 1.5 (404 on /synthesize) and keeps that path', async () => {
    const legacy = await startFakePiper({ legacy: true });
    try {
      const tts = new PiperHttpTTSService({ baseUrl: legacy.baseUrl });
      expect((await synthesize(tts, 'First.')).audio).toEqual(fakePiperSpeech('First.', { voice: 'en_US-lessac-medium', sampleRate: 22050 }));
      await synthesize(tts, 'Second.');
      expect(legacy.requests.map((r) => `${r.path} ${r.status}`)).toEqual(['/synthesize 404', '/ 200', '/ 200']);
    } finally {
      await legacy.close();
    }
  });

  it('a server failure (Flask’s HTML 500, here for empty text) is a retryable `server` error naming the page title', async () => {
    const failure = await failureOf(() => synthesize(new PiperHttpTTSService({ baseUrl: fake.baseUrl }), '  '));
    expect([failure.code, failure.status, failure.retryable]).toEqual(['server', 500, true]);
    expect(failure.message).toBe(`Piper: speech request to ${fake.baseUrl}/synthesize refused with 500: 500 Internal Server Error`);
  });

  it('a server that is not running is `connection-failed`', async () => {
    const gone = await startFakePiper();
    const url = gone.baseUrl;
    await gone.close();
    const failure = await failureOf(() => synthesize(new PiperHttpTTSService({ baseUrl: url }), 'Hello.'));
    expect(failure.code).toBe('connection-failed');
  });

  it('an answer that is not a 16-bit mono WAV is a `protocol` error', async () => {
    const answers = [Buffer.from('{"ok": true}'), writeWav({ sampleRate: 22050, channels: 2, samples: new Int16Array(8) }), Buffer.from('RIFF')];
    const server = createServer((_req, res) => void res.end(answers.shift()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tts = new PiperHttpTTSService({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const messages: string[] = [];
      for (let i = 0; i < 3; i++) {
        const failure = await failureOf(() => synthesize(tts, 'Hello.'));
        expect(failure.code).toBe('protocol');
        messages.push(failure.message);
      }
      expect(messages[0]).toMatch(/not a WAV file/);
      expect(messages[1]).toMatch(/not 16-bit mono PCM/);
      expect(messages[2]).toMatch(/ended before its WAV header/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses bad options before any request', () => {
    expect(() => new PiperHttpTTSService({ sampleRate: 4000 })).toThrow(/sampleRate/);
    expect(() => new PiperHttpTTSService({ speakerId: -1 })).toThrow(/speakerId/);
    expect(() => new PiperHttpTTSService({ lengthScale: 0 })).toThrow(/lengthScale/);
    expect(() => new PiperHttpTTSService({ baseUrl: 'localhost:5000' })).toThrow(/baseUrl/);
  });
});
