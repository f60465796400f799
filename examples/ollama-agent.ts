// The local-model agent: the LLM is a model on your own machine, served by Ollama (or any OpenAI-compatible
// server: llama.cpp's server, vLLM, LM Studio) — no LLM key, no text leaving the machine. `OllamaLLMService` is
// `OpenAILLMService` with Ollama's defaults; tools work as with OpenAI (pick a model that supports tool calling,
// e.g. llama3.2, qwen2.5, mistral-nemo). Speech-to-text and text-to-speech come from servicesFromEnvironment:
// vendors when their keys are set, otherwise Pocketsphinx and Flite — so with Ollama the whole call runs locally.
//
// Which LLM: OLLAMA_BASE_URL set (e.g. http://localhost:11434/v1) -> Ollama with OLLAMA_MODEL (default llama3.2);
// not set -> the scripted rules below (offline, deterministic, not a language model), or a vendor LLM when its
// key is set.
//
// Offline (no Ollama, no keys, no network): the scripted rules answer a caller who asks when the shop is open:
//   npx tsx src/cli/main.ts demo --agent examples/ollama-agent.ts
// With Ollama (`ollama pull llama3.2 && ollama serve`), the same demo call answered by the local model:
//   OLLAMA_BASE_URL=http://localhost:11434/v1 npx tsx src/cli/main.ts demo --agent examples/ollama-agent.ts
// For real: `npx piopiy-ai start examples/ollama-agent.ts` with AGENT_ID, AGENT_TOKEN, OLLAMA_BASE_URL (and
// OLLAMA_MODEL), plus STT/TTS vendor keys if you want them (DEEPGRAM_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID).
import 'dotenv/config';
import { Agent, FunctionSchema, VoiceAgent } from 'piopiy-ai';
import { servicesFromEnvironment } from 'piopiy-ai/services/auto';
import { OllamaLLMService } from 'piopiy-ai/services/openai';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';
import { z } from 'zod';

const env = process.env;

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
type Weekday = (typeof WEEKDAYS)[number];

/** The shop's opening hours (your calendar or database in a real agent). */
const OPENING_HOURS: Readonly<Record<Weekday, string>> = {
  monday: '9 AM to 6 PM',
  tuesday: '9 AM to 6 PM',
  wednesday: '9 AM to 6 PM',
  thursday: '9 AM to 8 PM',
  friday: '9 AM to 8 PM',
  saturday: '10 AM to 4 PM',
  sunday: 'closed',
};

const checkOpeningHours = FunctionSchema.fromZod({
  name: 'check_opening_hours',
  description: 'The opening hours of the shop on a day of the week.',
  schema: z.object({ day: z.enum(WEEKDAYS).describe('The day of the week, lowercase') }),
});

function hoursOn(day: Weekday): { day: string; hours: string; summary: string } {
  const hours = OPENING_HOURS[day];
  const name = day[0]!.toUpperCase() + day.slice(1);
  return { day: name, hours, summary: hours === 'closed' ? `We are closed on ${name}.` : `On ${name} we are open from ${hours}.` };
}

/** What the offline scripted LLM does; a local model follows the instructions instead. */
export const rules: ScriptedRule[] = [
  {
    match: new RegExp(`\\b(${WEEKDAYS.join('|')})\\b`, 'i'),
    toolCall: { name: 'check_opening_hours', arguments: (_text, match) => ({ day: match?.[1]?.toLowerCase() }) },
    afterTool: '{result.summary}',
  },
  { match: /\b(open|opening|hours|close|closing|time)\b/i, reply: 'We are open every day except Sunday. Which day would you like?' },
  { match: /\b(thank|thanks|bye|goodbye)\b/i, reply: 'You are welcome. Goodbye!' },
];

/** The call the offline demo plays: `piopiy-ai demo --agent examples/ollama-agent.ts`. */
export const demoScenario = { say: ['Are you open on Saturday'] };

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession() {
    const voice = new VoiceAgent({
      instructions:
        'You answer the phone for Corner Books, a bookshop. For opening hours call check_opening_hours with the ' +
        'day the caller asks about. Answer in one short spoken sentence, without lists or formatting.',
      greeting: 'Hello, Corner Books. How can I help?',
    });
    voice.addTool(checkOpeningHours, ({ day }) => hoursOn(day));
    const { stt, tts, llm: fallbackLLM } = await servicesFromEnvironment({
      rules,
      fallback: 'I can tell you our opening hours for any day of the week.',
    });
    const llm =
      env.OLLAMA_BASE_URL !== undefined && env.OLLAMA_BASE_URL !== ''
        ? new OllamaLLMService({ model: env.OLLAMA_MODEL ?? 'llama3.2', baseURL: env.OLLAMA_BASE_URL })
        : fallbackLLM;
    await voice.action({ stt, llm, tts, vad: true });
    await voice.start();
  },
});

await agent.connect();
