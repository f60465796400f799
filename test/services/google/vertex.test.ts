// GoogleVertexLLMService: what differs from the Gemini API client — the Vertex path, the bearer token asked for
// every request, the global host, errors naming Vertex AI — against the Gemini fake's Vertex path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleVertexLLMService, type GoogleVertexLLMServiceOptions } from '../../../src/services/google/index.js';
import { startFakeGemini, type FakeGemini } from '../../../src/testing/fakes/gemini.js';
import { ask, collect, failure, textOf } from '../../support/llm-stream.js';

const TOKEN = 'ya29.fake-SECRET-token-0123456789';
const BAD_TOKEN = 'ya29.refused-SECRET-9876543210';

let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini({ rejectKey: BAD_TOKEN });
});
afterAll(() => fake.close());

const make = (options: Partial<GoogleVertexLLMServiceOptions> = {}): GoogleVertexLLMService =>
  new GoogleVertexLLMService({ project: 'my-project', location: 'asia-south1', getAccessToken: () => TOKEN, baseURL: fake.origin, ...options });

describe('GoogleVertexLLMService', () => {
  it('streams from the Vertex path with a bearer token asked for every request, the same body as the Gemini API', async () => {
    let asked = 0;
    const service = make({ model: 'gemini-2.5-flash', getAccessToken: async () => (++asked, TOKEN) });
    fake.enqueue({ text: 'Namaste, how can I help?' }, { text: 'Again.' });
    expect(textOf(await collect(service, ask('Hi')))).toBe('Namaste, how can I help?');
    await collect(service, ask('Hi'));
    expect(asked).toBe(2);
    const request = fake.requests.at(-1)!;
    expect(request.path).toBe('/v1/projects/my-project/locations/asia-south1/publishers/google/models/gemini-2.5-flash:streamGenerateContent');
    expect(request.query).toEqual({ alt: 'sse' });
    expect(request.auth).toEqual({ present: true, valid: true, via: 'bearer' });
    expect(request.headers['x-goog-api-key']).toBeUndefined();
    expect(request.vertex).toEqual({ project: 'my-project', location: 'asia-south1' });
  });

  it('builds the regional host, or the global one for location "global"', () => {
    const endpoint = (service: GoogleVertexLLMService) => (service as unknown as { endpoint: string }).endpoint;
    expect(endpoint(new GoogleVertexLLMService({ project: 'p1', getAccessToken: () => TOKEN, model: 'gemini-2.5-flash' }))).toBe(
      'https://us-central1-aiplatform.googleapis.com/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    expect(endpoint(new GoogleVertexLLMService({ project: 'p1', location: 'global', getAccessToken: () => TOKEN, model: 'gemini-2.5-flash' }))).toMatch(
      /^https:\/\/aiplatform\.googleapis\.com\/v1\/projects\/p1\/locations\/global\//,
    );
    expect(() => new GoogleVertexLLMService({ project: '', getAccessToken: () => TOKEN })).toThrow(/project is required/);
  });

  it('a refused token is 401 UNAUTHENTICATED: `auth` naming Vertex AI, without the token; a failing supplier is `auth` too', async () => {
    const refused = await failure(make({ getAccessToken: () => BAD_TOKEN }));
    expect(refused).toMatchObject({ service: 'Vertex AI', status: 401, code: 'auth', retryable: false });
    expect(`${refused.message}${String(refused.stack)}`).not.toContain(BAD_TOKEN);
    const before = fake.requests.length;
    const broken = await failure(make({ getAccessToken: () => Promise.reject(new Error('metadata server unreachable')) }));
    expect(broken).toMatchObject({ service: 'Vertex AI', code: 'auth', retryable: false });
    expect(fake.requests.length).toBe(before);
  });
});
