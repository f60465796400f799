import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFrame } from '../../../src/frames/index.js';
import { TranscribeSTTService, type TranscribeSTTServiceOptions } from '../../../src/services/aws/index.js';
import { presignAwsUrl } from '../../../src/services/aws/sigv4.js';
import type { ServiceError } from '../../../src/services/base/index.js';
import { startFakeTranscribe, type FakeTranscribe } from '../../../src/testing/fakes/transcribe.js';
import { runOnVirtualClock, type ConformanceRun } from '../conformance/run.js';
import { finals, send, tick, tone } from '../streaming-stt-kit.js';
import { waitUntil } from '../../support/wait.js';

const KEY_ID = 'AKIATRANSCRIBE000001';
const SECRET = 'transcribe/SECRET+0123456789';
const RATE = 16000;

let fake: FakeTranscribe;
const make = (options: Partial<TranscribeSTTServiceOptions> = {}): TranscribeSTTService =>
  new TranscribeSTTService({ credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, region: 'ap-south-1', baseUrl: fake.baseUrl, ...options });
beforeAll(async () => {
  fake = await startFakeTranscribe({ secretAccessKey: SECRET, rejectKey: 'AKIAREJECTED00000000', expiredSessionToken: 'EXPIRED' });
});
afterAll(() => fake.close());

/** One turn: 0.5 s of silence, 1.4 s of speech, 0.3 s of silence, the VAD stop. */
async function turn(run: ConformanceRun): Promise<void> {
  await send(run, new Int16Array(RATE / 2));
  run.send(makeFrame('user-started-speaking'));
  await send(run, tone(1400));
  await send(run, new Int16Array((RATE * 300) / 1000));
  run.send(makeFrame('user-stopped-speaking'));
}

