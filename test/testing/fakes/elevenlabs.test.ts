// The fake ElevenLabs TTS WebSockets, driven by a bare `ws` client: handshake and auth, multi-context and
// single-stream flows, audio and alignment, limits, inactivity and the scripted failures.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesToInt16, concatInt16, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { fakeElevenLabsSpeech, startFakeElevenLabs, type FakeElevenLabs } from '../../../src/testing/fakes/elevenlabs.js';
import { extraFakes } from '../../support/extra-fakes.js';
import { connectJson, handshakeRejection, type Json, type JsonClient } from '../../support/fake-clients.js';
import { sleep, waitUntil } from '../../support/wait.js';

const KEY = 'xi_fake_test_key_123456';
const VOICE = 'voice-abc';
const MULTI = `/v1/text-to-speech/${VOICE}/multi-stream-input`;
const SINGLE = `/v1/text-to-speech/${VOICE}/stream-input`;
const PCM_QUERY = '?model_id=eleven_flash_v2_5&output_format=pcm_16000&auto_mode=true&sync_alignment=true';

let fake: FakeElevenLabs;
beforeEach(async () => {
  fake = await startFakeElevenLabs({ rejectKey: 'bad-key' });
});
afterEach(async () => {
  await fake.close();
});
const another = extraFakes(startFakeElevenLabs);

function connect(on: FakeElevenLabs, path = MULTI + PCM_QUERY, headers: Record<string, string> = { 'xi-api-key': KEY }): Promise<JsonClient> {
  return connectJson(`${on.baseUrl}${path}`, headers, (received) => JSON.stringify(received).slice(0, 300));
}

async function rejection(on: FakeElevenLabs, path: string, headers: Record<string, string>): Promise<{ status: number; body: unknown; headers: Record<string, unknown> }> {
  const { status, body, headers: answered } = await handshakeRejection(`${on.baseUrl}${path}`, headers);
  return { status, body: JSON.parse(body) as unknown, headers: answered };
}

type Alignment = { chars: string[]; charStartTimesMs: number[]; charDurationsMs: number[] };

const audioMessages = (messages: readonly Json[], contextId?: string): Json[] =>
  messages.filter((m) => typeof m.audio === 'string' && (contextId === undefined || m.contextId === contextId));
const pcmOf = (messages: readonly Json[]): Int16Array =>
  concatInt16(messages.map((m) => bytesToInt16(new Uint8Array(Buffer.from(m.audio as string, 'base64')))));

