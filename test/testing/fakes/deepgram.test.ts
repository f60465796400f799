import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { int16ToBytes, mulawToPcm, pcmToMulaw } from '../../../src/audio/index.js';
import { fakeDeepgramSpeechAudio, startFakeDeepgram, type FakeDeepgram, type FakeDeepgramOptions } from '../../../src/testing/fakes/deepgram.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'dg-test-key-0123456789';
const BAD_KEY = 'dg-bad-key-9876543210';

let fake: FakeDeepgram;
async function restart(options: FakeDeepgramOptions = {}): Promise<void> {
  await fake.close();
  fake = await startFakeDeepgram({ rejectKey: BAD_KEY, ...options });
}
beforeEach(async () => {
  fake = await startFakeDeepgram({ rejectKey: BAD_KEY });
});
afterEach(async () => {
  await fake.close();
});

function tone(ms: number, rate: number, amplitude = 6000): Int16Array {
  const out = new Int16Array(Math.round((ms * rate) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / rate));
  return out;
}
const silence = (ms: number, rate: number): Int16Array => new Int16Array(Math.round((ms * rate) / 1000));

type Message = Record<string, unknown> & { type: string };

interface Client {
  ws: WebSocket;
  messages: Message[];
  binary: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  /** Sends audio in 20 ms frames. */
  sendAudio(samples: Int16Array, rate: number): void;
  send(message: object): void;
  waitFor(predicate: (m: Message) => boolean): Promise<Message>;
}

const until = (predicate: () => boolean, timeoutMs = 3000): Promise<void> => waitUntil(predicate, timeoutMs, 2);

