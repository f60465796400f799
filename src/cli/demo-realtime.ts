// `piopiy-ai demo --realtime openai|gemini`: the demo's call with a speech-to-speech model as the agent's brain,
// offline. The model's fake (OpenAI Realtime or Gemini Live) stands in for the vendor: it "hears" the demo's lines in
// order (it cannot understand audio) and answers them with the transfer agent's rules; the agent file
// (examples/realtime-agent.ts) finds it through the environment (REALTIME_MODEL and the fake's URL), as it would
// find the vendor through its default URL.
import { startFakeGeminiLive } from '../testing/fakes/gemini-live.js';
import { startFakeOpenAIRealtime } from '../testing/fakes/openai-realtime.js';
import { DEMO_REALTIME_MODELS, type DemoRealtimeModel } from './command-choices.js';
export { DEMO_REALTIME_MODELS, type DemoRealtimeModel } from './command-choices.js';

export interface DemoRealtime {
  /** The caller's lines, once the demo knows them: what the fake hears, turn by turn. */
  setLines(lines: readonly string[]): void;
  close(): Promise<void>;
}

const TRANSFER = /\b(human|person|someone|agent|representative|operator|transfer)\b/i;
const BYE = /\b(bye|goodbye)\b/i;
const HELLO = /\b(hello|hi|hey)\b/i;
const TRANSFER_LINE = 'Of course. I am connecting you to a human representative now.';
const GOODBYE = 'Thank you for calling. Goodbye!';
const HELLO_LINE = 'Hello! How can I help you today?';
const FALLBACK = 'I can connect you to a human agent. Just ask.';

/** Starts the fake and points the agent file's environment at it. */
export async function startDemoRealtime(model: DemoRealtimeModel): Promise<DemoRealtime> {
  if (!DEMO_REALTIME_MODELS.includes(model)) throw new RangeError(`--realtime: unknown model ${JSON.stringify(model)}; one of ${DEMO_REALTIME_MODELS.join(', ')}`);
  let lines: readonly string[] = [];
  const transcripts = ({ turn }: { turn: number }): string => lines[turn] ?? '';
  const summary = { summary: 'The caller asked for a human.' };
  const endCall = { reason: 'caller said goodbye' };
  let close: () => Promise<void>;
  // The demo is offline by definition: the agent talks to the fake whatever keys the environment holds.
  if (model === 'gemini') {
    const fake = await startFakeGeminiLive({
      transcripts,
      rules: [
        { match: TRANSFER, toolCall: { name: 'transfer_call', args: summary }, afterTool: TRANSFER_LINE },
        { match: BYE, reply: GOODBYE, toolCall: { name: 'end_call', args: endCall } },
        { match: HELLO, reply: HELLO_LINE },
      ],
      fallback: FALLBACK,
    });
    Object.assign(process.env, { REALTIME_MODEL: 'gemini', GEMINI_LIVE_URL: fake.url, GOOGLE_API_KEY: 'AIza-piopiy-demo-fake' });
    close = () => fake.close();
  } else {
    const fake = await startFakeOpenAIRealtime({
      transcripts,
      rules: [
        { match: TRANSFER, toolCall: { name: 'transfer_call', arguments: summary }, afterTool: TRANSFER_LINE },
        { match: BYE, reply: GOODBYE, toolCall: { name: 'end_call', arguments: endCall } },
        { match: HELLO, reply: HELLO_LINE },
      ],
      fallback: FALLBACK,
    });
    Object.assign(process.env, { REALTIME_MODEL: 'openai', OPENAI_REALTIME_URL: fake.url, OPENAI_API_KEY: 'sk-piopiy-demo-fake' });
    close = () => fake.close();
  }
  return {
    setLines: (next) => {
      lines = next;
    },
    close: () => close(),
  };
}