describe('fake ElevenLabs: handshake and auth', () => {
  it('refuses unknown paths, wrong header keys and scripted handshakes with the API error body', async () => {
    expect(await rejection(fake, '/v1/text-to-speech/x/other', { 'xi-api-key': KEY })).toMatchObject({ status: 404 });
    const badKey = await rejection(fake, MULTI + PCM_QUERY, { 'xi-api-key': 'bad-key' });
    expect(badKey.status).toBe(401);
    expect(badKey.body).toEqual({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    fake.failHandshake({ status: 429, retryAfter: 2 });
    const busy = await rejection(fake, MULTI + PCM_QUERY, { 'xi-api-key': KEY });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('2');
    expect(busy.body).toMatchObject({ detail: { status: 'too_many_concurrent_requests' } });
    expect(fake.connections.map((c) => [c.status, c.auth.valid])).toEqual([[404, true], [401, false], [429, true]]);
    expect(fake.connections[1]!.headers['xi-api-key']).toBe('[redacted]');
  });

  it('takes the key from the first message when the header is absent, and records it redacted', async () => {
    const client = await connect(fake, MULTI + PCM_QUERY, {});
    client.send({ text: ' ', context_id: 'c1', xi_api_key: KEY });
    client.send({ text: 'Hi. ', context_id: 'c1', flush: true });
    await client.waitFor((m) => typeof m.audio === 'string');
    expect(fake.connections[0]!.auth).toEqual({ present: true, valid: true, via: 'message' });
    expect(fake.messages()[0]).toEqual({ text: ' ', context_id: 'c1', xi_api_key: '[redacted]' });
    expect(JSON.stringify(fake.connections)).not.toContain(KEY);
    client.ws.close();

    const keyless = await connect(fake, MULTI + PCM_QUERY, {});
    keyless.send({ text: ' ', context_id: 'c1' });
    expect(await keyless.closed).toMatchObject({ code: 1008 });
    expect(keyless.received[0]).toMatchObject({ error: 'invalid_api_key', code: 1008 });
  });

  it('with badKeyAt "open", a wrong header key is refused in-band: error JSON, then close 1008', async () => {
    const inBand = await another({ rejectKey: 'bad-key', badKeyAt: 'open' });
    const client = await connect(inBand, MULTI + PCM_QUERY, { 'xi-api-key': 'bad-key' });
    expect(await client.closed).toEqual({ code: 1008, reason: 'Invalid API key' });
    expect(client.received).toEqual([{ message: 'Invalid API key', error: 'invalid_api_key', code: 1008 }]);
  });

  it('says which output formats it cannot emulate, and refuses unknown models', async () => {
    const mp3 = await connect(fake, `${MULTI}?model_id=eleven_flash_v2_5`);
    expect((await mp3.closed).code).toBe(1008);
    expect(mp3.received[0]!.message).toMatch(/^fake ElevenLabs server: output_format mp3_44100_128 is not emulated/);
    const model = await connect(fake, `${MULTI}?model_id=eleven_v3&output_format=pcm_16000`);
    expect((await model.closed).code).toBe(1008);
    expect(model.received[0]).toMatchObject({ error: 'model_not_found' });
  });
});

describe('fake ElevenLabs: multi-context', () => {
  it('a context: audio with alignment per message, isFinal only after close_context, which stops it', async () => {
    const client = await connect(fake);
    client.send({ text: ' ', context_id: 'c1', voice_settings: { stability: 0.5, similarity_boost: 0.8 } });
    client.send({ text: 'Hello there. ', context_id: 'c1', flush: true });
    await waitUntil(() => audioMessages(client.received, 'c1').length >= 3, 5000);
    const messages = audioMessages(client.received, 'c1');
    // "Hello there. ": 13 characters, four per message, the trailing space with the last one.
    expect(messages.map((m) => (m.alignment as Alignment).chars.join(''))).toEqual(['Hell', 'o th', 'ere. ']);
    expect(messages.every((m) => m.isFinal === null && m.contextId === 'c1')).toBe(true);
    expect(messages.map((m) => (m.alignment as Alignment).charStartTimesMs)).toEqual([[0, 60, 120, 180], [0, 60, 120, 180], [0, 60, 120, 180, 240]]);
    expect(messages[0]!.normalizedAlignment).toEqual(messages[0]!.alignment);
    expect(pcmOf(messages)).toEqual(fakeElevenLabsSpeech('Hello there. ', { sampleRate: 16000, voiceId: VOICE }));
    expect(client.received.some((m) => m.isFinal === true)).toBe(false);

    client.send({ text: 'Bye. ', context_id: 'c1', flush: true });
    await client.waitFor((m) => (m.alignment as Alignment | undefined)?.chars.join('') === 'Bye. ');
    client.send({ context_id: 'c1', close_context: true });
    const final = await client.waitFor((m) => m.isFinal === true);
    expect(final).toEqual({ isFinal: true, contextId: 'c1' });
    expect(fake.contexts[0]).toMatchObject({
      contextId: 'c1',
      texts: [' ', 'Hello there. ', 'Bye. '],
      generations: ['Hello there. ', 'Bye. '],
      flushes: 2,
      outcome: 'closed',
      voiceSettings: { stability: 0.5, similarity_boost: 0.8 },
    });
    // A context closed mid-generation sends nothing more.
    const long = 'A much longer sentence that gets cut off. ';
    client.send({ text: ' ', context_id: 'c2' });
    client.send({ text: long, context_id: 'c2', flush: true });
    await client.waitFor((m) => m.contextId === 'c2' && typeof m.audio === 'string');
    client.send({ context_id: 'c2', close_context: true });
    await client.waitFor((m) => m.isFinal === true && m.contextId === 'c2');
    const count = audioMessages(client.received, 'c2').length;
    // The same sentence in another context, started after the close: were c2 still speaking, its chunks would come
    // between c3's (the same pace, and fewer of them left).
    client.send({ text: ' ', context_id: 'c3' });
    client.send({ text: long, context_id: 'c3', flush: true });
    const full = fakeElevenLabsSpeech(long, { sampleRate: 16000, voiceId: VOICE }).length;
    await waitUntil(() => pcmOf(audioMessages(client.received, 'c3')).length === full, 5000);
    expect(audioMessages(client.received, 'c3')).toHaveLength(11);
    const c3Starts = client.received.findIndex((m) => m.contextId === 'c3');
    expect(client.received.slice(c3Starts).filter((m) => m.contextId !== 'c3')).toEqual([]);
    expect(audioMessages(client.received, 'c2').length).toBe(count);
    expect(count).toBeLessThan(11);
    client.ws.close();
  });

  it('counts alignment from the context start when asked, and encodes μ-law', async () => {
    const absolute = await another({ alignmentTimeBase: 'context', charsPerChunk: 3 });
    const client = await connect(absolute, `${MULTI}?model_id=eleven_flash_v2_5&output_format=ulaw_8000&auto_mode=true`);
    client.send({ text: ' ', context_id: 'c1' });
    client.send({ text: 'One two. ', context_id: 'c1' });
    client.send({ text: 'Three. ', context_id: 'c1' });
    await client.waitFor((m) => (m.alignment as Alignment | undefined)?.chars.join('').endsWith('. ') === true && (m.alignment as Alignment).chars.includes('T') === false && audioMessages(client.received).length >= 5);
    await waitUntil(() => audioMessages(client.received).flatMap((m) => (m.alignment as Alignment).charStartTimesMs).length >= 16, 5000);
    const starts = audioMessages(client.received).flatMap((m) => (m.alignment as Alignment).charStartTimesMs);
    expect(starts).toEqual(Array.from({ length: 16 }, (_, i) => i * 60));
    const audio = concatInt16(audioMessages(client.received).map((m) => mulawToPcm(Buffer.from(m.audio as string, 'base64'))));
    const expected = concatInt16([
      fakeElevenLabsSpeech('One two. ', { sampleRate: 8000, voiceId: VOICE }),
      fakeElevenLabsSpeech('Three. ', { sampleRate: 8000, voiceId: VOICE }),
    ]);
    expect(audio).toEqual(mulawToPcm(pcmToMulaw(expected)));
    client.ws.close();
  });

  it('without auto_mode, buffers text until the chunk length schedule is passed or a flush', async () => {
    const client = await connect(fake, `${MULTI}?model_id=eleven_flash_v2_5&output_format=pcm_16000`);
    client.send({ text: ' ', context_id: 'c1', generation_config: { chunk_length_schedule: [50] } });
    // The fake acts on a message as it records it: once it has it, what it decided can be read.
    const handled = (predicate: (json: Record<string, unknown>) => boolean) =>
      fake.waitForMessage((json) => typeof json === 'object' && json !== null && predicate(json as Record<string, unknown>));
    client.send({ text: 'Short text. ', context_id: 'c1' });
    await handled((json) => json.text === 'Short text. ');
    expect(fake.contexts[0]!.generations).toEqual([]);
    client.send({ text: 'And now enough text to pass fifty characters. ', context_id: 'c1' });
    await client.waitFor((m) => typeof m.audio === 'string');
    client.send({ text: 'Tail. ', context_id: 'c1' });
    await handled((json) => json.text === 'Tail. ');
    expect(fake.contexts[0]!.generations).toEqual(['Short text. And now enough text to pass fifty characters. ']);
    client.send({ context_id: 'c1', flush: true });
    // The flushed tail is generated after the generation still streaming.
    await waitUntil(() => fake.contexts[0]!.generations.length === 2, 5000);
    expect(fake.contexts[0]!.generations).toEqual(['Short text. And now enough text to pass fifty characters. ', 'Tail. ']);
    client.ws.close();
  });

  it('rejects voice settings after a context opened, and bad ones; close_context of an unknown context is an error', async () => {
    const client = await connect(fake);
    client.send({ context_id: 'ghost', close_context: true });
    const ghost = await client.waitFor((m) => m.error === 'context_not_found');
    expect(ghost).toMatchObject({ contextId: 'ghost', code: 1008 });
    client.send({ text: ' ', context_id: 'c1' });
    client.send({ text: 'Hi. ', context_id: 'c1', voice_settings: { stability: 0.5 } });
    expect((await client.closed).code).toBe(1008);
    expect(client.received.at(-1)!.message).toBe('voice_settings can only be sent with the first message of a context.');

    const other = await connect(fake);
    other.send({ text: ' ', context_id: 'c2', voice_settings: { speed: 3 } });
    expect((await other.closed).code).toBe(1008);
    expect(other.received[0]!.message).toBe('voice_settings.speed must be a number from 0.7 to 1.2.');
  });

  it('allows five contexts per socket', async () => {
    const client = await connect(fake);
    for (let i = 1; i <= 6; i++) client.send({ text: ' ', context_id: `c${i}` });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.received.at(-1)).toMatchObject({ error: 'max_active_conversations' });
    expect(fake.contexts).toHaveLength(5);
  });

  it('closes after the inactivity timeout (error JSON, then 1008); keep-alives reset it', async () => {
    // The socket's own timing is the subject: real time. Four keep-alives 30 ms apart, then silence.
    const quick = await another({ inactivityTimeoutMs: 500 });
    const client = await connect(quick);
    client.send({ text: ' ', context_id: 'c1' });
    let lastAt = performance.now();
    for (let i = 0; i < 4; i++) {
      await sleep(30);
      client.send({ text: '', context_id: 'c1' });
      lastAt = performance.now();
    }
    const closed = await client.closed;
    const closedAt = performance.now();
    // Closed no sooner than the timeout after the last keep-alive (the fake received it after it was sent): each
    // one reset the timer, and the socket stayed open while they came (a lower bound, which a busy machine can
    // only lengthen). Without the resets it would close 500 ms after the first message, some 380 ms after the last.
    expect(closedAt - lastAt).toBeGreaterThanOrEqual(500 - 2);
    expect(quick.contexts[0]!.generations).toEqual([]);
    expect(closed.code).toBe(1008);
    // The message as the reason, cut to the 123 bytes a close frame allows.
    expect(closed.reason).toMatch(/^Have not received a new text input within the timeout of 0\.5 seconds\. Streaming input terminated\./);
    expect(Buffer.byteLength(closed.reason)).toBe(123);
    expect(client.received.at(-1)).toMatchObject({ error: 'input_timeout_exceeded', code: 1008 });
    expect(quick.contexts[0]!.outcome).toBe('timeout');
  });

  it('close_socket ends every context with isFinal, then closes 1000', async () => {
    const client = await connect(fake);
    client.send({ text: ' ', context_id: 'a' });
    client.send({ text: ' ', context_id: 'b' });
    client.send({ close_socket: true });
    expect((await client.closed).code).toBe(1000);
    expect(client.received).toEqual([{ isFinal: true, contextId: 'a' }, { isFinal: true, contextId: 'b' }]);
  });
});

describe('fake ElevenLabs: single stream', () => {
  it('needs the opening space; the empty text ends the input: the rest, isFinal, close 1000', async () => {
    const wrong = await connect(fake, SINGLE + PCM_QUERY);
    wrong.send({ text: 'Hello.' });
    expect((await wrong.closed).code).toBe(1008);

    const client = await connect(fake, `${SINGLE}?model_id=eleven_flash_v2_5&output_format=pcm_16000`);
    client.send({ text: ' ' });
    client.send({ text: 'Hello world. ' });
    client.send({ text: '' });
    expect((await client.closed).code).toBe(1000);
    const audio = audioMessages(client.received);
    expect(audio.every((m) => !('contextId' in m))).toBe(true);
    expect(pcmOf(audio)).toEqual(fakeElevenLabsSpeech('Hello world. ', { sampleRate: 16000, voiceId: VOICE }));
    expect(client.received.at(-1)).toEqual({ isFinal: true });
  });
});

describe('fake ElevenLabs: scripted failures', () => {
  it('drops the socket mid-audio, or sends an error about a context without closing', async () => {
    fake.failGeneration({ error: 'quota_exceeded', message: 'Quota exceeded.', inContext: true, close: false, afterChunks: 1 }, { drop: true, afterChunks: 2 });
    const client = await connect(fake);
    client.send({ text: ' ', context_id: 'c1' });
    client.send({ text: 'First sentence. ', context_id: 'c1', flush: true });
    const error = await client.waitFor((m) => m.error === 'quota_exceeded');
    expect(error).toEqual({ message: 'Quota exceeded.', error: 'quota_exceeded', code: 1008, contextId: 'c1' });
    expect(audioMessages(client.received)).toHaveLength(1);
    client.send({ text: ' ', context_id: 'c2' });
    client.send({ text: 'Second sentence. ', context_id: 'c2', flush: true });
    expect((await client.closed).code).toBe(1006);
    expect(audioMessages(client.received, 'c2')).toHaveLength(2);
    expect(fake.contexts.map((c) => c.outcome)).toEqual(['error', 'dropped']);
  });
});
