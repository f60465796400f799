// AssistantAggregator: the last processor of a conversation, after the output transport. Everything reaches it in
// the order the caller heard it: the output transport passes `tts-text` on once its audio has played (at an
// interruption, the heard part with `unheard` holding the rest), and other frames once the audio before them has
// played. It reports that to the call's Conversation, which writes the history: the words heard, which model
// response they belong to (`llm-response-start`), when an assistant turn ends, and whether the bot is speaking.
import type { Frame, FrameDirection } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';
import type { Conversation } from './conversation.js';

export interface AssistantAggregatorOptions extends Pick<FrameProcessorOptions, 'name'> {
  conversation: Conversation;
}

export class AssistantAggregator extends FrameProcessor {
  private readonly conversation: Conversation;

  constructor(options: AssistantAggregatorOptions) {
    super({ name: options.name ?? 'assistant-turns' });
    this.conversation = options.conversation;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      switch (frame.type) {
        case 'tts-text':
          this.conversation.heard(frame.text, frame.unheard);
          break;
        case 'llm-response-start':
          this.conversation.endAssistantTurn(false);
          this.conversation.responseHeard(frame.id);
          break;
        case 'bot-started-speaking':
          this.conversation.setBotSpeaking(true);
          break;
        case 'bot-stopped-speaking':
          this.conversation.setBotSpeaking(false);
          this.conversation.endAssistantTurn(false);
          break;
        case 'llm-response-end':
        case 'tts-stopped':
        case 'end':
        case 'cancel':
          this.conversation.endAssistantTurn(false);
          break;
        case 'interruption':
          this.conversation.endAssistantTurn(true);
          break;
        default:
          break;
      }
    }
    return this.pushFrame(frame, direction);
  }
}
