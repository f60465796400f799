// The fake Cartesia TTS WebSocket, driven by a bare `ws` client: the handshake rules, the generation protocol
// (continue, flush, done, cancel, expiry), the audio and timestamps, and the scripted failures.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesToInt16, concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { fakeCartesiaSpeech, startFakeCartesia, type FakeCartesia } from '../../../src/testing/fakes/cartesia.js';
import { extraFakes } from '../../support/extra-fakes.js';
import { connectJson, handshakeRejection, type Json, type JsonClient } from '../../support/fake-clients.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'sk_car_fake_test_key_123';
const VOICE = 'voice-1';

let fake: FakeCartesia;
beforeEach(async () => {
  fake = await startFakeCartesia({ rejectKey: 'bad-key' });
});
afterEach(async () => {
  await fake.close();
});
const another = extraFakes(startFakeCartesia);

function connect(on: FakeCartesia, options: { headers?: Record<string, string>; query?: string } = {}): Promise<JsonClient> {
  const headers = options.headers ?? { 'X-API-Key': KEY, 'Cartesia-Version': '2025-04-16' };
  return connectJson(`${on.baseUrl}/tts/websocket${options.query ?? ''}`, headers, (received) => JSON.stringify(received.map((m) => m.type)));
}

/** The status, headers and body a rejected handshake answered with. */
function rejection(on: FakeCartesia, headers: Record<string, string>, path = '/tts/websocket'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return handshakeRejection(`${on.baseUrl}${path}`, headers);
}

const request = (fields: Json = {}): Json => ({
  model_id: 'sonic-3',
  voice: { mode: 'id', id: VOICE },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  language: 'en',
  context_id: 'ctx-1',
  add_timestamps: true,
  ...fields,
});

const audioOf = (messages: readonly Json[], contextId = 'ctx-1', encoding = 'pcm_s16le'): Int16Array =>
  concatInt16(
    messages
      .filter((m) => m.type === 'chunk' && m.context_id === contextId)
      .map((m) => {
        const bytes = Buffer.from(m.data as string, 'base64');
        return encoding === 'pcm_mulaw' ? mulawToPcm(bytes) : bytesToInt16(new Uint8Array(bytes));
      }),
  );

describe('fake Cartesia: handshake', () => {
  it('needs a key and a version; old versions answer errors in text, new ones in JSON', async () => {
    const missingKey = await rejection(fake, { 'Cartesia-Version': '2025-04-16' });
    expect(missingKey.status).toBe(401);
    expect(missingKey.body).toBe('Missing API key: Provide your API key in the X-API-Key header.');
    const badKey = await rejection(fake, { 'X-API-Key': 'bad-key', 'Cartesia-Version': '2026-03-01' });
    expect(badKey.status).toBe(401);
    expect(badKey.headers['content-type']).toBe('application/json');
    expect(JSON.parse(badKey.body)).toMatchObject({ error_code: 'invalid_api_key', title: 'Invalid API key', message: 'The API key provided is not valid.' });
    const noVersion = await rejection(fake, { 'X-API-Key': KEY });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body).toMatch(/^Missing Cartesia-Version/);
    const badVersion = await rejection(fake, { 'X-API-Key': KEY, 'Cartesia-Version': 'latest' });
    expect(badVersion.status).toBe(400);
    expect((await rejection(fake, { 'X-API-Key': KEY, 'Cartesia-Version': '2025-04-16' }, '/tts/sockets')).status).toBe(404);
    expect(fake.connections.map((c) => [c.status, c.auth.present, c.auth.valid])).toEqual([
      [401, false, false], [401, true, false], [400, true, true], [400, true, true], [404, true, true],
    ]);
    expect(fake.connections[1]!.headers['x-api-key']).toBe('[redacted]');
  });

  it('accepts the key as a Bearer token or in the query (the query version winning), and records no secret', async () => {
    const bearer = await connect(fake, { headers: { Authorization: `Bearer ${KEY}`, 'Cartesia-Version': '2025-11-04' } });
    const query = await connect(fake, { headers: { 'Cartesia-Version': '2024-06-10' }, query: `?api_key=${KEY}&cartesia_version=2026-03-01` });
    bearer.ws.close();
    query.ws.close();
    expect(fake.connections.map((c) => [c.auth.via, c.version, c.status])).toEqual([
      ['bearer', '2025-11-04', 101],
      ['api_key', '2026-03-01', 101],
    ]);
    expect(fake.connections[0]!.headers.authorization).toBe('[redacted]');
    expect(fake.connections[1]!.query).toEqual({ api_key: '[redacted]', cartesia_version: '2026-03-01' });
    expect(JSON.stringify(fake.connections)).not.toContain(KEY);
  });

  it('rejects scripted handshakes with the status and Retry-After asked for', async () => {
    fake.failHandshake({ status: 429, retryAfter: 3 });
    const rejected = await rejection(fake, { 'X-API-Key': KEY, 'Cartesia-Version': '2026-03-01' });
    expect(rejected.status).toBe(429);
    expect(rejected.headers['retry-after']).toBe('3');
    expect(JSON.parse(rejected.body)).toMatchObject({ error_code: 'concurrency_limited' });
    const next = await connect(fake);
    next.ws.close();
    expect(fake.connections.map((c) => c.status)).toEqual([429, 101]);
  });
});

