// Interruption stop time: how long the caller still gets agent audio after barging in. One call on the in-memory
// transport: real Silero VAD on real (Flite) caller speech fed in real time, the agent saying a long reply with
// Flite, and the caller talking over it after a varying delay; the scripted STT sends an interim transcript after
// 300 ms of the caller's speech, as a streaming STT would.
//
// Start: the moment the interruption strategy is satisfied, i.e. the user-turn aggregator pushing its
// `interruption-task` (observed on the pipeline). End: the last frame of the interrupted reply written by the
// output transport after that moment; on the memory transport the sink delivers synchronously, so that is also
// the last frame the caller receives. No frame after the interruption counts as 0. Frames of the agent's answer
// to the barge-in come after the caller stops speaking (VAD), which bounds the window searched.
// Also reported: `audible_stop_ms`, when the caller stops hearing the agent (the end of the last frame written,
// chunk length included), and `reach_output_ms`, the interruption's trip from the strategy to the output
// transport.
// Runs with the default strategy (MinWords 1) and with MinWords 2.
// Usage: tsx bench/interruption.bench.ts [--interruptions N]
import { silentLogger } from '../src/logging/index.js';
import { FliteTTSService } from '../src/services/local/index.js';
import { ScriptedLLMService } from '../src/services/scripted/index.js';
import { ScriptedSTTService } from '../src/testing/fake-services.js';
import { synthesizeSpeech } from '../src/testing/speech.js';
import { MemoryTransport } from '../src/transports/index.js';
import { MinWordsInterruptionStrategy, type InterruptionStrategy } from '../src/turns/index.js';
import { VoiceAgent } from '../src/voice-agent/index.js';
import { emit, percentile, round } from './lib.js';

const countArg = process.argv.indexOf('--interruptions');
const INTERRUPTIONS = countArg >= 0 ? Number(process.argv[countArg + 1]) : 30;
const CHUNK_MS = 20;
const LONG_REPLY =
  'Our store opens at nine in the morning and closes at eight in the evening on weekdays. On weekends we open ' +
  'at ten and close at six, and on public holidays the hours may change, so please check our website before ' +
  'you come. We also have a pharmacy counter that keeps the same hours as the store.';
const BARGE_IN = 'Wait, stop please.';

function hasSpeech(audio: Int16Array, threshold = 500): boolean {
  for (let i = 0; i < audio.length; i++) if (Math.abs(audio[i]!) > threshold) return true;
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sample {
  stopMs: number;
  audibleMs: number;
  reachOutputMs: number;
}

async function run(strategy: InterruptionStrategy | undefined, count: number, bargeIn: Int16Array): Promise<Sample[]> {
  const transport = new MemoryTransport({ callerSampleRate: 16000, chunkMs: CHUNK_MS });
  let interruptAt = -1;
  let reachedOutputAt = -1;
  let userStoppedAt = -1;
  const voice = new VoiceAgent({ instructions: 'bench', idleTimeoutSecs: 0, logger: silentLogger });
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: () => BARGE_IN, interimAfterMs: 300 }),
    llm: new ScriptedLLMService({ rules: [], fallback: 'Okay.' }),
    tts: new FliteTTSService({ voice: 'kal16' }),
    vad: true,
    transport,
    enableMetrics: false,
    ...(strategy === undefined ? {} : { interruptionStrategy: strategy }),
    observers: [
      {
        onPushFrame: (e) => {
          if (e.frame.type === 'interruption-task' && interruptAt < 0) interruptAt = e.timestamp;
          if (e.frame.type === 'user-stopped-speaking' && e.direction === 'downstream' && userStoppedAt < 0) {
            userStoppedAt = e.timestamp;
          }
        },
        onProcessFrame: (e) => {
          if (e.frame.type === 'interruption' && e.processor === transport.output && reachedOutputAt < 0) {
            reachedOutputAt = e.timestamp;
          }
        },
      },
    ],
  });
  const done = voice.start();
  transport.caller.connect();
  await FliteTTSService.prewarm();

  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(300);
    const before = transport.caller.received.length;
    voice.say(LONG_REPLY);
    while (!transport.caller.received.slice(before).some((c) => hasSpeech(c.audio))) await sleep(5);
    // Barge in somewhere in the first seconds of the reply, at a different point each time.
    await sleep(200 + ((i * 137) % 900));
    interruptAt = -1;
    reachedOutputAt = -1;
    userStoppedAt = -1;
    await transport.caller.say(bargeIn);
    while (userStoppedAt < 0) await sleep(5);
    if (interruptAt < 0) throw new Error(`interruption ${i}: the strategy never interrupted the agent`);
    const lastOld = transport.caller.received.filter((c) => c.at >= interruptAt && c.at < userStoppedAt).at(-1);
    const lastBefore = transport.caller.received.filter((c) => c.at < interruptAt).at(-1);
    const last = lastOld ?? lastBefore;
    samples.push({
      stopMs: lastOld === undefined ? 0 : lastOld.at - interruptAt,
      audibleMs: last === undefined ? 0 : Math.max(0, last.at + CHUNK_MS - interruptAt),
      reachOutputMs: reachedOutputAt - interruptAt,
    });
    // Let the agent answer the barge-in and fall silent before the next round.
    let lastAudio = performance.now();
    const off = transport.caller.onAudio(() => (lastAudio = performance.now()));
    while (performance.now() - lastAudio < 400) await sleep(20);
    off();
  }
  transport.caller.hangUp();
  await done;
  return samples;
}

function report(name: string, samples: Sample[], extra: Record<string, unknown>): void {
  const sorted = (key: keyof Sample): number[] => samples.map((s) => s[key]).sort((a, b) => a - b);
  const stop = sorted('stopMs');
  const audible = sorted('audibleMs');
  const reach = sorted('reachOutputMs');
  emit({
    name,
    value: round(percentile(stop, 50)),
    unit: 'ms',
    p50: round(percentile(stop, 50)),
    p99: round(percentile(stop, 99)),
    max: round(stop.at(-1)!),
    interruptions: samples.length,
    audible_stop_p50: round(percentile(audible, 50)),
    audible_stop_p99: round(percentile(audible, 99)),
    reach_output_p99: round(percentile(reach, 99), 3),
    chunkMs: CHUNK_MS,
    transport: 'memory',
    ...extra,
  });
}

async function main(): Promise<void> {
  const bargeIn = await synthesizeSpeech(BARGE_IN, { sampleRate: 16000 });
  report('interruption_stop_ms', await run(undefined, INTERRUPTIONS, bargeIn), { strategy: 'min-words-1 (default)' });
  const minWords2 = new MinWordsInterruptionStrategy({ minWords: 2 });
  report('interruption_stop_min_words_2_ms', await run(minWords2, Math.ceil(INTERRUPTIONS / 3), bargeIn), {
    strategy: 'min-words-2',
  });
}

await main();
