// The outbound agent: it places the call itself. Once connected to signaling, it asks the platform to ring a
// customer and connect this agent (`piopiy.ai.call({ callerId, toNumber, agentId, variables })`); when the
// customer answers, the platform invites the agent (`join_room`) like any call, with `fromNumber` = your Piopiy
// number, `toNumber` = the customer, and the call's `variables` as `call.metadata`. Here it confirms an
// appointment: the greeting is personalised from the metadata, and a `confirm_appointment` tool records the
// answer (a pretend booking system; replace `bookings` with yours).
//
// Offline (no keys, no network): `demoScenario.outbound` tells the demo not to place a call but to wait for the
// one this file places through the simulator's REST API, and to answer it as the customer:
//   npx tsx src/cli/main.ts demo --agent examples/outbound-call.ts
// For real: `npx piopiy-ai start examples/outbound-call.ts` with AGENT_ID (the agent's UUID), AGENT_TOKEN,
// PIOPIY_TOKEN (REST), PIOPIY_NUMBER (your Piopiy number, the caller id), CUSTOMER_NUMBER (who to call) and the
// vendor keys (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...; see
// piopiy-ai/services/auto). The process keeps serving calls after this one (inbound ones too) until stopped.
import 'dotenv/config';
import { Agent, FunctionSchema, RestClient, VoiceAgent, getDefaultLogger } from 'piopiy-ai';
import { servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';
import { z } from 'zod';

const env = process.env;
const piopiy = new RestClient({ token: env.PIOPIY_TOKEN ?? '', baseUrl: env.PIOPIY_API_URL });
const logger = getDefaultLogger();

/** A pretend booking system: what each customer answered. */
const bookings = new Map<string, { confirmed: boolean; at: string }>();

const confirmAppointment = FunctionSchema.fromZod({
  name: 'confirm_appointment',
  description: 'Records whether the customer will come to their appointment (false when they want another time).',
  schema: z.object({ confirmed: z.boolean().describe('true if they will come, false if not') }),
});

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  // "No" first: "I can't" must not count as "can".
  {
    match: /\b(no|not|cannot|can't|reschedule|another|cancel)\b/i,
    toolCall: { name: 'confirm_appointment', arguments: { confirmed: false } },
    afterTool: '{result}',
  },
  {
    match: /\b(yes|yeah|yep|sure|works|fine|okay|ok|confirm|great)\b/i,
    toolCall: { name: 'confirm_appointment', arguments: { confirmed: true } },
    afterTool: '{result}',
  },
  { match: /\b(who|what)\b/i, reply: 'This is City Dental, calling about your appointment. Can you make it?' },
];

/** The demo answers the call this file places, as the customer: `piopiy-ai demo --agent examples/outbound-call.ts`. */
export const demoScenario = { outbound: true, say: ['Yes that works for me'] };

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession(call) {
    // Outbound: the call's variables arrive as metadata; toNumber is the customer.
    const variables = (typeof call.metadata === 'object' && call.metadata !== null ? call.metadata : {}) as Record<string, unknown>;
    const name = typeof variables.customer_name === 'string' ? variables.customer_name : 'there';
    const slot = typeof variables.appointment === 'string' ? variables.appointment : 'tomorrow';
    const customer = call.toNumber ?? 'unknown';

    const voice = new VoiceAgent({
      instructions:
        `You are calling ${name} from City Dental to confirm their appointment ${slot}. Ask whether they can ` +
        'come, record the answer with confirm_appointment, then say goodbye. Keep it short and friendly.',
      greeting: `Hello ${name}, this is City Dental calling to confirm your appointment ${slot}. Can you make it?`,
      // A customer who says nothing is asked once more, then the call ends.
      idleTimeoutSecs: 15,
    });
    voice.addTool(confirmAppointment, ({ confirmed }) => {
      bookings.set(customer, { confirmed, at: slot });
      call.logger.info({ customer, confirmed }, 'appointment answer recorded');
      return confirmed
        ? `Wonderful, you are confirmed for ${slot}. See you then. Goodbye!`
        : 'No problem, I have cancelled it and our front desk will call you to pick a new time. Goodbye!';
    });
    const services = await servicesFromEnvironment({ rules, fallback: 'Sorry, can you make it to your appointment? Yes or no?' });
    await voice.action({ ...services, vad: true });
    await voice.start();
  },
});

await agent.connect();

// Registered and serving calls: now place the call. The platform rings the customer from PIOPIY_NUMBER and, when
// they answer, sends this agent the invite that starts `createSession` above.
const placed = await piopiy.ai.call({
  callerId: env.PIOPIY_NUMBER ?? '918000000001',
  toNumber: env.CUSTOMER_NUMBER ?? '919876543210',
  agentId: env.AGENT_ID ?? '',
  variables: { customer_name: 'Priya', appointment: 'tomorrow at 10 AM' },
});
logger.info({ callId: placed.call_id }, 'outbound call placed');