describe('fake Cartesia: generation', () => {
  it('a flushed sentence: chunks of audio, timestamps in audio time, flush_done; done only after continue:false', async () => {
    const client = await connect(fake);
    client.send(request({ transcript: 'Hello there, ', continue: true }));
    client.send(request({ transcript: 'caller. ', continue: true }));
    client.send(request({ transcript: '', continue: true, flush: true }));
    const flushDone = await client.waitFor((m) => m.type === 'flush_done');
    expect(flushDone).toEqual({ type: 'flush_done', done: false, flush_done: true, flush_id: 1, status_code: 206, context_id: 'ctx-1' });
    const text = 'Hello there, caller.';
    expect(audioOf(client.received)).toEqual(fakeCartesiaSpeech(text, { sampleRate: 16000, voiceId: VOICE }));
    // 20 characters at 60 ms: 1.2 s, in 40 ms chunks, each carrying the flush id, before the flush_done.
    const chunks = client.received.filter((m) => m.type === 'chunk');
    expect(chunks).toHaveLength(30);
    expect(chunks.every((m) => m.flush_id === 1 && m.done === false && m.status_code === 206)).toBe(true);
    expect(client.received.indexOf(flushDone)).toBe(client.received.length - 1);
    const timestamps = client.received.filter((m) => m.type === 'timestamps').map((m) => m.word_timestamps as { words: string[]; start: number[]; end: number[] });
    expect(timestamps.flatMap((t) => t.words)).toEqual(['Hello', 'there,', 'caller.']);
    expect(timestamps.flatMap((t) => t.start)).toEqual([0, 0.36, 0.78]);
    expect(timestamps.flatMap((t) => t.end)).toEqual([0.3, 0.72, 1.2]);
    // Each timestamps message follows the chunk its words start in.
    const firstTimestamps = client.received.findIndex((m) => m.type === 'timestamps');
    expect(client.received[firstTimestamps - 1]?.type).toBe('chunk');
    expect(client.received.some((m) => m.type === 'done')).toBe(false);

    client.send(request({ transcript: 'Bye.', continue: false }));
    const done = await client.waitFor((m) => m.type === 'done');
    expect(done).toEqual({ type: 'done', done: true, status_code: 206, context_id: 'ctx-1' });
    // The second generation continues the context's audio clock and carries the next flush id.
    const second = client.received.filter((m) => m.type === 'timestamps').at(-1)!.word_timestamps as { start: number[] };
    expect(second.start).toEqual([1.2]);
    expect(client.received.filter((m) => m.type === 'chunk').at(-1)!.flush_id).toBe(2);
    expect(fake.contexts[0]).toMatchObject({ contextId: 'ctx-1', generations: ['Hello there, caller.', 'Bye.'], flushes: 1, outcome: 'done' });
    client.ws.close();
  });

  it('encodes μ-law at 8 kHz', async () => {
    const client = await connect(fake);
    client.send(request({ transcript: 'Hi there.', output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 } }));
    await client.waitFor((m) => m.type === 'done');
    const expected = fakeCartesiaSpeech('Hi there.', { sampleRate: 8000, voiceId: VOICE });
    expect(audioOf(client.received, 'ctx-1', 'pcm_mulaw')).toEqual(mulawToPcm(pcmToMulaw(expected)));
    expect(expected.length).toBe(9 * 60 * 8);
    client.ws.close();
  });

  it('cancel stops a context at once, without an answer; later input to it is an error', async () => {
    const slow = await another({ chunkDelayMs: 5 });
    const client = await connect(slow);
    const long = 'A rather long sentence to be cut short by the caller.';
    client.send(request({ transcript: long, continue: true, flush: true }));
    await client.waitFor((m) => m.type === 'chunk');
    client.send({ context_id: 'ctx-1', cancel: true });
    client.send({ context_id: 'nobody', cancel: true });
    // Another generation, asked for after the cancels: were ctx-1 still speaking, its chunks (at the same pace)
    // would come between ctx-2's.
    client.send(request({ transcript: 'Meanwhile, this.', continue: false, context_id: 'ctx-2' }));
    await client.waitFor((m) => m.type === 'done' && m.context_id === 'ctx-2');
    const ctx2Starts = client.received.findIndex((m) => m.context_id === 'ctx-2');
    expect(client.received[ctx2Starts]?.type).toBe('chunk');
    expect(client.received.slice(ctx2Starts).filter((m) => m.context_id !== 'ctx-2')).toEqual([]);
    // No answer to either cancel: only ctx-1's audio before it, cut short.
    const others = client.received.filter((m) => m.context_id !== 'ctx-2');
    expect(others.every((m) => m.context_id === 'ctx-1' && (m.type === 'chunk' || m.type === 'timestamps'))).toBe(true);
    expect(audioOf(client.received).length).toBeLessThan(fakeCartesiaSpeech(long, { sampleRate: 16000, voiceId: VOICE }).length);
    expect(slow.contexts[0]!.outcome).toBe('cancelled');
    client.send(request({ transcript: 'More.', continue: false }));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error).toMatchObject({ context_id: 'ctx-1', status_code: 400, done: true, error_code: 'invalid_context', title: 'Invalid context' });
    expect(error.error).toBe(error.message);
    client.ws.close();
  });

  it('an idle context expires after contextExpiryMs', async () => {
    const quick = await another({ contextExpiryMs: 30 });
    const client = await connect(quick);
    client.send(request({ transcript: 'One. ', continue: true }));
    client.send(request({ transcript: '', continue: true, flush: true }));
    await client.waitFor((m) => m.type === 'flush_done');
    await waitUntil(() => quick.contexts[0]!.outcome === 'expired', 5000);
    client.send(request({ transcript: 'Two.', continue: false }));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error.message).toBe('Context ctx-1 has expired; start a new context_id.');
    expect(quick.contexts[0]!.outcome).toBe('expired');
    client.ws.close();
  });

  it('generates buffered text after max_buffer_delay_ms without a flush', async () => {
    const client = await connect(fake);
    const sentAt = performance.now();
    client.send(request({ transcript: 'Buffered. ', continue: true, max_buffer_delay_ms: 50 }));
    await client.waitFor((m) => m.type === 'chunk');
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(45);
    client.send(request({ transcript: 'Right away.', continue: true, max_buffer_delay_ms: 50, flush: true }));
    await client.waitFor((m) => m.type === 'flush_done');
    expect(fake.contexts[0]!.generations).toEqual(['Buffered.', 'Right away.']);
    client.ws.close();
  });

  it('validates requests with error events carrying both error shapes', async () => {
    const client = await connect(fake);
    client.send(request({ transcript: 'x', voice: undefined, context_id: 'a' }));
    client.send(request({ transcript: 'x', output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 16000 }, context_id: 'b' }));
    client.send(request({ transcript: 'x', output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 11025 }, context_id: 'c' }));
    client.send(request({ transcript: 'Hi. ', continue: true, context_id: 'd' }));
    client.send(request({ transcript: 'Again.', continue: true, context_id: 'd', language: 'fr' }));
    client.ws.send('not json');
    await client.waitFor((m) => m.type === 'error' && m.context_id === undefined);
    await client.waitFor((m) => m.type === 'error' && m.context_id === 'd');
    const errors = client.received.filter((m) => m.type === 'error');
    expect(errors.map((m) => [m.context_id, m.message])).toEqual([
      ['a', 'voice is required'],
      ['b', 'output_format.container must be "raw" on the WebSocket, got "wav"'],
      ['c', 'output_format.sample_rate must be one of 8000, 16000, 22050, 24000, 44100, 48000'],
      ['d', 'all fields except transcript, continue and flush must stay the same within a context'],
      [undefined, 'message must be a JSON object'],
    ]);
    for (const error of errors) {
      expect(error).toMatchObject({ type: 'error', status_code: 400, done: true, error_code: 'invalid_request', title: 'Invalid request' });
      expect(error.error).toBe(error.message);
      expect(typeof error.request_id).toBe('string');
    }
    expect(fake.messages()).toHaveLength(5);
    client.ws.close();
  });

  it('limits active contexts with a 429 error event', async () => {
    const limited = await another({ maxConcurrentContexts: 1 });
    const client = await connect(limited);
    client.send(request({ transcript: 'First. ', continue: true, context_id: 'one' }));
    client.send(request({ transcript: 'Second.', context_id: 'two' }));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error).toMatchObject({ context_id: 'two', status_code: 429, error_code: 'concurrency_limited' });
    client.ws.close();
  });
});

