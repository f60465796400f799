// The seed, transcribed: the Python SDK docs' "transfer via function call" program written as closely as
// TypeScript allows, so a piopiy-ai user recognises every line. Where it differs, it says why:
// - the tool schema is one `parameters` object, as the docs write it (examples/transfer-agent.ts uses the
//   `properties` / `required` form: both give the same tool);
// - the handler is defined outside `createSession`, as in the seed, but finds its call in its context (`ctx.call`)
//   instead of a module-level "active call id": that global is overwritten as soon as two calls overlap;
// - the pipeline is the seed's raw array in a variable without a type (`from`, `+` numbers are normalised);
// - the transfer is not awaited, as in the seed (whose client is synchronous). If the platform refuses it, nothing
//   here catches the rejection: the Agent then logs it with this call's id, the caller hears the goodbye, and this
//   call ends — every other call goes on (AgentOptions.isolateCallErrors). Awaiting it, as transfer-agent.ts does,
//   lets the handler tell the model that the transfer failed instead.
//
// Offline (no keys, no network): `npx tsx src/cli/main.ts demo --agent examples/seed-transfer.ts` — the simulated
// caller asks for a human and is transferred. For real: `npx piopiy-ai start examples/seed-transfer.ts` with
// AGENT_ID, AGENT_TOKEN, PIOPIY_TOKEN, PIOPIY_NUMBER, SUPPORT_NUMBER and the vendor keys (DEEPGRAM_API_KEY,
// OPENAI_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...; see piopiy-ai/services/auto).
import 'dotenv/config';
import { Agent, FunctionSchema, RestClient, VoiceAgent, type ToolCallContext } from 'piopiy-ai';
import { prewarmServicesFromEnvironment, servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';

const piopiyRest = new RestClient({ token: process.env.PIOPIY_TOKEN ?? '', baseUrl: process.env.PIOPIY_API_URL });

// 1. The tool schema.
const transferToolSchema = new FunctionSchema({
  name: 'transfer_to_human',
  description: 'Transfer the call to a human support agent when requested.',
  parameters: {
    type: 'object',
    properties: {
      reason: { type: 'string', description: 'The reason for the transfer' },
    },
  },
});

// 2. The tool handler, outside createSession. The seed's is `async` but awaits nothing; a handler may be either.
function handleTransfer({ reason }: Record<string, unknown>, { call }: ToolCallContext): string {
  if (call === undefined) return 'There is no call to transfer.';
  // stderr: the demo's stdout carries its JSON summary.
  console.error(`Transferring call ${call.callId} due to: ${String(reason)}`);

  const pipeline = [
    {
      action: 'connect',
      params: {
        from: process.env.PIOPIY_NUMBER ?? '+918000000001',
      },
      endpoints: [{ type: 'pstn', number: process.env.SUPPORT_NUMBER ?? '+918000000002' }],
    },
  ];

  void piopiyRest.voice.transfer(call.callId, pipeline);
  return 'Of course. I am connecting you to a human representative now.';
}

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: /\b(human|person|someone|agent|representative|operator|transfer)\b/i,
    toolCall: { name: 'transfer_to_human', arguments: { reason: 'The caller asked for a human.' } },
    afterTool: '{result}',
  },
];

// 3. One session per call.
async function createSession(): Promise<void> {
  const voiceAgent = new VoiceAgent({
    instructions: 'You are a helpful assistant. If the user asks to speak to a human, use the transfer_to_human tool.',
    greeting: 'Hello! How can I help you today?',
  });
  voiceAgent.addTool(transferToolSchema, handleTransfer);
  const services = await servicesFromEnvironment({ rules, fallback: 'I can connect you to a human agent. Just ask.' });
  await voiceAgent.action({ ...services, vad: true });
  await voiceAgent.start();
}

// 4. The agent.
export const agent = new Agent({
  agentId: process.env.AGENT_ID ?? '',
  agentToken: process.env.AGENT_TOKEN ?? '',
  signalingUrl: process.env.PIOPIY_SIGNALING_URL,
  prewarm: () => prewarmServicesFromEnvironment(),
  createSession,
});

export const demoScenario = { say: ['I want to talk to a human please'], expectTransfer: true };

await agent.connect();
