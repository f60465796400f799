// The ready-made `send_dtmf` tool: lets the model press keys on the call, to get through an automated phone
// menu (an IVR) or type a code the far end asks for. One line adds it: `voice.addTool(sendDtmfTool())`.
// The keys play after what the bot says before the call (`ctx.sendDtmf`), spaced out by the transport.
import { MAX_DTMF_SEQUENCE } from '../frames/index.js';
import { FunctionSchema } from './function-schema.js';
import type { ToolHandler, ToolOptions } from './tools.js';

/** A tool with its handler and options, ready for `VoiceAgent.addTool(tool)`. */
export interface AgentTool<TArgs = Record<string, unknown>> {
  readonly schema: FunctionSchema<TArgs>;
  readonly handler: ToolHandler<TArgs>;
  readonly options?: ToolOptions;
}

export interface SendDtmfArgs {
  digits: string;
}

export interface SendDtmfToolOptions {
  /** Default 'send_dtmf'. */
  name?: string;
  /** What the model reads about when to use it. The default suits IVR navigation and codes. */
  description?: string;
  /**
   * Let the model speak again once the keys are pressed. Default false: in a phone menu the bot should listen to
   * what the menu says next rather than talk over it.
   */
  runLLM?: boolean;
}

const DEFAULT_DESCRIPTION =
  'Press keys on the phone keypad (DTMF tones), for example to choose an option in an automated phone menu or ' +
  'to enter a number the other side asks for. Use only the keys 0-9, * and #; a w adds a half-second pause.';

export function sendDtmfTool(options: SendDtmfToolOptions = {}): AgentTool<SendDtmfArgs> {
  const schema = new FunctionSchema<SendDtmfArgs>({
    name: options.name ?? 'send_dtmf',
    description: options.description ?? DEFAULT_DESCRIPTION,
    properties: {
      digits: {
        type: 'string',
        description: 'The keys to press, in order, e.g. "1", "2#" or "1234w5".',
        pattern: '^[0-9*#A-Da-dw -]+$',
        minLength: 1,
        maxLength: MAX_DTMF_SEQUENCE,
      },
    },
    required: ['digits'],
  });
  return {
    schema,
    handler: ({ digits }, ctx) => {
      ctx.sendDtmf(digits);
      return `Pressed ${digits}.`;
    },
    options: { runLLM: options.runLLM ?? false, cancelOnInterruption: false },
  };
}
