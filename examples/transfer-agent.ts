// The transfer agent: answers the phone, and hands the caller to a human through the Piopiy REST API when
// asked. The same file serves real Piopiy calls (`piopiy-ai start examples/transfer-agent.ts` with AGENT_ID and
// AGENT_TOKEN set) and the offline demo (`npm run demo`, against the local simulator).
//
// Services come from the environment: real vendors when their keys are set (DEEPGRAM_API_KEY, OPENAI_API_KEY,
// CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...), otherwise the offline engines with the rules below as the brain.
import 'dotenv/config';
import { Agent, FunctionSchema, RestClient, VoiceAgent } from 'piopiy-ai';
import { prewarmServicesFromEnvironment, servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';

const env = process.env;
const piopiy = new RestClient({ token: env.PIOPIY_TOKEN ?? '', baseUrl: env.PIOPIY_API_URL });

const transferToHuman = new FunctionSchema({
  name: 'transfer_to_human',
  description: 'Transfer the call to a human support agent when requested.',
  properties: { reason: { type: 'string', description: 'The reason for the transfer' } },
  required: [],
});

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: /\b(human|person|someone|agent|representative|operator|transfer)\b/i,
    toolCall: { name: 'transfer_to_human', arguments: { reason: 'The caller asked for a human.' } },
    afterTool: '{result}',
  },
  { match: /\b(hello|hi|hey)\b/i, reply: 'Hello! How can I help you today?' },
];

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  // Loads the offline engines (Pocketsphinx, Flite) before the first call, when no vendor key replaces them.
  prewarm: () => prewarmServicesFromEnvironment(),
  async createSession(call) {
    const voice = new VoiceAgent({
      instructions: 'You are a helpful phone assistant. Keep answers short. Transfer to a human if the caller asks.',
      greeting: 'Hello! How can I help you today?',
    });
    voice.addTool(transferToHuman, async ({ reason }) => {
      call.logger.info({ reason }, 'transferring to a human');
      await piopiy.voice.transfer(
        call.callId,
        piopiy.voice.pipeline().connect({ callerId: env.PIOPIY_NUMBER ?? '918000000001' }, [
          { type: 'pstn', number: env.SUPPORT_NUMBER ?? '918000000002' },
        ]),
      );
      return 'Of course. I am connecting you to a human representative now.';
    });
    const services = await servicesFromEnvironment({
      rules,
      fallback: 'I can connect you to a human agent. Just ask.',
    });
    await voice.action({ ...services, vad: true });
    await voice.start();
  },
});

await agent.connect();
