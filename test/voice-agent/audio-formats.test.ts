// Formats come from the transport: a call runs its pipeline at the transport's native rates and a TTS that can make
// the output rate does, so audio is resampled at most once each way, and not at all where every service can work at
// the line's rate. Every StreamingResampler made during a call is counted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as ResamplerModule from '../../src/audio/resampler.js';
import WebSocket from 'ws';
import { silentLogger } from '../../src/logging/index.js';
import { CartesiaTTSService } from '../../src/services/cartesia/index.js';
import { OpenAITTSService } from '../../src/services/openai/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import type { TTSService } from '../../src/services/base/tts-service.js';
import { DeepgramTTSService } from '../../src/services/deepgram/index.js';
import { ElevenLabsTTSService } from '../../src/services/elevenlabs/index.js';
import { EnergyVAD, speechTone } from '../../src/testing/energy-vad.js';
import { ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startFakeCartesia, type FakeCartesia } from '../../src/testing/fakes/cartesia.js';
import { startFakeOpenAIAudio } from '../../src/testing/fakes/openai-audio.js';
import {
  LiveKitTransport,
  PiopiyStreamServer,
  type CallTransport,
  type LiveKitRoomDriver,
  type LiveKitRoomEvents,
} from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { runPipeline } from '../support/pipeline.js';
import { waitUntil } from '../support/wait.js';

const resamplers = vi.hoisted(() => [] as { inputRate: number; outputRate: number }[]);

vi.mock('../../src/audio/resampler.js', async (importOriginal) => {
  const original = await importOriginal<typeof ResamplerModule>();
  class CountedResampler extends original.StreamingResampler {
    constructor(options: ConstructorParameters<typeof original.StreamingResampler>[0]) {
      super(options);
      resamplers.push({ inputRate: options.inputRate, outputRate: options.outputRate });
    }
  }
  return { ...original, StreamingResampler: CountedResampler };
});

const REPLY = 'Your order has shipped.';
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  resamplers.length = 0;
});

async function fakeCartesia(): Promise<FakeCartesia> {
  const fake = await startFakeCartesia();
  closers.push(() => fake.close());
  return fake;
}

/** A VoiceAgent on `transport` that answers the caller's one sentence; resolves with its assistant turns. */
async function answerOnce(transport: CallTransport, tts: TTSService, vadRate: 8000 | 16000): Promise<VoiceAgent> {
  const voice = new VoiceAgent({ instructions: 'Be brief.', logger: silentLogger, idleTimeoutSecs: 0 });
  await voice.action({
    transport,
    stt: new ScriptedSTTService({ transcripts: ['where is my order'] }),
    llm: new ScriptedLLMService({ rules: [{ match: /order/, reply: REPLY }] }),
    tts,
    vad: new EnergyVAD({ sampleRate: vadRate }),
  });
  return voice;
}

