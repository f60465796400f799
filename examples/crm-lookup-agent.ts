// The CRM lookup agent: a slow tool and the per-call closure pattern. `lookup_customer` asks a (pretend) CRM
// about the caller, which takes 2.5 s; meanwhile the VoiceAgent says its filler ("One moment while I look that
// up.") so the caller does not sit in silence. The tool needs no argument from the model: its handler is made
// inside `createSession`, so it closes over *this* call and looks up the number the call comes from
// (`call.fromNumber`) — or the account in the call's metadata when the platform passes one — never a global
// "current call" (two overlapping calls would see each other's) and never a number the model might mistype.
//
// Offline (no keys, no network): the local simulator calls from 919876543210 and asks about its account; the
// scripted rules below stand in for the LLM:
//   npx tsx src/cli/main.ts demo --agent examples/crm-lookup-agent.ts
// For real: `npx piopiy-ai start examples/crm-lookup-agent.ts` with AGENT_ID, AGENT_TOKEN and the vendor keys
// (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...; see piopiy-ai/services/auto);
// replace `crm` with your CRM's client.
import 'dotenv/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, FunctionSchema, VoiceAgent } from 'piopiy-ai';
import { servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';
import { z } from 'zod';

const env = process.env;

interface Customer {
  accountId: string;
  name: string;
  plan: string;
  balance: string;
  openTicket: string | null;
}

/** A pretend CRM: a few customers, and the latency of a real one. */
const crm = {
  latencyMs: 2500,
  customers: new Map<string, Customer>([
    ['919876543210', { accountId: 'AC-1001', name: 'Priya', plan: 'Gold', balance: '250 rupees', openTicket: null }],
    ['918765432109', { accountId: 'AC-1002', name: 'Arjun', plan: 'Basic', balance: 'zero', openTicket: 'a slow internet connection' }],
  ]),

  /** Finds a customer by phone number (digits only) or account id; honours `signal` like a fetch would. */
  async find(key: { phone?: string | undefined; accountId?: string | undefined }, signal: AbortSignal): Promise<Customer | undefined> {
    await sleep(this.latencyMs, undefined, { signal });
    const all = [...this.customers.entries()];
    if (key.accountId !== undefined) return all.find(([, c]) => c.accountId === key.accountId)?.[1];
    // The last ten digits: 919876543210, +91 98765 43210 and 09876543210 are the same line.
    const digits = key.phone?.replace(/\D/g, '').slice(-10) ?? '';
    return all.find(([phone]) => digits.length === 10 && phone.slice(-10) === digits)?.[1];
  },
};

const lookupCustomer = FunctionSchema.fromZod({
  name: 'lookup_customer',
  description:
    "Looks the caller up in the CRM: name, plan, balance, open ticket. Leave phone out to use the number they are calling from; give it only when the caller asks about another number.",
  schema: z.object({ phone: z.string().optional().describe('Another phone number to look up, digits only') }),
});

/** What the model is told about a lookup (and what the scripted rules below read). */
type LookupResult = ({ found: true } & Customer) | { found: false; message: string };

function describeAccount(result: unknown): string {
  const r = result as LookupResult;
  if (!r.found) return "I couldn't find an account for this number. Could you give me the number on your account?";
  const ticket = r.openTicket === null ? 'You have no open tickets.' : `Your ticket about ${r.openTicket} is still open.`;
  return `Thanks, ${r.name}. You are on the ${r.plan} plan and your balance is ${r.balance}. ${ticket}`;
}

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: /\b(account|balance|plan|bill|billing|details|ticket|check)\b/i,
    toolCall: { name: 'lookup_customer', arguments: {} },
    afterTool: describeAccount,
  },
  { match: /\b(thank|thanks|bye|goodbye|that's all)\b/i, reply: 'You are welcome. Have a great day!' },
  { match: /\b(hello|hi|hey)\b/i, reply: 'Hello! I can check your account, your balance or your tickets.' },
];

/** The call the offline demo plays: `piopiy-ai demo --agent examples/crm-lookup-agent.ts`. */
export const demoScenario = { say: ['Can you check my account please'] };

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession(call) {
    // Everything about this call lives in this closure: the caller's number and the call's metadata (outbound
    // `variables`, or what your routing attached), parsed from JSON by the Agent.
    const metadata = (typeof call.metadata === 'object' && call.metadata !== null ? call.metadata : {}) as Record<string, unknown>;
    const accountId = typeof metadata.account_id === 'string' ? metadata.account_id : undefined;
    call.logger.info({ from: call.fromNumber, to: call.toNumber, metadata }, 'incoming call');

    const voice = new VoiceAgent({
      instructions:
        'You are the support line of Acme Broadband. When the caller asks about their account, balance, plan or ' +
        'tickets, call lookup_customer (without a phone number unless they give another one) and answer from its ' +
        'result in two short spoken sentences. Never read out account ids.',
      greeting: 'Hello, this is Acme Broadband support. How can I help?',
      // Said once when tools run longer than toolFillerAfterMs while the agent is silent.
      toolFiller: 'One moment while I look that up.',
      toolFillerAfterMs: 600,
    });
    voice.addTool(
      lookupCustomer,
      async ({ phone }, ctx): Promise<LookupResult> => {
        const key = phone !== undefined ? { phone } : accountId !== undefined ? { accountId } : { phone: call.fromNumber };
        // ctx.signal aborts the request if the caller interrupts (or the tool times out).
        const customer = await crm.find(key, ctx.signal);
        call.logger.info({ key, found: customer !== undefined }, 'CRM lookup');
        return customer === undefined ? { found: false, message: 'No customer with this number.' } : { found: true, ...customer };
      },
      { timeoutMs: 8000 },
    );
    const services = await servicesFromEnvironment({
      rules,
      fallback: 'I can check your account, your balance or your tickets. What would you like?',
    });
    await voice.action({ ...services, vad: true });
    await voice.start();
  },
});

await agent.connect();
