// Interruption tuning: how readily the caller can cut the agent off. Phone lines are noisy and callers say
// "uh-huh" and "okay" while they listen; barging in on every sound makes an agent stop mid-sentence for nothing.
// Three knobs, all in `voice.action()`:
// - `interruptionStrategy`: when caller speech over the agent is a real interruption. Here at least two words
//   (`MinWordsInterruptionStrategy({ minWords: 2 })`): "okay" alone does not stop the agent, "wait, stop" does.
//   `MinDurationInterruptionStrategy({ seconds: 0.6 })` decides on speaking time instead (no transcript needed);
//   `null` interrupts on any voice; `allowInterruptions: false` never does.
// - `vad`: the Silero voice detector's settings. `confidence: 0.6` accepts slightly less certain speech than the
//   default 0.7 (quiet or narrowband callers); `stopSecs: 0.3` waits 0.3 s of silence (default 0.2) before the
//   caller's turn ends, so a short pause does not cut their sentence in two.
// - `allowInterruptions` (default true).
// The agent gives a long answer the caller can interrupt; when they do, it stops within one audio chunk and the
// context keeps only the words the caller heard.
//
// Offline (no keys, no network): the local simulator's caller asks for a long explanation, talks over it 2 s
// in ("wait stop please": two words, so it interrupts), then says goodbye; the scripted rules below stand in for
// the LLM. The demo's summary shows the long answer cut short (`interrupted: true`, only the words heard):
//   npx tsx src/cli/main.ts demo --agent examples/interruption-tuning.ts
// For real: `npx piopiy-ai start examples/interruption-tuning.ts` with AGENT_ID, AGENT_TOKEN and the vendor keys
// (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY + CARTESIA_VOICE_ID, ...; see piopiy-ai/services/auto).
import 'dotenv/config';
import { Agent, MinWordsInterruptionStrategy, VoiceAgent } from 'piopiy-ai';
import { servicesFromEnvironment } from 'piopiy-ai/services/auto';
import type { ScriptedRule } from 'piopiy-ai/services/scripted';

const env = process.env;

const LONG_EXPLANATION =
  'Sure. It works in three steps. First, you pick how much data you need each month. Second, you pick a ' +
  'speed. Third, we install the router for free within two days.';

/** What the offline scripted LLM does; a real LLM follows the instructions instead. */
export const rules: ScriptedRule[] = [
  { match: /\b(explain|how|works?|tell me|details|plans?)\b/i, reply: LONG_EXPLANATION },
  { match: /\b(stop|wait|hold on|enough)\b/i, reply: 'Of course. What would you like to know?' },
  { match: /\b(thank|thanks|bye|goodbye|that is all)\b/i, reply: 'You are welcome. Goodbye!' },
];

/**
 * The call the offline demo plays: `piopiy-ai demo --agent examples/interruption-tuning.ts`. The second line starts
 * once the agent has been speaking its answer for 2 s: the caller barges in.
 */
export const demoScenario = {
  say: ['Can you explain how the plan works', { text: 'Wait stop please', afterAgentSpeechMs: 2000 }, 'That is all goodbye'],
  expectInterruption: true,
};

export const agent = new Agent({
  agentId: env.AGENT_ID ?? '',
  agentToken: env.AGENT_TOKEN ?? '',
  signalingUrl: env.PIOPIY_SIGNALING_URL,
  async createSession() {
    const voice = new VoiceAgent({
      instructions:
        'You are the sales line of Acme Broadband. Explain plans clearly, in full sentences; if the caller ' +
        'interrupts, stop and answer what they asked.',
      greeting: 'Hello! Ask me how our broadband plans work.',
    });
    const services = await servicesFromEnvironment({ rules, fallback: 'I can explain how our plans work. Just ask.' });
    await voice.action({
      ...services,
      vad: { confidence: 0.6, stopSecs: 0.3 },
      allowInterruptions: true,
      interruptionStrategy: new MinWordsInterruptionStrategy({ minWords: 2 }),
    });
    await voice.start();
  },
});

await agent.connect();
