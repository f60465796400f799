// PollyTTSService against the fake Polly, which recomputes every SigV4 signature: the signed JSON it posts (as AWS
// documents SynthesizeSpeech), the PCM back whole, temporary credentials, Polly's error types, and what the fake
// refuses. The behaviour every vendor shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollyTTSService } from '../../../src/services/aws/index.js';
import { fakePollySpeech, startFakePolly, type FakePolly } from '../../../src/testing/fakes/polly.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const SECRET = 'polly-secret-SECRET-0123456789';
const credentials = { accessKeyId: 'AKIAFAKEPOLLY0001', secretAccessKey: SECRET };
let fake: FakePolly;
beforeAll(async () => {
  fake = await startFakePolly({ rejectKey: 'AKIAREFUSED000001', secretAccessKey: SECRET, chunkDelayMs: 0 });
});
afterAll(() => fake.close());

describe('PollyTTSService', () => {
  it('posts the documented SynthesizeSpeech body, signed (the fake checks the signature), and streams the PCM back whole', async () => {
    const tts = new PollyTTSService({ credentials, region: 'ap-south-1', baseUrl: fake.baseUrl, voice: 'Kajal', language: 'hi-IN', sampleRate: 8000 });
    const audio = await synthesizeAudio(tts, 'Namaste, your order is on its way.');
    expect(audio).toEqual(fakePollySpeech('Namaste, your order is on its way.', { sampleRate: 8000, voice: 'Kajal' }));
    const request = fake.requests.at(-1)!;
    expect(request.auth).toEqual({ present: true, valid: true });
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.body).toEqual({ Engine: 'neural', LanguageCode: 'hi-IN', OutputFormat: 'pcm', SampleRate: '8000', Text: 'Namaste, your order is on its way.', TextType: 'text', VoiceId: 'Kajal' });
  });

  it('temporary credentials from a supplier: asked per request, the session token signed', async () => {
    let calls = 0;
    const tts = new PollyTTSService({ credentials: () => ({ ...credentials, sessionToken: `session-${++calls}` }), region: 'us-east-1', baseUrl: fake.baseUrl });
    await synthesizeAudio(tts, 'One.');
    await synthesizeAudio(tts, 'Two.');
    expect(calls).toBe(2);
    expect(fake.requests.at(-1)?.auth.valid).toBe(true);
    expect(fake.requests.at(-1)?.headers['x-amz-security-token']).toBe('[redacted]');
  });

  it('an unknown key and a wrong secret are `auth` without either; throttling (400 ThrottlingException) is `rate-limited`; a bad rate is refused', async () => {
    const unknown = await failureOf(() => synthesizeAudio(new PollyTTSService({ credentials: { ...credentials, accessKeyId: 'AKIAREFUSED000001' }, region: 'us-east-1', baseUrl: fake.baseUrl }), 'Hi.'));
    expect([unknown.code, unknown.status, unknown.vendorCode]).toEqual(['auth', 403, 'UnrecognizedClientException']);
    const wrong = await failureOf(() => synthesizeAudio(new PollyTTSService({ credentials: { ...credentials, secretAccessKey: 'not-the-secret' }, region: 'us-east-1', baseUrl: fake.baseUrl }), 'Hi.'));
    expect([wrong.code, wrong.vendorCode]).toEqual(['auth', 'InvalidSignatureException']);
    for (const error of [unknown, wrong]) {
      expect(error.message).not.toContain('AKIAREFUSED000001');
      expect(error.message).not.toContain('not-the-secret');
    }
    fake.failSpeech({ error: 429 });
    const throttled = await failureOf(() => synthesizeAudio(new PollyTTSService({ credentials, region: 'us-east-1', baseUrl: fake.baseUrl }), 'Hi.'));
    expect([throttled.code, throttled.status, throttled.retryable]).toEqual(['rate-limited', 400, true]);
    expect(() => new PollyTTSService({ credentials, region: 'us-east-1', sampleRate: 24000 as 8000 })).toThrow(/8000 or 16000/);
    expect(() => new PollyTTSService({ credentials, region: 'mumbai' })).toThrow(/region/);
    expect(() => new PollyTTSService({ credentials: { accessKeyId: '', secretAccessKey: '' }, region: 'us-east-1' })).toThrow(/credentials are required/);
  });
});