describe('audio formats from the transport', () => {
  it('a Piopiy stream call at 8 kHz with Cartesia: Cartesia makes 8 kHz, and the call creates no resampler at all', async () => {
    const cartesia = await fakeCartesia();
    const turns: string[] = [];
    let finished: Promise<void> | undefined;
    const server = new PiopiyStreamServer({
      authToken: 'stream-secret-0123456789',
      sampleRate: 8000,
      logger: silentLogger,
      onCall: async (call) => {
        const voice = await answerOnce(call.transport, new CartesiaTTSService({ apiKey: 'k', baseUrl: cartesia.baseUrl }), 8000);
        voice.events.on('assistant-turn', (text) => turns.push(text));
        finished = voice.start();
        await finished;
      },
    });
    closers.push(() => server.close());
    const url = await server.listen();
    const platform = new WebSocket(url);
    const audioRates: number[] = [];
    platform.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse((data as Buffer).toString('utf8')) as { type?: string; data?: { sampleRate?: number } };
      if (message.type === 'streamAudio' && message.data?.sampleRate !== undefined) audioRates.push(message.data.sampleRate);
    });
    await new Promise<void>((resolve, reject) => platform.once('open', resolve).once('error', reject));
    // The caller: 600 ms of speech then silence, in 20 ms frames of 8 kHz PCM16.
    const audio = new Int16Array(8000 * 2);
    audio.set(speechTone(600, 8000));
    for (let at = 0; at < audio.length; at += 160) platform.send(Buffer.from(audio.slice(at, at + 160).buffer));
    await waitUntil(() => turns.includes(REPLY), 15_000);
    expect(audioRates.length).toBeGreaterThan(10);
    expect(new Set(audioRates)).toEqual(new Set([8000]));
    const sampleRates = cartesia.connections.flatMap((c) =>
      c.received.flatMap((m) => {
        const format = (m.json as { output_format?: { sample_rate?: number } } | undefined)?.output_format;
        return format?.sample_rate === undefined ? [] : [format.sample_rate];
      }),
    );
    expect(new Set(sampleRates)).toEqual(new Set([8000]));
    expect(resamplers).toEqual([]);
    platform.close();
    await finished;
  }, 30_000);

  /** A LiveKit room behind the transport's driver interface, with one caller present. */
  function fakeRoom(): LiveKitRoomDriver & { events?: LiveKitRoomEvents; written: number[]; published: number[] } {
    return {
      written: [],
      published: [],
      async connect(_url, _token, events) {
        this.events = events;
        return ['caller'];
      },
      async publishAudio(sampleRate) {
        this.published.push(sampleRate);
      },
      writeAudio(_chunk, sampleRate) {
        this.written.push(sampleRate);
      },
      clearAudio() {},
      async sendData() {},
      async publishDtmf() {},
      async disconnect() {},
    };
  }

  async function liveKitCall(tts: TTSService): Promise<{ written: number[]; published: number[] }> {
    const room = fakeRoom();
    const transport = new LiveKitTransport({ url: 'wss://lk.example', token: 'jwt', roomName: 'tcmi_1', driver: room, logger: silentLogger });
    const voice = await answerOnce(transport, tts, 16000);
    const turns: string[] = [];
    voice.events.on('assistant-turn', (text) => turns.push(text));
    const done = voice.start();
    await waitUntil(() => room.events !== undefined, 5000);
    // rtc-node hands the caller's audio over at the rate asked (16 kHz): 600 ms of speech, then silence.
    const audio = new Int16Array(16000 * 2);
    audio.set(speechTone(600, 16000));
    for (let at = 0; at < audio.length; at += 320) room.events!.audioFrame(audio.slice(at, at + 320), 16000, 'caller');
    await waitUntil(() => turns.includes(REPLY), 15_000);
    voice.cancel('test over');
    await done;
    return room;
  }

  it('a LiveKit call with Cartesia: 16 kHz in, 8 kHz out, no resampler (rtc-node converts to and from Opus natively)', async () => {
    const cartesia = await fakeCartesia();
    const room = await liveKitCall(new CartesiaTTSService({ apiKey: 'k', baseUrl: cartesia.baseUrl }));
    expect(room.published).toEqual([8000]);
    expect(new Set(room.written)).toEqual(new Set([8000]));
    expect(resamplers).toEqual([]);
  }, 30_000);

  it('a TTS that makes one rate only (OpenAI, 24 kHz): exactly one resampler, on the output, at the edge', async () => {
    const openai = await startFakeOpenAIAudio();
    closers.push(() => openai.close());
    const room = await liveKitCall(new OpenAITTSService({ apiKey: 'k', baseURL: openai.baseURL }));
    expect(new Set(room.written)).toEqual(new Set([8000]));
    expect(resamplers).toEqual([{ inputRate: 24000, outputRate: 8000 }]);
  }, 30_000);

  it("a rate the user chose is kept: the call's output rate does not override it", async () => {
    const cartesia = await fakeCartesia();
    const tts = new CartesiaTTSService({ apiKey: 'k', baseUrl: cartesia.baseUrl, sampleRate: 24000 });
    const room = await liveKitCall(tts);
    expect(tts.sampleRate).toBe(24000);
    expect(new Set(room.written)).toEqual(new Set([8000]));
    expect(resamplers).toEqual([{ inputRate: 24000, outputRate: 8000 }]);
  }, 30_000);

  it('ElevenLabs and Deepgram Aura take the call\'s rate too: pcm_8000 in the socket URL, sample_rate=8000 in the request', async () => {
    const elevenlabs = new ElevenLabsTTSService({ apiKey: 'k', voiceId: 'v', baseUrl: 'https://api.example.com' });
    const deepgram = new DeepgramTTSService({ apiKey: 'k', baseUrl: 'https://api.example.com' });
    expect([elevenlabs.sampleRate, deepgram.sampleRate]).toEqual([16000, 24000]);
    for (const tts of [elevenlabs, deepgram]) {
      const call = runPipeline(tts, { audioOutSampleRate: 8000 });
      await call.stop();
    }
    expect([elevenlabs.sampleRate, deepgram.sampleRate]).toEqual([8000, 8000]);
    expect(elevenlabs.url).toContain('output_format=pcm_8000');
    // A rate Aura's linear16 does not make (11025) leaves its own.
    const odd = new DeepgramTTSService({ apiKey: 'k', baseUrl: 'https://api.example.com' });
    await runPipeline(odd, { audioOutSampleRate: 11025 }).stop();
    expect(odd.sampleRate).toBe(24000);
  });
});