describe('fake Cartesia: scripted failures', () => {
  it('drops the socket mid-generation (the client sees 1006)', async () => {
    fake.failGeneration({ drop: true, afterChunks: 3 });
    const client = await connect(fake);
    client.send(request({ transcript: 'This will be cut.', continue: false }));
    const closed = await client.closed;
    expect(closed.code).toBe(1006);
    expect(client.received.filter((m) => m.type === 'chunk')).toHaveLength(3);
    expect(fake.connections[0]!.close?.by).toBe('dropped');
    expect(fake.contexts[0]!.outcome).toBe('dropped');
  });

  it('sends an in-stream error, or closes with a code', async () => {
    fake.failGeneration({ error: 429, afterChunks: 1 }, { close: 1011, reason: 'internal error' });
    const client = await connect(fake);
    client.send(request({ transcript: 'Error here.', continue: false }));
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error).toMatchObject({ status_code: 429, error_code: 'concurrency_limited', done: true, context_id: 'ctx-1' });
    expect(client.received.filter((m) => m.type === 'chunk')).toHaveLength(1);
    expect(client.received.some((m) => m.type === 'done')).toBe(false);
    client.send(request({ transcript: 'Close here.', context_id: 'ctx-2' }));
    expect(await client.closed).toEqual({ code: 1011, reason: 'internal error' });
  });

  it('closes sockets idle for idleTimeoutMs', async () => {
    const quick = await another({ idleTimeoutMs: 40 });
    const client = await connect(quick);
    expect(await client.closed).toEqual({ code: 1000, reason: 'Connection idle for too long' });
    expect(quick.connections[0]!.close?.by).toBe('server');
  });

  it('records every client frame, binary ones included, and waits for messages', async () => {
    const client = await connect(fake);
    const waiting = fake.waitForMessage((m) => (m as Json).cancel === true);
    client.ws.send(Buffer.from([1, 2, 3]));
    client.send({ context_id: 'x', cancel: true });
    const message = await waiting;
    expect(message.json).toEqual({ context_id: 'x', cancel: true });
    expect(fake.connections[0]!.received.map((m) => m.binary)).toEqual([true, false]);
    const error = await client.waitFor((m) => m.type === 'error');
    expect(error.message).toBe('binary messages are not supported; send JSON text messages');
    client.ws.close();
  });
});