describe('TranscribeSTTService', () => {
  it('a presigned URL the fake verifies; AudioEvents of 50 ms or more; partial then final results; the empty AudioEvent ends the stream', async () => {
    fake.scriptTranscripts('Mera order kahan hai?');
    const run = runOnVirtualClock(make({ language: 'hi-IN', credentials: async () => ({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: 'TOKEN' }) }), { audioInSampleRate: RATE });
    await turn(run);
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const connection = fake.connections.at(-1)!;
    expect(connection.status).toBe(101);
    expect(connection.query).toEqual({ 'media-encoding': 'pcm', 'sample-rate': '16000', 'language-code': 'hi-IN' });
    // 2.2 s of audio in frames of 50 ms or more (the 20 ms pipeline frames joined), never over 200 ms.
    // (the last few ms, under 50, wait for more audio: at the end of a call that is silence after the speech)
    expect(connection.audioBytes).toBeGreaterThan(RATE * 2.15 * 2);
    expect(connection.audioEvents).toBeLessThanOrEqual(2200 / 50);
    expect(connection.audioEvents).toBeGreaterThanOrEqual(2200 / 200);
    await waitUntil(() => connection.close !== undefined, 2000);
    expect(connection.close?.by).toBe('server');
    expect(connection.exceptions).toEqual([]);
    const [final, more] = finals(run.collector.downstream);
    expect(more).toBeUndefined();
    expect(final?.text).toBe('Mera order kahan hai?');
    expect(final?.words?.map((w) => w.word)).toEqual(['Mera', 'order', 'kahan', 'hai?']);
    // Transcribe's times start at the stream's start; the speech began 0.5 s into the call.
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final)).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it('language identification: identify-language with language-options; the result names its language', async () => {
    fake.scriptTranscripts('Hello there');
    const run = runOnVirtualClock(make({ languageOptions: ['en-IN', 'hi-IN'], partialResultsStability: 'high' }), { audioInSampleRate: RATE });
    await turn(run);
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    expect(fake.connections.at(-1)!.query).toEqual({
      'media-encoding': 'pcm',
      'sample-rate': '16000',
      'identify-language': 'true',
      'language-options': 'en-IN,hi-IN',
      'enable-partial-results-stabilization': 'true',
      'partial-results-stability': 'high',
    });
    expect(finals(run.collector.downstream)[0]).toMatchObject({ text: 'Hello there', language: 'en-IN' });
  });

  it('a VAD stop while a result is open is complete at the final that closes it (no finalise message exists)', async () => {
    fake.scriptTranscripts('Yes please');
    const run = runOnVirtualClock(make(), { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1000));
    await send(run, new Int16Array((RATE * 100) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    for (let i = 0; i < 20; i++) await tick();
    expect(run.collector.downstream.some((f) => f.type === 'transcription-complete')).toBe(false);
    await send(run, new Int16Array((RATE * 300) / 1000));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    const frames = run.collector.downstream;
    const complete = frames.findIndex((f) => f.type === 'transcription-complete');
    expect(frames.findIndex((f) => f.type === 'transcription' && f.final && f.text === 'Yes please')).toBeLessThan(complete);
    await run.stop();
  });

  it('refused credentials: 403 on the handshake, one auth error, no retry loop, no secret in it', async () => {
    for (const [credentials, vendorCode] of [
      [{ accessKeyId: 'AKIAREJECTED00000000', secretAccessKey: SECRET }, 'UnrecognizedClientException'],
      [{ accessKeyId: KEY_ID, secretAccessKey: 'wrong-secret' }, 'InvalidSignatureException'],
      [{ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: 'EXPIRED' }, 'ExpiredTokenException'],
    ] as const) {
      const before = fake.connections.length;
      const run = runOnVirtualClock(make({ credentials }), { audioInSampleRate: RATE });
      await send(run, new Int16Array(RATE / 10));
      await waitUntil(() => run.errors.length > 0, 5000);
      await run.clock.advance(10_000);
      await run.stop();
      expect(fake.connections.length - before).toBe(1);
      const error = run.errors[0]!.error as ServiceError;
      expect(error).toMatchObject({ code: 'auth', status: 403, vendorCode });
      expect(error.message).toMatch(/^Amazon Transcribe: 403/);
      for (const secret of [...Object.values(credentials), KEY_ID, SECRET]) expect(error.message).not.toContain(secret);
    }
  });

  it('a language Transcribe does not stream is a 400 BadRequestException, not retried', async () => {
    const run = runOnVirtualClock(make({ language: 'xx-XX' }), { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 10));
    await waitUntil(() => run.errors.length > 0, 5000);
    await run.stop();
    expect(run.errors[0]!.error).toMatchObject({ code: 'bad-request', status: 400, vendorCode: 'BadRequestException' });
  });

  it('an exception message in the stream ends it with that error (here: no audio for the idle timeout)', async () => {
    const idle = await startFakeTranscribe({ secretAccessKey: SECRET, idleTimeoutMs: 100 });
    try {
      const run = runOnVirtualClock(make({ baseUrl: idle.baseUrl }), { audioInSampleRate: RATE });
      await send(run, new Int16Array(RATE / 10));
      await waitUntil(() => run.errors.length > 0, 5000);
      await run.stop();
      expect(idle.connections[0]!.exceptions).toEqual(['BadRequestException']);
      expect(run.errors[0]!.error).toMatchObject({ code: 'bad-request', vendorCode: 'BadRequestException' });
      expect(run.errors[0]!.error.message).toContain('no new audio was received for 15 seconds');
    } finally {
      await idle.close();
    }
  });

  it('bad options are errors naming the class', () => {
    expect(() => make({ sampleRate: 4000 })).toThrow(/TranscribeSTTService: Transcribe streams PCM at 8000 to 48000 Hz/);
    expect(() => new TranscribeSTTService({ credentials: { accessKeyId: KEY_ID, secretAccessKey: '' }, region: 'ap-south-1' })).toThrow(/secretAccessKey is required/);
  });
});

describe('presignAwsUrl', () => {
  it('adds the X-Amz-* parameters, signs the session token with them, and the signature last', () => {
    const url = new URL(
      presignAwsUrl({
        url: 'wss://transcribestreaming.ap-south-1.amazonaws.com:8443/stream-transcription-websocket?language-code=hi-IN&media-encoding=pcm&sample-rate=8000',
        region: 'ap-south-1',
        service: 'transcribe',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'TOKEN/+=' },
        expiresSecs: 300,
        now: new Date('2015-08-30T12:36:00Z'),
      }),
    );
    expect(url.host).toBe('transcribestreaming.ap-south-1.amazonaws.com:8443');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20150830/ap-south-1/transcribe/aws4_request',
      'X-Amz-Date': '20150830T123600Z',
      'X-Amz-Expires': '300',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Security-Token': 'TOKEN/+=',
    });
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect([...url.searchParams.keys()].at(-1)).toBe('X-Amz-Signature');
  });
});
