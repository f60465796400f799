// The voice-to-voice overhead of the speech-to-speech path (issue 16), measured like voice_to_voice_overhead_ms:
// one call on a MemoryTransport at 16 kHz, the calls benchmark's flite lines said in real time, the time from the
// caller's last speech frame to the first agent audio the caller receives, minus the 500 ms of silence the turn
// detector waits for. The brain is OpenAIRealtimeService (or GeminiLiveService) talking to its fake server with
// zero latency (no delay before or between audio chunks; its server VAD waits 500 ms of silence on 10 ms windows),
// so what remains is our runtime: resampling, two loopback WebSocket hops, the pipeline and the output transport's
// start — plus the fake's 10 ms VAD windows. It runs in the bench process (no Silero, nothing native).
import { concatInt16 } from '../../src/audio/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { GeminiLiveService } from '../../src/services/google/index.js';
import { OpenAIRealtimeService } from '../../src/services/openai/index.js';
import { startFakeGeminiLive } from '../../src/testing/fakes/gemini-live.js';
import { startFakeOpenAIRealtime } from '../../src/testing/fakes/openai-realtime.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';
import { loadBenchAudio, REPLY_LINE, SAMPLE_RATE } from './audio.js';
import { CALL_CONFIG } from './call.js';
import { stats, type Stats } from './stats.js';

const LOUD = 50;

export interface RealtimeLatency {
  overhead: Stats;
  /** From the fake's \`speech_stopped\` to the first agent audio the caller receives: our runtime alone. */
  runtime: Stats;
  voiceToVoice: Stats;
  missed: number;
}

export type RealtimeBenchModel = 'openai' | 'gemini';

/** The model's service against its zero-latency fake, and when the fake last ended a caller turn. */
async function startBrain(model: RealtimeBenchModel, silenceMs: number) {
  if (model === 'gemini') {
    const fake = await startFakeGeminiLive({ transcripts: () => 'caller line', fallback: REPLY_LINE, chunkMs: 20, chunkDelayMs: 0, firstAudioDelayMs: 0, speechRms: 50 });
    const realtime = new GeminiLiveService({ apiKey: 'AIza-bench', url: fake.url, serverVad: { silenceDurationMs: silenceMs } });
    return { realtime, close: () => fake.close(), lastTurnEnd: () => fake.connections[0]?.turnEndedAt.at(-1) };
  }
  const fake = await startFakeOpenAIRealtime({ transcripts: () => 'caller line', fallback: REPLY_LINE, chunkMs: 20, chunkDelayMs: 0, firstAudioDelayMs: 0, speechRms: 50 });
  const realtime = new OpenAIRealtimeService({ apiKey: 'sk-bench', url: fake.url, serverVad: { silenceDurationMs: silenceMs } });
  return { realtime, close: () => fake.close(), lastTurnEnd: () => fake.connections[0]?.speechStoppedAt.at(-1) };
}

export async function measureRealtimeLatency(root: string, turns: number, warmTurns = 2, model: RealtimeBenchModel = 'openai'): Promise<RealtimeLatency> {
  const audio = loadBenchAudio(root);
  const lines = audio.callerFrames.map((f) => concatInt16([...f]));
  const silenceMs = CALL_CONFIG.configuredSilenceMs;
  // speechRms 50: the fake's VAD hears speech down to the level the lines were trimmed at (|x| <= 50), so its end of
  // speech is the last speech frame, as Silero's is in the cascade's measure.
  const brain = await startBrain(model, silenceMs);
  const transport = new MemoryTransport({ callerSampleRate: SAMPLE_RATE, agentSampleRate: SAMPLE_RATE, keepHistory: false });
  const voice = new VoiceAgent({ instructions: 'Help the caller.', logger: silentLogger, idleTimeoutSecs: 0 });
  let replies = 0;
  voice.events.on('assistant-turn', () => replies++);
  let lastSpeechAt = -1;
  let firstAudioAt = -1;
  transport.caller.onAudio((chunk) => {
    if (firstAudioAt < 0 && lastSpeechAt >= 0 && chunk.audio.some((s) => Math.abs(s) > LOUD)) firstAudioAt = chunk.at;
  });
  const running = voice.action({ realtime: brain.realtime, transport }).then(() => voice.start());
  transport.caller.connect();
  transport.callerJoined();
  const overheads: number[] = [];
  const runtimes: number[] = [];
  const voiceToVoice: number[] = [];
  let missed = 0;
  try {
    for (let turn = 0; turn < warmTurns + turns; turn++) {
      const before = replies;
      firstAudioAt = -1;
      lastSpeechAt = -1;
      await transport.caller.say(lines[turn % lines.length]!);
      // say() resolves once the last frame went out: that frame is the last with speech (the lines are trimmed).
      lastSpeechAt = performance.now();
      const deadline = performance.now() + 5000;
      while (replies === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (replies === before || firstAudioAt < 0) {
        missed++;
        continue;
      }
      if (turn < warmTurns) continue;
      voiceToVoice.push(firstAudioAt - lastSpeechAt);
      overheads.push(firstAudioAt - lastSpeechAt - silenceMs);
      const stoppedAt = brain.lastTurnEnd();
      if (stoppedAt !== undefined) runtimes.push(firstAudioAt - stoppedAt);
      await new Promise((r) => setTimeout(r, CALL_CONFIG.callerPauseMs));
    }
  } finally {
    voice.cancel('bench over');
    await running;
    await brain.close();
  }
  return { overhead: stats(overheads), runtime: stats(runtimes), voiceToVoice: stats(voiceToVoice), missed };
}
