// The agent file of the capacity benchmark, run by `piopiy-ai start --workers N` exactly as in production: real
// Agent over Socket.IO to the simulator's signaling, real Silero VAD, Deepgram STT over its WebSocket, OpenAI over
// SSE and Cartesia over its WebSocket, all three pointed at the fakes of bench/capacity/environment.ts (another
// process). The URLs come from the environment the benchmark sets.
import { Agent } from '../../src/agent/index.js';
import { CartesiaTTSService } from '../../src/services/cartesia/index.js';
import { DeepgramSTTService } from '../../src/services/deepgram/index.js';
import { OpenAILLMService } from '../../src/services/openai/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`capacity agent: ${name} is not set`);
  return value;
};

await new Agent({
  async createSession() {
    const voice = new VoiceAgent({ instructions: 'You answer questions about opening hours in one short sentence.' });
    await voice.action({
      stt: new DeepgramSTTService({ apiKey: 'bench-key', baseUrl: env('BENCH_DEEPGRAM_URL') }),
      llm: new OpenAILLMService({ apiKey: 'bench-key', model: 'gpt-4o-mini', baseURL: env('BENCH_OPENAI_URL') }),
      tts: new CartesiaTTSService({ apiKey: 'bench-key', baseUrl: env('BENCH_CARTESIA_URL') }),
      vad: true,
    });
    await voice.start();
  },
}).connect();
