// The transfer agent: answers the phone, hands the caller to a human when asked and hangs up after a goodbye,
// with the ready-made Piopiy call tools (transfer_call, end_call). PIOPIY_TRANSFER_MODE=warm rings the human while
// the caller stays with the agent (default: blind, the caller is handed over at once). The same file serves real Piopiy calls (`piopiy-ai start examples/transfer-agent.ts` with AGENT_ID and
// AGENT_TOKEN set) and the offline demo (`npm run demo`, against the local simulator).
//
// Services come from the environment: real vendors when their keys are set (DEEPGRAM_API_KEY, OPENAI_API_KEY,
// CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...), otherwise the offline engines with the rules below as the brain.
import 'dotenv/config';
import { Agent, RestClient, VoiceAgent, piopiyCallTools } from 'piopiy-ai';
import { prewarmServicesFromEnvironment, servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';

const env = process.env;
const piopiy = new RestClient({ token: env.PIOPIY_TOKEN ?? '', baseUrl: env.PIOPIY_API_URL });

const callTools = piopiyCallTools({
  rest: piopiy,
  transfer: {
    to: env.SUPPORT_NUMBER ?? '918000000002',
    callerId: env.PIOPIY_NUMBER ?? '918000000001',
    mode: env.PIOPIY_TRANSFER_MODE === 'warm' ? 'warm' : 'blind',
  },
  endCall: { cause: 'NORMAL_CLEARING' },
});

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: /\b(human|person|someone|agent|representative|operator|transfer)\b/i,
    // Offline, Pocketsphinx learns what callers say from these (its domain language model).
    examples: [
      'I want to talk to a human',
      'Can I speak to a person please',
      'Connect me to an agent',
      'Transfer me to a representative',
      'I need to speak with someone',
      'Let me talk to a real person',
      'Get me an operator',
    ],
    toolCall: { name: 'transfer_call', arguments: { summary: 'The caller asked for a human.' } },
    afterTool: (result) => {
      const { status } = result as { status: string };
      if (status === 'transferred') return 'Of course. I am connecting you to a human representative now.';
      if (status === 'ringing') return 'Of course. I am calling a colleague for you now; please stay on the line.';
      return 'I am sorry, I could not reach a colleague right now. How else can I help?';
    },
  },
  {
    match: /\b(bye|goodbye)\b/i,
    examples: ['Goodbye', 'Thanks bye', 'That is all, goodbye'],
    reply: 'Thank you for calling. Goodbye!',
    toolCall: { name: 'end_call', arguments: { reason: 'caller said goodbye' } },
  },
  { match: /\b(hello|hi|hey)\b/i, examples: ['Hello there', 'Hi'], reply: 'Hello! How can I help you today?' },
];

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  // Loads the offline engines (Pocketsphinx, Flite) before the first call, when no vendor key replaces them.
  prewarm: () => prewarmServicesFromEnvironment(process.env, { rules }),
  async createSession() {
    const voice = new VoiceAgent({
      instructions:
        'You are a helpful phone assistant. Keep answers short. Transfer to a human if the caller asks. ' +
        'When the caller is done, say goodbye and end the call.',
      greeting: 'Hello! How can I help you today?',
    });
    callTools.addTo(voice);
    const services = await servicesFromEnvironment({
      rules,
      fallback: 'I can connect you to a human agent. Just ask.',
    });
    await voice.action({ ...services, vad: true });
    await voice.start();
  },
});

await agent.connect();
