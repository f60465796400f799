// Voice-to-voice overhead of the framework: one call on the in-memory transport, real Silero VAD on real
// (Flite) speech fed in real time, every service faked with zero latency (STT finalises at VAD stop, the
// scripted LLM answers at once, the fake TTS makes audio at once). Per turn:
//   overhead = first agent audio chunk − last caller speech frame − the configured VAD stop time
// and its split: `vad_end_of_speech_lag_ms` (VAD declaring the end of speech beyond its stop time) and
// `voice_to_voice_runtime_ms` (VAD's end-of-speech event to first agent audio: the pipeline itself).
// Usage: tsx bench/voice-to-voice.bench.ts [--turns N]
import { silentLogger } from '../src/logging/index.js';
import { ScriptedLLMService } from '../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../src/testing/fake-services.js';
import { synthesizeSpeech } from '../src/testing/speech.js';
import { MemoryTransport } from '../src/transports/index.js';
import { VoiceAgent } from '../src/voice-agent/index.js';
import { emit, percentile, round } from './lib.js';

const turnsArg = process.argv.indexOf('--turns');
const TURNS = turnsArg >= 0 ? Number(process.argv[turnsArg + 1]) : 50;
const VAD_STOP_SECS = 0.2;
const SENTENCES = [
  'I need help with my order please.',
  'Can you tell me where my package is?',
  'I would like to change my delivery address.',
  'What time do you open tomorrow?',
  'Please connect me to a human agent.',
  'Thank you, that is all I needed.',
];

function hasSpeech(audio: Int16Array, threshold = 500): boolean {
  for (let i = 0; i < audio.length; i++) if (Math.abs(audio[i]!) > threshold) return true;
  return false;
}

async function main(): Promise<void> {
  const speech = await Promise.all(SENTENCES.map((s) => synthesizeSpeech(s, { sampleRate: 16000 })));
  const transport = new MemoryTransport({ callerSampleRate: 16000 });
  const voice = new VoiceAgent({ instructions: 'bench', idleTimeoutSecs: 0, logger: silentLogger });
  let userStoppedAt = 0;
  await voice.action({
    stt: new ScriptedSTTService({ transcripts: (turn) => SENTENCES[turn % SENTENCES.length]! }),
    llm: new ScriptedLLMService({ rules: [], fallback: 'Sure, let me check that for you.' }),
    tts: new FakeTTSService({ msPerCharacter: 10 }),
    vad: { stopSecs: VAD_STOP_SECS },
    transport,
    enableMetrics: false,
    observers: [
      {
        onPushFrame: (e) => {
          if (e.frame.type === 'user-stopped-speaking' && e.source.name.startsWith('VADProcessor')) {
            userStoppedAt = e.timestamp;
          }
        },
      },
    ],
  });
  let replies = 0;
  voice.events.on('assistant-turn', () => replies++);
  const done = voice.start();
  transport.caller.connect();

  const overhead: number[] = [];
  const vadLag: number[] = [];
  const runtime: number[] = [];
  for (let turn = 0; turn < TURNS; turn++) {
    await new Promise((r) => setTimeout(r, 500));
    const repliesBefore = replies;
    await transport.caller.say(speech[turn % speech.length]!);
    const lastSpeech = [...transport.caller.sent].reverse().find((f) => hasSpeech(f.audio))!.at;
    const firstAudio = await new Promise<number>((resolve) => {
      const off = transport.caller.onAudio((chunk) => {
        if (chunk.at > lastSpeech && hasSpeech(chunk.audio)) {
          off();
          resolve(chunk.at);
        }
      });
    });
    overhead.push(firstAudio - lastSpeech - VAD_STOP_SECS * 1000);
    vadLag.push(userStoppedAt - lastSpeech - VAD_STOP_SECS * 1000);
    runtime.push(firstAudio - userStoppedAt);
    while (replies === repliesBefore) await new Promise((r) => setTimeout(r, 10));
  }
  transport.caller.hangUp();
  await done;

  const report = (name: string, values: number[], extra: Record<string, unknown> = {}): void => {
    const sorted = [...values].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    emit({ name, value: round(p50), unit: 'ms', p50: round(p50), p99: round(percentile(sorted, 99)), turns: values.length, ...extra });
  };
  report('voice_to_voice_overhead_ms', overhead, { calls: 1, vadStopSecs: VAD_STOP_SECS });
  report('vad_end_of_speech_lag_ms', vadLag, { calls: 1 });
  report('voice_to_voice_runtime_ms', runtime, { calls: 1 });
}

await main();
