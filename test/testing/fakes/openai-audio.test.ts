// The fake OpenAI audio server, spoken to with plain `fetch` so that its wire behaviour is checked on its own,
// independently of the services that use it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesToInt16, readWav, writeWav } from '../../../src/audio/index.js';
import {
  FAKE_SPEECH_SAMPLE_RATE,
  fakeSpeechSamples,
  startFakeOpenAIAudio,
  type FakeOpenAIAudio,
} from '../../../src/testing/fakes/openai-audio.js';

const KEY = 'sk-test-SECRET123456';

let fake: FakeOpenAIAudio;
beforeEach(async () => {
  fake = await startFakeOpenAIAudio({ rejectKey: 'sk-bad-key-0123456789' });
});
afterEach(async () => {
  await fake.close();
});

function speech(body: unknown, key = KEY): Promise<Response> {
  return fetch(`${fake.baseURL}/audio/speech`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function tone(ms: number, sampleRate: number): Int16Array {
  const samples = new Int16Array(Math.round((ms * sampleRate) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / sampleRate));
  return samples;
}

function form(fields: Record<string, string | string[]>, file?: { bytes: Uint8Array; name: string; fileFirst?: boolean }): FormData {
  const data = new FormData();
  const addFile = (): void => {
    if (file !== undefined) data.append('file', new Blob([file.bytes], { type: 'audio/wav' }), file.name);
  };
  if (file?.fileFirst === true) addFile();
  for (const [name, value] of Object.entries(fields)) for (const v of typeof value === 'string' ? [value] : value) data.append(name, v);
  if (file?.fileFirst !== true) addFile();
  return data;
}

function transcribe(body: FormData | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.baseURL}/audio/transcriptions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}`, ...headers }, body });
}

const wavOf = (ms: number, rate = 16000): Uint8Array => writeWav({ sampleRate: rate, channels: 1, samples: tone(ms, rate) });

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

describe('fake /v1/audio/speech', () => {
  it('returns exactly duration*24000*2 bytes of pcm for the text, in several odd-sized writes', async () => {
    const input = 'Hello, caller.';
    const response = await speech({ model: 'gpt-4o-mini-tts', input, voice: 'coral', response_format: 'pcm' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBeNull();
    const bytes = new Uint8Array(await response.arrayBuffer());
    // 14 characters at 60 ms each.
    expect(bytes.length).toBe(Math.round(14 * 0.06 * FAKE_SPEECH_SAMPLE_RATE) * 2);
    expect(bytesToInt16(bytes)).toEqual(fakeSpeechSamples(input, { voice: 'coral' }));
    const record = await fake.settled();
    expect(record.outcome).toBe('completed');
    expect(record.writes.length).toBeGreaterThan(2);
    // Every write but the remainder at the end is odd, so every boundary after the first falls inside a sample.
    expect(record.writes.slice(0, -1).every((size) => size % 2 === 1)).toBe(true);
    expect(record.writes.reduce((a, b) => a + b, 0)).toBe(bytes.length);
  });

  it('makes the audio shorter at a higher speed and different for another voice', async () => {
    const input = 'Twenty characters!!';
    const fast = new Uint8Array(await (await speech({ model: 'tts-1', input, voice: 'alloy', response_format: 'pcm', speed: 2 })).arrayBuffer());
    expect(fast.length / 2).toBe(Math.round((input.length * 0.06 * 24000) / 2));
    const a = fakeSpeechSamples(input, { voice: 'alloy' });
    const b = fakeSpeechSamples(input, { voice: 'echo' });
    expect(a.length).toBe(b.length);
    expect(a).not.toEqual(b);
  });

  it('returns a WAV file at 24 kHz for response_format wav', async () => {
    const response = await speech({ model: 'gpt-4o-mini-tts', input: 'Short.', voice: 'alloy', response_format: 'wav' });
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const wav = readWav(new Uint8Array(await response.arrayBuffer()));
    expect(wav.sampleRate).toBe(24000);
    expect(wav.channels).toBe(1);
    expect(wav.samples).toEqual(fakeSpeechSamples('Short.'));
  });

  it('streams base64 deltas and a done event with usage for stream_format sse', async () => {
    const input = 'Hi there.';
    const response = await speech({ model: 'gpt-4o-mini-tts', input, voice: 'alloy', response_format: 'pcm', stream_format: 'sse' });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text())
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice('data: '.length)) as { type: string; audio?: string; usage?: { total_tokens: number } });
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    expect(deltas.length).toBeGreaterThan(1);
    const pcm = Buffer.concat(deltas.map((e) => Buffer.from(e.audio ?? '', 'base64')));
    expect(bytesToInt16(new Uint8Array(pcm))).toEqual(fakeSpeechSamples(input));
    expect(events.at(-1)?.type).toBe('speech.audio.done');
    expect(events.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('rejects a missing or wrong key with the real 401 bodies, never storing the key', async () => {
    const missing = await fetch(`${fake.baseURL}/audio/speech`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as ErrorBody).error.message).toMatch(/didn't provide an API key/);
    const wrong = await speech({ model: 'tts-1', input: 'x', voice: 'alloy' }, 'sk-bad-key-0123456789');
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as ErrorBody;
    expect(body.error.code).toBe('invalid_api_key');
    expect(body.error.message).toContain('sk-bad-k*********6789');
    expect(fake.requests.map((r) => r.auth)).toEqual([
      { present: false, valid: false },
      { present: true, valid: false },
    ]);
    expect(JSON.stringify(fake.requests)).not.toContain('sk-bad-key-0123456789');
  });

  it.each([
    ['an unknown voice', { model: 'gpt-4o-mini-tts', input: 'x', voice: 'robot', response_format: 'pcm' }, 'voice', /Invalid value: 'robot'/],
    ['an empty input', { model: 'gpt-4o-mini-tts', input: '', voice: 'alloy', response_format: 'pcm' }, 'input', /empty string/],
    ['4097 characters', { model: 'gpt-4o-mini-tts', input: 'a'.repeat(4097), voice: 'alloy', response_format: 'pcm' }, 'input', /maximum length 4096/],
    ['no input', { model: 'gpt-4o-mini-tts', voice: 'alloy' }, 'input', /Missing required parameter: 'input'/],
    ['no model', { input: 'x', voice: 'alloy' }, 'model', /Missing required parameter: 'model'/],
    ['speed 5', { model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'pcm', speed: 5 }, 'speed', /maximum value/],
    ['instructions to tts-1', { model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'pcm', instructions: 'Be warm.' }, 'instructions', /not supported for model tts-1/],
    ['sse from tts-1', { model: 'tts-1', input: 'x', voice: 'alloy', response_format: 'pcm', stream_format: 'sse' }, 'stream_format', /not supported/],
    ['an unknown format', { model: 'gpt-4o-mini-tts', input: 'x', voice: 'alloy', response_format: 'ogg' }, 'response_format', /Invalid value: 'ogg'/],
  ])('answers 400 invalid_request_error for %s', async (_what, body, param, message) => {
    const response = await speech(body);
    expect(response.status).toBe(400);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
  });

  it('accepts 4096 characters and the default mp3 format is refused with a fake-specific message', async () => {
    // 1 ms per character keeps 4096 characters of audio small.
    const short = await startFakeOpenAIAudio({ msPerCharacter: 1 });
    try {
      const max = await fetch(`${short.baseURL}/audio/speech`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'tts-1', input: 'a'.repeat(4096), voice: 'alloy', response_format: 'pcm' }),
      });
      expect(max.status).toBe(200);
      expect((await max.arrayBuffer()).byteLength).toBe(4096 * 24 * 2);
    } finally {
      await short.close();
    }
    const mp3 = await speech({ model: 'tts-1', input: 'x', voice: 'alloy' });
    expect(mp3.status).toBe(400);
    const error = ((await mp3.json()) as ErrorBody).error;
    expect(error.message).toMatch(/^fake OpenAI audio server: response_format 'mp3'/);
    expect(error.code).toBe('fake_not_emulated');
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const response = await speech({ model: 'tts-9', input: 'x', voice: 'alloy', response_format: 'pcm' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.code).toBe('model_not_found');
  });

  it('plays scripted failures: 429 with retry-after, drop mid-body, stall', async () => {
    fake.enqueueSpeech({ error: 429, retryAfter: 3, shouldRetry: false }, { drop: true, afterBytes: 1001 }, { stall: true, afterBytes: 99 });
    const limited = await speech({ model: 'tts-1', input: 'hello', voice: 'alloy', response_format: 'pcm' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('x-should-retry')).toBe('false');
    expect(((await limited.json()) as ErrorBody).error.code).toBe('rate_limit_exceeded');

    const dropped = await speech({ model: 'tts-1', input: 'hello there', voice: 'alloy', response_format: 'pcm' });
    expect(dropped.status).toBe(200);
    await expect(dropped.arrayBuffer()).rejects.toThrow();
    expect((await fake.settled()).outcome).toBe('dropped');
    expect(fake.requests.at(-1)?.bytesSent).toBe(1001);

    const controller = new AbortController();
    const stalled = await fetch(`${fake.baseURL}/audio/speech`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', input: 'hello there', voice: 'alloy', response_format: 'pcm' }),
      signal: controller.signal,
    });
    const reader = (stalled.body as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    while (received < 99) received += (await reader.read()).value?.length ?? 0;
    expect(received).toBe(99);
    controller.abort();
    expect((await fake.settled()).outcome).toBe('client-closed');
  });
});

describe('fake /v1/audio/transcriptions', () => {
  it('parses the multipart upload in any field order and answers json with usage', async () => {
    fake.scriptTranscripts(['Hello world.']);
    const response = await transcribe(form({ model: 'gpt-4o-mini-transcribe', language: 'en', prompt: 'Acme' }, { bytes: wavOf(1500), name: 'turn.wav', fileFirst: true }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { text: string; usage: { type: string; input_token_details: { audio_tokens: number } } };
    expect(body.text).toBe('Hello world.');
    expect(body.usage.type).toBe('tokens');
    expect(body.usage.input_token_details.audio_tokens).toBe(15);
    const record = fake.requests[0]!;
    expect(record.fields).toEqual({ model: 'gpt-4o-mini-transcribe', language: 'en', prompt: 'Acme' });
    expect(record.upload?.filename).toBe('turn.wav');
    expect(record.upload?.contentType).toBe('audio/wav');
    expect(record.upload?.audio?.sampleRate).toBe(16000);
    expect(record.upload?.audio?.durationSecs).toBe(1.5);
    expect(record.upload?.audio?.samples).toEqual(tone(1500, 16000));
  });

  it('parses a hand-written body with a quoted boundary and CRLF inside the file data', async () => {
    const wav = Buffer.from(wavOf(200, 8000));
    wav.set(Buffer.from('\r\n--'), 100);
    const boundary = 'b0und:ary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
      wav,
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${boundary}--\r\n`),
    ]);
    const response = await fetch(`${fake.baseURL}/audio/transcriptions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': `multipart/form-data; boundary="${boundary}"` },
      body,
    });
    expect(response.status).toBe(200);
    expect(fake.requests[0]?.upload?.bytes).toBe(wav.length);
    expect(((await response.json()) as { usage: unknown }).usage).toEqual({ type: 'duration', seconds: 1 });
  });

  it('answers with a function of the audio when nothing is queued', async () => {
    fake.transcribeWith(({ audio }) => `${Math.round(audio.durationSecs * 1000)} ms at ${audio.sampleRate}`);
    const response = await transcribe(form({ model: 'whisper-1' }, { bytes: wavOf(700, 8000), name: 'a.wav' }));
    expect(((await response.json()) as { text: string }).text).toBe('700 ms at 8000');
  });

  it('honours response_format text, verbose_json with words, and refuses non-json for gpt-4o models', async () => {
    fake.scriptTranscripts(['one two', 'three four five']);
    const text = await transcribe(form({ model: 'whisper-1', response_format: 'text' }, { bytes: wavOf(1000), name: 'a.wav' }));
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toBe('one two\n');
    const verbose = await transcribe(
      form({ model: 'whisper-1', response_format: 'verbose_json', 'timestamp_granularities[]': ['word', 'segment'] }, { bytes: wavOf(1500), name: 'a.wav' }),
    );
    const body = (await verbose.json()) as { duration: number; words: { word: string; start: number; end: number }[] };
    expect(body.duration).toBe(1.5);
    expect(body.words).toEqual([
      { word: 'three', start: 0, end: 0.5 },
      { word: 'four', start: 0.5, end: 1 },
      { word: 'five', start: 1, end: 1.5 },
    ]);
    const refused = await transcribe(form({ model: 'gpt-4o-transcribe', response_format: 'text' }, { bytes: wavOf(1000), name: 'a.wav' }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ErrorBody).error.param).toBe('response_format');
  });

  it('streams delta and done events for stream=true on gpt-4o models', async () => {
    fake.scriptTranscripts(['Good morning everyone']);
    const response = await transcribe(form({ model: 'gpt-4o-transcribe', stream: 'true' }, { bytes: wavOf(1000), name: 'a.wav' }));
    const events = (await response.text())
      .split('\n\n')
      .filter((b) => b.startsWith('data: '))
      .map((b) => JSON.parse(b.slice(6)) as { type: string; delta?: string; text?: string });
    expect(events.filter((e) => e.type === 'transcript.text.delta').map((e) => e.delta).join('')).toBe('Good morning everyone');
    expect(events.at(-1)).toMatchObject({ type: 'transcript.text.done', text: 'Good morning everyone' });
  });

  it.each([
    ['no file', () => form({ model: 'whisper-1' }), 'file', /Missing required parameter: 'file'/],
    ['no model', () => form({}, { bytes: wavOf(500), name: 'a.wav' }), 'model', /Missing required parameter: 'model'/],
    ['a .txt file', () => form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.txt' }), 'file', /Invalid file format/],
    ['an mp3 (not emulated)', () => form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.mp3' }), 'file', /^fake OpenAI audio server/],
    ['a corrupt WAV', () => form({ model: 'whisper-1' }, { bytes: new Uint8Array(300).fill(7), name: 'a.wav' }), 'file', /could not be decoded/],
    ['50 ms of audio', () => form({ model: 'whisper-1' }, { bytes: wavOf(50), name: 'a.wav' }), 'file', /too short/],
    ['a language name', () => form({ model: 'whisper-1', language: 'english' }, { bytes: wavOf(500), name: 'a.wav' }), 'language', /ISO-639-1/],
    ['temperature 2', () => form({ model: 'whisper-1', temperature: '2' }, { bytes: wavOf(500), name: 'a.wav' }), 'temperature', /between 0 and 1/],
  ])('answers 400 for %s', async (_what, body, param, message) => {
    const response = await transcribe(body());
    expect(response.status).toBe(400);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.param).toBe(param);
    expect(error.message).toMatch(message);
  });

  it('answers 400 for a JSON body and 413 above 25 MB', async () => {
    const json = await transcribe(JSON.stringify({ model: 'whisper-1' }), { 'Content-Type': 'application/json' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as ErrorBody).error.message).toMatch(/expected multipart\/form-data/);
    const huge = await transcribe(form({ model: 'whisper-1' }, { bytes: new Uint8Array(25 * 1024 * 1024 + 1), name: 'a.wav' }));
    expect(huge.status).toBe(413);
  });

  it('plays scripted failures: 401 bad key, 500, drop and stall', async () => {
    const bad = await fetch(`${fake.baseURL}/audio/transcriptions`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-bad-key-0123456789' },
      body: form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.wav' }),
    });
    expect(bad.status).toBe(401);
    fake.enqueueTranscriptions({ error: 500 }, { drop: true }, { stall: true });
    const failed = await transcribe(form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.wav' }));
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as ErrorBody).error.type).toBe('server_error');
    await expect(transcribe(form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.wav' }))).rejects.toThrow(/fetch failed/);
    expect((await fake.settled()).outcome).toBe('dropped');
    const stalled = transcribe(form({ model: 'whisper-1' }, { bytes: wavOf(500), name: 'a.wav' }));
    const outcome = await Promise.race([stalled.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 100))]);
    expect(outcome).toBe('waiting');
    await fake.close();
    await expect(stalled).rejects.toThrow();
    fake = await startFakeOpenAIAudio();
  });

  it('answers 404 for other paths', async () => {
    const response = await fetch(`${fake.baseURL}/audio/translations`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.message).toBe('Invalid URL (POST /v1/audio/translations)');
  });
});
