// A speech-to-speech agent: OpenAI Realtime (or Gemini Live, with REALTIME_MODEL=gemini) hears the caller and answers
// in its own voice (no separate STT, LLM and TTS), with the ready-made Piopiy call tools. With OpenAI a phone line's
// audio travels as μ-law both ways, unresampled; Gemini takes 16 kHz PCM and answers at 24 kHz.
// Real calls: `piopiy-ai start examples/realtime-agent.ts` with AGENT_ID, AGENT_TOKEN and OPENAI_API_KEY (or
// REALTIME_MODEL=gemini and GOOGLE_API_KEY) set.
// Offline: `npm run demo -- --realtime openai|gemini` runs it against the fake server (OPENAI_REALTIME_URL /
// GEMINI_LIVE_URL).
import 'dotenv/config';
import { Agent, RestClient, VoiceAgent, piopiyCallTools } from 'piopiy-ai';
import { GeminiLiveService } from 'piopiy-ai/services/google';
import { OpenAIRealtimeService } from 'piopiy-ai/services/openai';

const env = process.env;
const piopiy = new RestClient({ token: env.PIOPIY_TOKEN ?? '', baseUrl: env.PIOPIY_API_URL });

const callTools = piopiyCallTools({
  rest: piopiy,
  transfer: { to: env.SUPPORT_NUMBER ?? '918000000002', callerId: env.PIOPIY_NUMBER ?? '918000000001', mode: 'blind' },
  endCall: { cause: 'NORMAL_CLEARING' },
});

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession() {
    const voice = new VoiceAgent({
      instructions:
        'You are a helpful phone assistant. Keep answers short. Transfer to a human if the caller asks. ' +
        'When the caller is done, say goodbye and end the call.',
      greeting: 'Hello! How can I help you today?',
    });
    callTools.addTo(voice);
    const realtime =
      env.REALTIME_MODEL === 'gemini'
        ? new GeminiLiveService({ apiKey: env.GOOGLE_API_KEY ?? '', url: env.GEMINI_LIVE_URL, voice: 'Puck' })
        : new OpenAIRealtimeService({ apiKey: env.OPENAI_API_KEY ?? '', url: env.OPENAI_REALTIME_URL, voice: 'marin' });
    await voice.action({ realtime });
    await voice.start();
  },
});

await agent.connect();
