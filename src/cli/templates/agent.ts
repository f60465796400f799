// A voice agent for Piopiy phone calls: it answers, talks, and hands the caller to a human when asked.
//
//   npm run demo    one simulated call on this machine (no keys, no network)
//   npm run dev     call it from your browser, with your microphone
//   npm test        the simulated call of agent.test.ts
//   npm start       real Piopiy calls (fill in .env first: see .env.example)
//
// Speech-to-text, the LLM and text-to-speech come from the environment: each vendor whose key is set in .env,
// the offline engines otherwise (with the rules below instead of a language model).
import 'dotenv/config';
import { Agent, FunctionSchema, RestClient, VoiceAgent } from 'piopiy-ai';
import { prewarmServicesFromEnvironment, servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';

const env = process.env;

// `npm run demo`, `npm run dev` and `npm test` run the agent on the local Piopiy simulator: they set its address
// (PIOPIY_SIGNALING_URL) and credentials, and it accepts any phone number, so the numbers have stand-ins there.
// On the platform a missing setting stops the agent at start rather than transferring callers to a stand-in.
const onSimulator = env.PIOPIY_SIGNALING_URL !== undefined;

function setting(name: string, simulatorStandIn?: string): string {
  const value = env[name]?.trim();
  if (value) return value;
  if (onSimulator && simulatorStandIn !== undefined) return simulatorStandIn;
  throw new Error(`${name} is not set: copy .env.example to .env and fill it in`);
}

const piopiy = new RestClient({ token: setting('PIOPIY_TOKEN'), baseUrl: env.PIOPIY_API_URL });
const callerId = setting('PIOPIY_NUMBER', '918000000001');
const supportNumber = setting('SUPPORT_NUMBER', '918000000002');

const transferToHuman = new FunctionSchema({
  name: 'transfer_to_human',
  description: 'Transfer the call to a human support agent when requested.',
  properties: { reason: { type: 'string', description: 'The reason for the transfer' } },
  required: [],
});

/** What the offline stand-in for a language model does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: /\b(human|person|someone|agent|representative|operator|transfer)\b/i,
    toolCall: { name: 'transfer_to_human', arguments: { reason: 'The caller asked for a human.' } },
    afterTool: '{result}',
  },
  { match: /\b(hello|hi|hey)\b/i, reply: 'Hello! How can I help you today?' },
];

export const agent = new Agent({
  agentId: setting('AGENT_ID'),
  agentToken: setting('AGENT_TOKEN'),
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  // Loads the offline engines before the first call, when no vendor key replaces them.
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
        piopiy.voice.pipeline().connect({ callerId }, [{ type: 'pstn', number: supportNumber }]),
      );
      return 'Of course. I am connecting you to a human representative now.';
    });
    const services = await servicesFromEnvironment({ rules, fallback: 'I can connect you to a human agent. Just ask.' });
    await voice.action({ ...services, vad: true });
    await voice.start(); // resolves when the call is over
  },
});

await agent.connect();
