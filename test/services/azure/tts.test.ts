// AzureTTSService against the fake Azure Speech REST endpoint: the SSML and headers it posts (as Azure documents
// them), the raw PCM and μ-law answers, Azure's error bodies, and what the fake refuses. The behaviour every vendor
// shares is in test/services/conformance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { AzureTTSService, azureOutputFormat } from '../../../src/services/azure/index.js';
import { fakeAzureSpeech, startFakeAzure, type FakeAzure } from '../../../src/testing/fakes/azure.js';
import { synthesizeAudio, failureOf } from '../../support/service-calls.js';

const KEY = 'azure-key-SECRET-0123456789';
const BAD_KEY = 'azure-refused-SECRET-9876543210';
let fake: FakeAzure;
beforeAll(async () => {
  fake = await startFakeAzure({ rejectKey: BAD_KEY, chunkDelayMs: 0 });
});
afterAll(() => fake.close());

describe('AzureTTSService', () => {
  it('posts escaped SSML with the documented headers, and streams the raw PCM back whole', async () => {
    const tts = new AzureTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'hi-IN-SwaraNeural', sampleRate: 16000 });
    const text = `Tom & Jerry's "order" <12> is on its way.`;
    const audio = await synthesizeAudio(tts, text);
    expect(audio).toEqual(fakeAzureSpeech(text, { sampleRate: 16000, voice: 'hi-IN-SwaraNeural' }));
    const request = fake.requests.at(-1)!;
    expect(request.chunksSent).toBeGreaterThan(1);
    expect(request.ssml).toEqual({ lang: 'hi-IN', voice: 'hi-IN-SwaraNeural', text });
    expect(request.auth).toEqual({ present: true, valid: true, via: 'key' });
    expect(request.headers['ocp-apim-subscription-key']).toBe('[redacted]');
    expect(request.headers['content-type']).toBe('application/ssml+xml');
    expect(request.headers['x-microsoft-outputformat']).toBe('raw-16khz-16bit-mono-pcm');
    expect(request.headers['user-agent']).toBe('piopiy-ai');
  });

  it('μ-law: asks for raw-8khz-8bit-mono-mulaw and decodes it; the language can differ from the voice’s', async () => {
    const tts = new AzureTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'en-US-AvaMultilingualNeural', language: 'ta-IN', encoding: 'mulaw' });
    expect(tts.sampleRate).toBe(8000);
    const audio = await synthesizeAudio(tts, 'Vanakkam.');
    expect(audio).toEqual(mulawToPcm(pcmToMulaw(fakeAzureSpeech('Vanakkam.', { sampleRate: 8000, voice: 'en-US-AvaMultilingualNeural' }))));
    expect(fake.requests.at(-1)?.outputFormat).toBe('raw-8khz-8bit-mono-mulaw');
    expect(fake.requests.at(-1)?.ssml?.lang).toBe('ta-IN');
  });

  it('a refused key is `auth` naming AZURE_SPEECH_KEY, without the key; a 429 keeps Retry-After; a bad voice is `bad-request`', async () => {
    const refused = await failureOf(() => synthesizeAudio(new AzureTTSService({ apiKey: BAD_KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([refused.code, refused.status, refused.vendorCode]).toEqual(['auth', 401, '401']);
    expect(refused.message).toContain('AZURE_SPEECH_KEY');
    expect(refused.message).not.toContain(BAD_KEY);
    fake.failSpeech({ error: 429, retryAfter: 4 });
    const limited = await failureOf(() => synthesizeAudio(new AzureTTSService({ apiKey: KEY, baseUrl: fake.baseUrl }), 'Hello.'));
    expect([limited.code, limited.retryAfterSecs, limited.retryable]).toEqual(['rate-limited', 4, true]);
    const bad = await failureOf(() => synthesizeAudio(new AzureTTSService({ apiKey: KEY, baseUrl: fake.baseUrl, voice: 'Jenny' }), 'Hello.'));
    expect([bad.code, bad.status]).toEqual(['bad-request', 400]);
    expect(bad.message).toContain('Unsupported voice');
  });

  it('the fake refuses what Azure refuses: another content type (415), no output format, a compressed one it does not emulate, bad XML', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${fake.baseUrl}/cognitiveservices/v1`, { method: 'POST', headers: { 'Ocp-Apim-Subscription-Key': KEY, 'User-Agent': 't', ...headers }, body });
    const ssml = "<speak version='1.0' xml:lang='en-US'><voice name='en-US-JennyNeural'>Hi</voice></speak>";
    expect((await post({ 'Content-Type': 'text/plain', 'X-Microsoft-OutputFormat': 'raw-8khz-16bit-mono-pcm' }, ssml)).status).toBe(415);
    expect((await post({ 'Content-Type': 'application/ssml+xml' }, ssml)).status).toBe(400);
    const mp3 = await post({ 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'audio-24khz-48kbitrate-mono-mp3' }, ssml);
    expect(await mp3.text()).toContain('not emulated');
    const unescaped = await post({ 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'raw-8khz-16bit-mono-pcm' }, ssml.replace('Hi', 'Tom & Jerry'));
    expect([unescaped.status, await unescaped.text()]).toEqual([400, expect.stringContaining('well-formed')]);
  });

  it('refuses bad options before any request: no region, a rate Azure does not make, μ-law at 16 kHz, no key', () => {
    expect(() => new AzureTTSService({ apiKey: KEY })).toThrow(/region is required/);
    expect(() => new AzureTTSService({ apiKey: KEY, region: 'eastus', sampleRate: 11025 as 8000 })).toThrow(/8000, 16000/);
    expect(() => new AzureTTSService({ apiKey: KEY, region: 'eastus', encoding: 'mulaw', sampleRate: 16000 })).toThrow(/8 kHz only/);
    expect(() => new AzureTTSService({ apiKey: '', region: 'eastus' })).toThrow(/AZURE_SPEECH_KEY/);
    expect(azureOutputFormat(22050, 'pcm')).toBe('raw-22050hz-16bit-mono-pcm');
  });
});
