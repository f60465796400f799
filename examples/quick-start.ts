// The user's program from DESIGN.md, verbatim: it is type-checked with the rest of the repository, so the
// public API cannot drift from it. It serves real Piopiy calls: set AGENT_ID, AGENT_TOKEN, PIOPIY_TOKEN,
// PIOPIY_NUMBER, SUPPORT_NUMBER and the vendor keys, then `npx piopiy-ai start examples/quick-start.ts`.
// (Offline, run `npm run demo`, which uses examples/transfer-agent.ts.)
/* eslint-disable @typescript-eslint/no-unused-vars -- kept verbatim from DESIGN.md, where the handler ignores `reason` */
import 'dotenv/config';
import { Agent, VoiceAgent, FunctionSchema, RestClient } from 'piopiy-ai';
import { DeepgramSTTService } from 'piopiy-ai/services/deepgram';
import { OpenAILLMService } from 'piopiy-ai/services/openai';
import { CartesiaTTSService } from 'piopiy-ai/services/cartesia';

const piopiy = new RestClient({ token: process.env.PIOPIY_TOKEN! });

const transferToHuman = new FunctionSchema({
  name: 'transfer_to_human',
  description: 'Transfer the call to a human support agent when requested.',
  properties: { reason: { type: 'string', description: 'The reason for the transfer' } },
  required: [],
});

const agent = new Agent({
  agentId: process.env.AGENT_ID!,
  agentToken: process.env.AGENT_TOKEN!,
  async createSession(call) {             // one call: callId, fromNumber, toNumber, metadata, ...
    const voice = new VoiceAgent({
      instructions: 'You are a helpful assistant. Transfer to a human if the user asks.',
      greeting: 'Hello! How can I help you today?',
    });
    voice.addTool(transferToHuman, async ({ reason }) => {
      await piopiy.voice.transfer(call.callId, piopiy.voice.pipeline()
        .connect({ callerId: process.env.PIOPIY_NUMBER! }, [{ type: 'pstn', number: process.env.SUPPORT_NUMBER! }]));
      return 'Of course. I am connecting you to a human representative now.';
    });
    await voice.action({
      stt: new DeepgramSTTService({ apiKey: process.env.DEEPGRAM_API_KEY!, model: 'nova-2' }),
      llm: new OpenAILLMService({ apiKey: process.env.OPENAI_API_KEY!, model: 'gpt-4o-mini' }),
      tts: new CartesiaTTSService({ apiKey: process.env.CARTESIA_API_KEY! }),
      vad: true,
    });
    await voice.start();                   // resolves when the call is over
  },
});
await agent.connect();
