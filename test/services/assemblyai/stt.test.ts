import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputAudioFrame, makeFrame, type Frame } from '../../../src/frames/index.js';
import { assemblyAICloseError, AssemblyAISTTService } from '../../../src/services/assemblyai/index.js';
import { startFakeAssemblyAI, type FakeAssemblyAI } from '../../../src/testing/fakes/assemblyai.js';
import { runOnVirtualClock, type ConformanceRun } from '../conformance/run.js';
import { waitUntil } from '../../support/wait.js';

const KEY = 'aai-test-key-0123456789';
const RATE = 8000;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function tone(ms: number, amplitude = 8000): Int16Array {
  const out = new Int16Array((RATE * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / RATE));
  return out;
}

async function send(run: ConformanceRun, audio: Int16Array): Promise<void> {
  const step = (RATE * 20) / 1000;
  for (let at = 0; at < audio.length; at += step) {
    await run.task.queueFrame(inputAudioFrame(audio.slice(at, at + step), RATE));
    await tick();
  }
}

const finals = (frames: readonly Frame[]) => frames.flatMap((f) => (f.type === 'transcription' && f.final ? [f] : []));

let fake: FakeAssemblyAI;
beforeAll(async () => {
  fake = await startFakeAssemblyAI();
});
afterAll(() => fake.close());

describe('AssemblyAISTTService', () => {
  it('speaks v3: query, key header, 50 ms+ frames, ForceEndpoint at VAD stop, the formatted final on the call clock, Terminate', async () => {
    fake.scriptTranscripts('Hello, I need help.');
    const stt = new AssemblyAISTTService({ apiKey: KEY, baseUrl: `${fake.url.replace('ws:', 'http:')}/v3/ws`, encoding: 'pcm_mulaw' });
    const run = runOnVirtualClock(stt, { audioInSampleRate: RATE });
    await send(run, new Int16Array(RATE / 2));
    run.send(makeFrame('user-started-speaking'));
    await send(run, tone(1200));
    await send(run, new Int16Array((RATE * 300) / 1000));
    run.send(makeFrame('user-stopped-speaking'));
    await run.collector.waitFor((f) => f.type === 'transcription-complete');
    await run.stop();
    const session = fake.sessions.at(-1)!;
    expect(session.authorized).toBe(true);
    expect(session.query).toMatchObject({
      sample_rate: '8000',
      encoding: 'pcm_mulaw',
      speech_model: 'universal-streaming-english',
      format_turns: 'true',
      end_of_turn_confidence_threshold: '1',
    });
    const audio = session.received.flatMap((f) => (f.kind === 'audio' ? [f.ms] : []));
    expect(Math.min(...audio)).toBeGreaterThanOrEqual(50);
    const texts = session.received.flatMap((f) => (f.kind === 'text' ? [(f.message as { type: string }).type] : []));
    expect(texts).toEqual(['ForceEndpoint', 'Terminate']);
    expect(session.sent.map((m) => m.type)).toContain('Termination');
    expect(session.closed).toMatchObject({ code: 1000 });
    const [final] = finals(run.collector.downstream);
    expect(final?.text).toBe('Hello, I need help.');
    // Words lie inside the tone (0.5-1.7 s of the call), on the call's clock.
    expect(final?.words?.[0]?.start).toBeGreaterThanOrEqual(0.49);
    expect(final?.words?.at(-1)?.end).toBeLessThanOrEqual(1.71);
    // The partials came unformatted, the final formatted; the TTFB was measured from the ForceEndpoint.
    expect(run.collector.downstream.some((f) => f.type === 'transcription' && !f.final && f.text.startsWith('hello i'))).toBe(true);
    expect(run.collector.downstream.some((f) => f.type === 'metrics' && f.data.some((m) => m.kind === 'ttfb'))).toBe(true);
    expect(run.errors).toEqual([]);
  });

  it('reads close codes and the Error frame before them; the key never appears', () => {
    const cases: [number, string, string, boolean][] = [
      [1008, `Unauthorized Connection: Invalid API key ${KEY}`, 'auth', false],
      [1008, 'Unauthorized Connection: Too many concurrent sessions', 'rate-limited', true],
      [3009, 'Too many concurrent sessions', 'rate-limited', true],
      [1008, 'Unauthorized Connection: insufficient account balance', 'quota', false],
      [3005, 'Session Cancelled: An error occurred', 'server', true],
      [3006, 'Invalid Message Type: "Foo"', 'bad-request', false],
      [3007, 'Input duration violation: 20 ms. Expected between 50 and 1000 ms', 'bad-request', false],
      [3007, 'Audio Transmission Rate Exceeded: Received 4 sec. audio in 1 sec', 'rate-limited', true],
      [3008, 'Session Expired: Maximum session duration exceeded', 'connection-lost', true],
    ];
    for (const [code, text, expected, retryable] of cases) {
      const error = assemblyAICloseError(code, text, [KEY]);
      expect({ code: error.code, retryable: error.retryable, vendorCode: error.vendorCode }).toEqual({ code: expected, retryable, vendorCode: String(code) });
      expect(error.message).not.toContain(KEY);
    }
  });

  it('the fake refuses what AssemblyAI refuses: frames under 50 ms, unknown messages, a missing speech_model', async () => {
    const open = async (query: string): Promise<{ messages: { type: string; error_code?: number }[]; ws: WebSocket; closed: Promise<number> }> => {
      const ws = new WebSocket(`${fake.url}/v3/ws?${query}`, { headers: { Authorization: KEY } });
      const messages: { type: string; error_code?: number }[] = [];
      ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string }));
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise((resolve) => ws.once('open', resolve));
      return { messages, ws, closed };
    };
    const short = await open('sample_rate=16000&speech_model=universal-streaming-english');
    await waitUntil(() => short.messages.length > 0, 2000);
    short.ws.send(Buffer.alloc(640));
    expect(await short.closed).toBe(3007);
    expect(short.messages.map((m) => m.type)).toEqual(['Begin', 'Error']);

    const unknown = await open('sample_rate=16000&speech_model=universal-streaming-english');
    unknown.ws.send(JSON.stringify({ type: 'Finalize' }));
    expect(await unknown.closed).toBe(3006);

    const noModel = await open('sample_rate=16000');
    expect(await noModel.closed).toBe(3006);
    expect(noModel.messages).toEqual([expect.objectContaining({ type: 'Error', error_code: 3006 })]);
  });
});
