// `piopiy-ai demo --realtime openai`: the demo's call with a speech-to-speech model as the agent's brain, offline.
// The fake OpenAI Realtime server stands in for OpenAI: it "hears" the demo's lines in order (it cannot understand
// audio) and answers them with the transfer agent's rules; the agent file (examples/realtime-agent.ts) finds it
// through OPENAI_REALTIME_URL, as it would find OpenAI through its default URL.
import { startFakeOpenAIRealtime, type FakeOpenAIRealtime } from '../testing/fakes/openai-realtime.js';

export type DemoRealtimeModel = 'openai';
export const DEMO_REALTIME_MODELS: readonly DemoRealtimeModel[] = ['openai'];

export interface DemoRealtime {
  /** The caller's lines, once the demo knows them: what the fake hears, turn by turn. */
  setLines(lines: readonly string[]): void;
  close(): Promise<void>;
}

/** Starts the fake and points the agent file's environment at it. */
export async function startDemoRealtime(model: DemoRealtimeModel): Promise<DemoRealtime> {
  if (model !== 'openai') throw new RangeError(`--realtime: unknown model ${JSON.stringify(model)}; one of ${DEMO_REALTIME_MODELS.join(', ')}`);
  let lines: readonly string[] = [];
  const fake: FakeOpenAIRealtime = await startFakeOpenAIRealtime({
    transcripts: ({ turn }) => lines[turn] ?? '',
    rules: [
      {
        match: /\b(human|person|someone|agent|representative|operator|transfer)\b/i,
        toolCall: { name: 'transfer_call', arguments: { summary: 'The caller asked for a human.' } },
        afterTool: 'Of course. I am connecting you to a human representative now.',
      },
      { match: /\b(bye|goodbye)\b/i, reply: 'Thank you for calling. Goodbye!', toolCall: { name: 'end_call', arguments: { reason: 'caller said goodbye' } } },
      { match: /\b(hello|hi|hey)\b/i, reply: 'Hello! How can I help you today?' },
    ],
    fallback: 'I can connect you to a human agent. Just ask.',
  });
  // The demo is offline by definition: the agent talks to the fake whatever keys the environment holds.
  Object.assign(process.env, { OPENAI_REALTIME_URL: fake.url, OPENAI_API_KEY: 'sk-piopiy-demo-fake' });
  return {
    setLines: (next) => {
      lines = next;
    },
    close: () => fake.close(),
  };
}
