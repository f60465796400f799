// The weather agent: two tools, `get_weather(city)` and `get_forecast(city, days)`, and a model that calls both
// in one response when the caller asks for "the weather and the forecast" — parallel tool calls. The framework
// runs the two handlers concurrently, appends both results (in call order) to the context, and runs the model
// once more to answer from both. The tools return made-up but deterministic data (no network): replace
// `weatherIn` and `forecastFor` with your weather API.
//
// Offline (no keys, no network): the local simulator plays a caller who asks for the weather and forecast in
// London; the scripted rules below stand in for the LLM (one rule, two tool calls):
//   npx tsx src/cli/main.ts demo --agent examples/weather-agent.ts
//   npx tsx src/cli/main.ts demo --agent examples/weather-agent.ts --say "What is the weather in Paris"
// For real: `npx piopiy-ai start examples/weather-agent.ts` with AGENT_ID, AGENT_TOKEN and the vendor keys
// (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...; see piopiy-ai/services/auto);
// a real LLM reads the tool descriptions and makes the parallel calls by itself.
import 'dotenv/config';
import { Agent, FunctionSchema, VoiceAgent } from 'piopiy-ai';
import { servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';
import { z } from 'zod';

const env = process.env;

// Tools described with zod: the handlers' arguments are typed and validated from the same schema.
const getWeather = FunctionSchema.fromZod({
  name: 'get_weather',
  description: 'The current weather in a city.',
  schema: z.object({ city: z.string().describe('The city name, e.g. London') }),
});

const getForecast = FunctionSchema.fromZod({
  name: 'get_forecast',
  description: 'The weather forecast for a city for the next few days.',
  schema: z.object({
    city: z.string().describe('The city name, e.g. London'),
    days: z.number().int().min(1).max(7).describe('How many days ahead, 1 to 7'),
  }),
});

// --- a pretend weather service: the same answer for the same question, every time -----------------------------

const CONDITIONS = ['sunny', 'partly cloudy', 'cloudy', 'light rain', 'windy'] as const;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** A small stable number from a text, so each city has its own weather. */
function seedOf(text: string): number {
  let hash = 7;
  for (const char of text.toLowerCase()) hash = (hash * 31 + char.charCodeAt(0)) % 100_003;
  return hash;
}

function weatherIn(city: string): { city: string; condition: string; temperatureC: number; summary: string } {
  const seed = seedOf(city);
  const condition = CONDITIONS[seed % CONDITIONS.length]!;
  const temperatureC = 8 + (seed % 23);
  return { city, condition, temperatureC, summary: `It is ${condition} and ${temperatureC} degrees in ${city}.` };
}

function forecastFor(city: string, days: number): { city: string; days: { day: string; condition: string; highC: number }[]; summary: string } {
  const seed = seedOf(city);
  const list = Array.from({ length: days }, (_, i) => ({
    day: DAYS[(seed + i) % DAYS.length]!,
    condition: CONDITIONS[(seed + i * 3 + 1) % CONDITIONS.length]!,
    highC: 10 + ((seed + i * 5) % 20),
  }));
  const spoken = list.map((d) => `${d.condition} on ${d.day}`);
  const joined = spoken.length > 1 ? `${spoken.slice(0, -1).join(', ')} and ${spoken.at(-1)!}` : spoken.join('');
  return { city, days: list, summary: `Over the next ${days} days: ${joined}.` };
}

// --- the offline brain ----------------------------------------------------------------------------------------

const KNOWN_CITIES = ['new york', 'london', 'paris', 'tokyo', 'berlin', 'madrid', 'rome', 'chennai', 'mumbai', 'delhi', 'dubai', 'sydney'];
const NUMBER_WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, week: 7 };

/** The city in what the caller said: a known city, else the word after "in" / "for". Offline speech recognition
 * gives lowercase words without punctuation, so this matches loosely. */
function cityIn(text: string): string | undefined {
  const lower = text.toLowerCase();
  const city = KNOWN_CITIES.find((c) => new RegExp(`\\b${c}\\b`).test(lower)) ?? /\b(?:in|for|at)\s+([a-z]{3,})\s*$/.exec(lower)?.[1];
  return city?.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

function daysIn(text: string): number {
  const match = /\b(\d|one|two|three|four|five|six|seven|week)\b(?:\s+days?)?/i.exec(text);
  if (match === null) return 3;
  const word = match[1]!.toLowerCase();
  return Math.min(7, Math.max(1, NUMBER_WORDS[word] ?? Number(word)));
}

const mentionsCity = (text: string): boolean => cityIn(text) !== undefined;

/** What the offline scripted LLM does; a real LLM follows the instructions and tool descriptions instead. */
export const rules: ScriptedRule[] = [
  {
    // "the weather and the forecast": both tools at once.
    match: (text) => /\b(weather|whether)\b/i.test(text) && /\bforecast\b/i.test(text) && mentionsCity(text),
    toolCalls: [
      { name: 'get_weather', arguments: (text) => ({ city: cityIn(text) }) },
      { name: 'get_forecast', arguments: (text) => ({ city: cityIn(text), days: daysIn(text) }) },
    ],
    afterTool: '{result.0.summary} {result.1.summary}',
  },
  {
    match: (text) => /\bforecast\b/i.test(text) && mentionsCity(text),
    toolCall: { name: 'get_forecast', arguments: (text) => ({ city: cityIn(text), days: daysIn(text) }) },
    afterTool: '{result.summary}',
  },
  {
    match: (text) => /\b(weather|whether|temperature|raining|sunny|hot|cold)\b/i.test(text) && mentionsCity(text),
    toolCall: { name: 'get_weather', arguments: (text) => ({ city: cityIn(text) }) },
    afterTool: '{result.summary}',
  },
  { match: /\b(weather|forecast|temperature)\b/i, reply: 'Sure. Which city?' },
  { match: /\b(thank|thanks|bye|goodbye)\b/i, reply: 'You are welcome. Goodbye!' },
];

/** The call the offline demo plays: `piopiy-ai demo --agent examples/weather-agent.ts`. */
export const demoScenario = { say: ['What is the weather and forecast in London'] };

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession() {
    const voice = new VoiceAgent({
      instructions:
        'You are a friendly weather line. Use get_weather for current conditions and get_forecast for the days ' +
        'ahead; when the caller wants both, call both tools at once. Answer in one or two short spoken sentences.',
      greeting: 'Hello! Ask me about the weather in any city.',
    });
    voice.addTool(getWeather, ({ city }) => weatherIn(city));
    voice.addTool(getForecast, ({ city, days }) => forecastFor(city, days));
    const services = await servicesFromEnvironment({ rules, fallback: 'You can ask me for the weather or the forecast in a city.' });
    await voice.action({ ...services, vad: true });
    await voice.start();
  },
});

await agent.connect();