async function connect(path: string, query: string, options: { key?: string; protocols?: string[] } = {}): Promise<Client> {
  const ws = new WebSocket(`${fake.url}${path}?${query}`, options.protocols ?? [], {
    headers: options.protocols === undefined ? { Authorization: `Token ${options.key ?? KEY}` } : {},
  });
  const messages: Message[] = [];
  const binary: Buffer[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('message', (data, isBinary) => {
    if (isBinary) binary.push(data as Buffer);
    else messages.push(JSON.parse((data as Buffer).toString('utf8')) as Message);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    binary,
    closed,
    sendAudio(samples, rate) {
      const step = (rate * 20) / 1000;
      for (let at = 0; at < samples.length; at += step) ws.send(int16ToBytes(samples.slice(at, at + step)), { binary: true });
    },
    send: (message) => ws.send(JSON.stringify(message)),
    async waitFor(predicate) {
      await until(() => messages.some(predicate));
      return messages.find(predicate)!;
    },
  };
}

/** The HTTP answer to a refused handshake. */
function handshakeRefusal(path: string, query: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${fake.url}${path}?${query}`, { headers });
    ws.on('open', () => reject(new Error('handshake unexpectedly accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) });
        ws.terminate();
      });
    });
  });
}

const LISTEN_QUERY = 'model=nova-3&language=en-US&encoding=linear16&sample_rate=16000&channels=1&interim_results=true&punctuate=true&smart_format=true&endpointing=300&utterance_end_ms=1000&vad_events=true';

type Results = Message & {
  start: number;
  duration: number;
  is_final: boolean;
  speech_final: boolean;
  from_finalize: boolean;
  channel: { alternatives: { transcript: string; words: { word: string; punctuated_word?: string; start: number; end: number }[] }[] };
};
const results = (client: Client): Results[] => client.messages.filter((m): m is Results => m.type === 'Results');
const transcriptOf = (r: Results): string => r.channel.alternatives[0]!.transcript;

describe('fake Deepgram /v1/listen handshake', () => {
  it('accepts `Authorization: Token`, records the query and never the key', async () => {
    const client = await connect('/v1/listen', `${LISTEN_QUERY}&keyterm=Piopiy&keyterm=TeleCMI`);
    const session = fake.listenSessions[0]!;
    expect(session.request.auth).toEqual({ present: true, valid: true, scheme: 'token', viaSubprotocol: false });
    expect(session.request.status).toBe(101);
    expect(session.request.query).toMatchObject({ model: 'nova-3', sample_rate: '16000', keyterm: ['Piopiy', 'TeleCMI'] });
    expect(session.request.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(fake.requests)).not.toContain(KEY);
    expect([session.sampleRate, session.encoding, session.model]).toEqual([16000, 'linear16', 'nova-3']);
    client.ws.close();
  });

  it('accepts the browser form (`token`, key subprotocols) and echoes `token`', async () => {
    const client = await connect('/v1/listen', LISTEN_QUERY, { protocols: ['token', KEY] });
    expect(client.ws.protocol).toBe('token');
    const request = fake.listenSessions[0]!.request;
    expect(request.auth).toMatchObject({ valid: true, viaSubprotocol: true });
    expect(request.headers['sec-websocket-protocol']).toBe('token, [redacted]');
    client.ws.close();
  });

  it('refuses a bad key with 401 and Deepgram body and headers', async () => {
    const refusal = await handshakeRefusal('/v1/listen', LISTEN_QUERY, { Authorization: `Token ${BAD_KEY}` });
    expect(refusal.status).toBe(401);
    expect(refusal.body).toMatchObject({ err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.' });
    expect(refusal.headers['dg-error']).toBe('Invalid credentials.');
    expect(refusal.headers['dg-request-id']).toBe((refusal.body as { request_id: string }).request_id);
    expect(fake.requests[0]!.auth.valid).toBe(false);
    const missing = await handshakeRefusal('/v1/listen', LISTEN_QUERY, {});
    expect(missing.status).toBe(401);
    expect(fake.requests[1]!.auth.present).toBe(false);
  });

  it('answers 400 for a raw encoding without sample_rate, and for bad booleans', async () => {
    const noRate = await handshakeRefusal('/v1/listen', 'encoding=linear16&model=nova-3', { Authorization: `Token ${KEY}` });
    expect(noRate.status).toBe(400);
    expect((noRate.body as { err_msg: string }).err_msg).toContain('sample_rate');
    const badBool = await handshakeRefusal('/v1/listen', `${LISTEN_QUERY}&diarize=yes`, { Authorization: `Token ${KEY}` });
    expect(badBool.status).toBe(400);
  });

  it('fails scripted handshakes, then accepts again', async () => {
    fake.failNextConnections(429, 1, '/v1/listen');
    const refusal = await handshakeRefusal('/v1/listen', LISTEN_QUERY, { Authorization: `Token ${KEY}` });
    expect(refusal.status).toBe(429);
    expect(refusal.body).toMatchObject({ err_code: 'TOO_MANY_REQUESTS' });
    const client = await connect('/v1/listen', LISTEN_QUERY);
    expect(fake.listenSessions).toHaveLength(1);
    client.ws.close();
  });
});

describe('fake Deepgram /v1/listen stream', () => {
  it('transcribes speech where it is: SpeechStarted, interims, speech_final after the pause, UtteranceEnd', async () => {
    await restart({ interimIntervalMs: 400 });
    fake.scriptTranscripts('Hello there, how are you today?');
    const client = await connect('/v1/listen', LISTEN_QUERY);
    client.sendAudio(silence(300, 16000), 16000);
    client.sendAudio(tone(1500, 16000), 16000);
    client.sendAudio(silence(600, 16000), 16000);
    const final = (await client.waitFor((m) => m.type === 'Results' && m.is_final === true && transcriptOf(m as Results) !== '')) as Results;

    const started = client.messages.find((m) => m.type === 'SpeechStarted')!;
    expect(started).toEqual({ type: 'SpeechStarted', channel: [0, 1], timestamp: 0.3 });
    const interims = results(client).filter((r) => !r.is_final);
    expect(interims.length).toBeGreaterThanOrEqual(2);
    // Interims reveal words as speech goes on, and never more than were said by then.
    expect(transcriptOf(interims[0]!).split(' ').length).toBeLessThan(transcriptOf(interims.at(-1)!).split(' ').length);
    expect(transcriptOf(final)).toBe('Hello there, how are you today?');
    expect(final.speech_final).toBe(true);
    expect(final.from_finalize).toBe(false);
    const words = final.channel.alternatives[0]!.words;
    expect(words.map((w) => w.word)).toEqual(['hello', 'there', 'how', 'are', 'you', 'today']);
    expect(words.map((w) => w.punctuated_word)).toEqual(['Hello', 'there,', 'how', 'are', 'you', 'today?']);
    expect(words[0]!.start).toBeCloseTo(0.3, 2);
    expect(words.at(-1)!.end).toBeLessThanOrEqual(1.8);
    for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
    // The final closes the window at the endpoint: 300 ms after the speech.
    expect(final.start).toBe(0);
    expect(final.start + final.duration).toBeCloseTo(2.1, 2);

    client.sendAudio(silence(1000, 16000), 16000);
    const end = await client.waitFor((m) => m.type === 'UtteranceEnd');
    expect(end).toEqual({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: words.at(-1)!.end });
    client.ws.close();
  });

  it('emits no interims, SpeechStarted or UtteranceEnd when not asked, and bare words without punctuate', async () => {
    fake.scriptTranscripts('Hello, world.');
    const client = await connect('/v1/listen', 'model=nova-3&encoding=linear16&sample_rate=8000&endpointing=300');
    client.sendAudio(tone(1500, 8000), 8000);
    client.sendAudio(silence(2000, 8000), 8000);
    const final = (await client.waitFor((m) => m.type === 'Results' && transcriptOf(m as Results) !== '')) as Results;
    expect(transcriptOf(final)).toBe('hello world');
    expect(final.channel.alternatives[0]!.words[0]).not.toHaveProperty('punctuated_word');
    client.send({ type: 'CloseStream' });
    await client.closed;
    expect(client.messages.map((m) => m.type).filter((t) => t !== 'Results')).toEqual(['Metadata']);
    expect(results(client).every((r) => r.is_final)).toBe(true);
  });

  it('Finalize makes pending speech final at once, marked from_finalize', async () => {
    fake.scriptTranscripts('Book a table for two.');
    const client = await connect('/v1/listen', LISTEN_QUERY);
    client.sendAudio(tone(1200, 16000), 16000);
    client.sendAudio(silence(100, 16000), 16000);
    client.send({ type: 'Finalize' });
    const final = (await client.waitFor((m) => m.type === 'Results' && m.is_final === true)) as Results;
    expect(transcriptOf(final)).toBe('Book a table for two.');
    expect(final.from_finalize).toBe(true);
    expect(final.speech_final).toBe(false);
    expect(final.start + final.duration).toBeCloseTo(1.3, 2);
    expect(fake.listenSessions[0]!.messagesOfType('Finalize')).toEqual([{ type: 'Finalize' }]);
    client.ws.close();
  });

  it('CloseStream: last results, Metadata with the audio duration and hash, then close 1000', async () => {
    fake.scriptTranscripts('Goodbye.');
    const client = await connect('/v1/listen', LISTEN_QUERY);
    const audio = tone(800, 16000);
    client.sendAudio(audio, 16000);
    client.send({ type: 'CloseStream' });
    expect(await client.closed).toEqual({ code: 1000, reason: '' });
    const last = client.messages.at(-1)!;
    const final = client.messages.at(-2) as Results;
    expect(final.type).toBe('Results');
    expect(transcriptOf(final)).toBe('Goodbye.');
    expect(last).toMatchObject({
      type: 'Metadata',
      duration: 0.8,
      channels: 1,
      sha256: createHash('sha256').update(int16ToBytes(audio)).digest('hex'),
    });
    expect(fake.listenSessions[0]!.audio()).toEqual(audio);
    expect(await fake.listenSessions[0]!.whenClosed).toEqual({ code: 1000, reason: '', by: 'server' });
  });

  it('decodes mu-law audio on the same clock', async () => {
    fake.scriptTranscripts('Yes.');
    const client = await connect('/v1/listen', 'model=nova-3&encoding=mulaw&sample_rate=8000&endpointing=300');
    const speech = tone(500, 8000);
    client.ws.send(Buffer.from(pcmToMulaw(speech)), { binary: true });
    client.ws.send(Buffer.from(pcmToMulaw(silence(500, 8000))), { binary: true });
    const final = (await client.waitFor((m) => m.type === 'Results' && transcriptOf(m as Results) !== '')) as Results;
    expect(final.channel.alternatives[0]!.words[0]!.start).toBe(0);
    expect(fake.listenSessions[0]!.audio().subarray(0, speech.length)).toEqual(mulawToPcm(pcmToMulaw(speech)));
    client.ws.close();
  });

  it('closes 1008 DATA-0000 on audio that is not whole samples, and on text that is not JSON', async () => {
    const a = await connect('/v1/listen', LISTEN_QUERY);
    a.ws.send(Buffer.alloc(641), { binary: true });
    const closeA = await a.closed;
    expect(closeA.code).toBe(1008);
    expect(closeA.reason).toMatch(/^DATA-0000/);
    const b = await connect('/v1/listen', LISTEN_QUERY);
    b.ws.send('KeepAlive');
    expect((await b.closed).code).toBe(1008);
  });

  it('closes 1011 NET-0001 when nothing arrives, unless KeepAlive keeps it open', async () => {
    await restart({ idleTimeoutMs: 80 });
    const idle = await connect('/v1/listen', LISTEN_QUERY);
    const kept = await connect('/v1/listen', LISTEN_QUERY);
    const keepAlive = setInterval(() => kept.send({ type: 'KeepAlive' }), 30);
    const closed = await idle.closed;
    expect(closed.code).toBe(1011);
    expect(closed.reason).toMatch(/^NET-0001/);
    await new Promise((r) => setTimeout(r, 150));
    clearInterval(keepAlive);
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);
    // KeepAlive gets no reply.
    expect(kept.messages).toEqual([]);
    kept.ws.close();
  });

  it('drops sockets (1006) and ends streams with scripted close codes', async () => {
    const a = await connect('/v1/listen', LISTEN_QUERY);
    fake.dropConnections('/v1/listen');
    expect((await a.closed).code).toBe(1006);
    expect(fake.listenSessions[0]!.closed?.by).toBe('dropped');
    const b = await connect('/v1/listen', LISTEN_QUERY);
    fake.closeStreams(1011, 'NET-0000: no transcript produced in time');
    expect(await b.closed).toEqual({ code: 1011, reason: 'NET-0000: no transcript produced in time' });
  });
});

describe('fake Deepgram /v1/speak', () => {
  const SPEAK_QUERY = 'model=aura-2-thalia-en&encoding=linear16&sample_rate=24000';

  it('WebSocket: Metadata, audio as long as the text in several binary frames, Flushed', async () => {
    const client = await connect('/v1/speak', SPEAK_QUERY);
    client.send({ type: 'Speak', text: 'Hello ' });
    client.send({ type: 'Speak', text: 'there.' });
    client.send({ type: 'Flush' });
    await client.waitFor((m) => m.type === 'Flushed');
    expect(client.messages[0]).toMatchObject({ type: 'Metadata', model_name: 'aura-2-thalia-en' });
    expect(client.messages.at(-1)).toEqual({ type: 'Flushed', sequence_id: 0 });
    const audio = Buffer.concat(client.binary);
    // 12 characters x 60 ms at 24 kHz, 2 bytes a sample.
    expect(audio.length).toBe(12 * 0.06 * 24000 * 2);
    expect(audio).toEqual(int16ToBytes(fakeDeepgramSpeechAudio('Hello there.', 24000)));
    expect(client.binary.length).toBeGreaterThan(3);
    expect(client.binary.some((b) => b.length % 2 === 1)).toBe(true);
    client.send({ type: 'Close' });
    expect((await client.closed).code).toBe(1000);
  });

  it('WebSocket: Clear stops the audio in progress and answers Cleared, without Flushed', async () => {
    await restart({ ttsFrameDelayMs: 5 });
    const client = await connect('/v1/speak', SPEAK_QUERY);
    client.send({ type: 'Speak', text: 'This sentence is long enough to take a while to stream out.' });
    client.send({ type: 'Flush' });
    await until(() => client.binary.length >= 2);
    client.send({ type: 'Clear' });
    await client.waitFor((m) => m.type === 'Cleared');
    const bytesAtClear = fake.speakSessions[0]!.audioBytesSent;
    await new Promise((r) => setTimeout(r, 30));
    expect(fake.speakSessions[0]!.audioBytesSent).toBe(bytesAtClear);
    expect(bytesAtClear).toBeLessThan(59 * 0.06 * 24000 * 2);
    expect(client.messages.map((m) => m.type)).toEqual(['Metadata', 'Cleared']);
    client.ws.close();
  });

  it('WebSocket: warns past the flush budget', async () => {
    await restart({ maxFlushesPerMinute: 2 });
    const client = await connect('/v1/speak', SPEAK_QUERY);
    for (let i = 0; i < 3; i++) {
      client.send({ type: 'Speak', text: 'Hi.' });
      client.send({ type: 'Flush' });
    }
    await client.waitFor((m) => m.type === 'Warning');
    await until(() => client.messages.filter((m) => m.type === 'Flushed').length === 2);
    expect(client.messages.filter((m) => m.type === 'Flushed').map((m) => m.sequence_id)).toEqual([0, 1]);
    client.ws.close();
  });

  async function speak(query: string, body: unknown, key = KEY): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const response = await fetch(`${fake.httpUrl}/v1/speak?${query}`, {
      method: 'POST',
      headers: { Authorization: `Token ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  it('REST: raw audio with container=none, a 44-byte WAV header by default, mu-law at 8 kHz', async () => {
    const raw = await speak(`${SPEAK_QUERY}&container=none`, { text: 'Hello there.' });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('dg-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(raw.bytes).toEqual(int16ToBytes(fakeDeepgramSpeechAudio('Hello there.', 24000)));
    const wav = await speak(SPEAK_QUERY, { text: 'Hello there.' });
    expect(wav.bytes.length).toBe(44 + raw.bytes.length);
    expect(wav.bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    const mulaw = await speak('model=aura-2-thalia-en&encoding=mulaw&sample_rate=8000&container=none', { text: 'Hi.' });
    expect(mulaw.bytes.length).toBe(3 * 0.06 * 8000);
    expect(fake.requests.map((r) => r.bytesSent)).toEqual([raw.bytes.length, wav.bytes.length, mulaw.bytes.length]);
  });

  it('REST: Deepgram errors for a bad key, bad parameters and over-long text', async () => {
    const bad = await speak(SPEAK_QUERY, { text: 'Hi.' }, BAD_KEY);
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.bytes.toString())).toMatchObject({ err_code: 'INVALID_AUTH' });
    expect((await speak('model=aura-2-thalia-en&encoding=mulaw&sample_rate=24000', { text: 'Hi.' })).status).toBe(400);
    expect((await speak(SPEAK_QUERY, { text: 'x'.repeat(2001) })).status).toBe(413);
    expect((await speak(SPEAK_QUERY, { words: 'Hi.' })).status).toBe(400);
    expect(JSON.stringify(fake.requests)).not.toContain(BAD_KEY);
  });

  it('REST: scripted drop and error', async () => {
    fake.enqueueSpeak({ error: 429 }, { drop: true, afterBytes: 1000 });
    expect((await speak(SPEAK_QUERY, { text: 'Hello.' })).status).toBe(429);
    await expect(speak(SPEAK_QUERY, { text: 'Hello there, this is long.' })).rejects.toThrow();
    expect(fake.requests[1]!.bytesSent).toBe(1000);
  });
});
