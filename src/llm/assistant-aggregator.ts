// AssistantAggregator: the last processor of a conversation. It commits to the context only what the caller
// actually heard: the output transport passes `tts-text` on once its audio has played, and at an interruption
// sends the heard part (with `unheard` holding the rest). A reply is committed when it ends, when playback
// stops, or when it is interrupted.
import type { Frame, FrameDirection } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';
import type { LLMContext } from './context.js';

export interface AssistantAggregatorOptions extends Pick<FrameProcessorOptions, 'name'> {
  context: LLMContext;
  /** Called with each assistant message added to the context (what was heard). */
  onAssistantTurn?: (text: string, interrupted: boolean) => void;
}

export class AssistantAggregator extends FrameProcessor {
  private readonly context: LLMContext;
  private readonly onAssistantTurn: ((text: string, interrupted: boolean) => void) | undefined;
  private heard: string[] = [];
  private lastUnheard: string | undefined;

  constructor(options: AssistantAggregatorOptions) {
    super({ name: options.name ?? 'assistant-turns' });
    this.context = options.context;
    this.onAssistantTurn = options.onAssistantTurn;
  }

  /** What the bot was about to say when it was last interrupted (cleared once it speaks again). */
  get unheardText(): string | undefined {
    return this.lastUnheard;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      switch (frame.type) {
        case 'tts-text':
          if (frame.text.trim() !== '') this.heard.push(frame.text.trim());
          if (frame.unheard !== undefined) {
            this.lastUnheard = frame.unheard;
            this.commit(true);
          } else {
            this.lastUnheard = undefined;
          }
          break;
        case 'llm-response-end':
        case 'tts-stopped':
        case 'bot-stopped-speaking':
        case 'interruption':
        case 'end':
        case 'cancel':
          this.commit(frame.type === 'interruption');
          break;
        default:
          break;
      }
    }
    return this.pushFrame(frame, direction);
  }

  private commit(interrupted: boolean): void {
    if (this.heard.length === 0) return;
    const text = this.heard.join(' ');
    this.heard = [];
    this.context.addAssistantMessage(text);
    try {
      this.onAssistantTurn?.(text, interrupted);
    } catch (error) {
      this.logger.warn({ err: error }, 'onAssistantTurn callback threw; ignored');
    }
  }
}
