// DtmfAggregator: turns the keys a caller presses into user messages, so "press 1 for sales" and "enter your order
// number, then hash" work with any LLM — the model reads a plain sentence ("The caller pressed: 1 2 3").
//
// An entry starts with the first key and ends at the first of: the terminator key (`#` by default, not part of the
// entry; pressed alone it is reported itself, for "press hash to repeat"), `maxDigits` keys, `timeoutMs` after
// the last key (on the pipeline's clock), or the caller starting to speak (the keys came first, so they go into
// the history first). The first key of an entry tells the conversation, which interrupts a speaking bot at once.
// An entry still open when the call ends is dropped: nobody is left to answer it.
import { MAX_DTMF_SEQUENCE, isDtmfDigit, makeFrame, type DtmfDigit, type Frame, type FrameDirection } from '../frames/index.js';
import { FrameProcessor } from '../pipeline/index.js';
import type { ClockTimer } from '../runtime/clock.js';
import type { Conversation } from './conversation.js';

export interface DtmfOptions {
  /** The key that ends an entry. Default '#'; null for none (entries end by count or time). */
  terminator?: DtmfDigit | null;
  /** An entry ends by itself after this many keys (1 for a menu). Default: no limit but 64. */
  maxDigits?: number;
  /** An entry ends this long after its last key. Default 3000 ms. */
  timeoutMs?: number;
  /** The user message the model reads for an entry's keys. Default: "The caller pressed: 1 2 3". */
  format?: (digits: string) => string;
}

export interface DtmfAggregatorOptions extends DtmfOptions {
  conversation: Conversation;
  name?: string;
}

export const DEFAULT_DTMF_TIMEOUT_MS = 3000;

/** The default message: the keys spaced out, so a model reads "1 2 3" as three keys rather than a hundred and twenty-three. */
export function describeKeys(digits: string): string {
  return `The caller pressed: ${[...digits].join(' ')}`;
}

/** The options with their defaults, checked: throws a RangeError or TypeError naming the option that is wrong. */
export function checkDtmfOptions(options: DtmfOptions): Required<DtmfOptions> {
  const { terminator = '#', maxDigits = MAX_DTMF_SEQUENCE, timeoutMs = DEFAULT_DTMF_TIMEOUT_MS, format = describeKeys } = options;
  if (terminator !== null && !isDtmfDigit(terminator)) {
    throw new RangeError(`dtmf.terminator must be one keypad key (0-9, *, #, A-D) or null, not ${JSON.stringify(terminator)}`);
  }
  if (!Number.isInteger(maxDigits) || maxDigits < 1 || maxDigits > MAX_DTMF_SEQUENCE) {
    throw new RangeError(`dtmf.maxDigits must be a whole number from 1 to ${MAX_DTMF_SEQUENCE}, not ${maxDigits}`);
  }
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`dtmf.timeoutMs must be a positive number of milliseconds, not ${timeoutMs}`);
  }
  if (typeof format !== 'function') throw new TypeError('dtmf.format must be a function of the digits');
  return { terminator, maxDigits, timeoutMs, format };
}

export class DtmfAggregator extends FrameProcessor {
  private readonly conversation: Conversation;
  private readonly terminator: DtmfDigit | null;
  private readonly maxDigits: number;
  private readonly timeoutMs: number;
  private readonly format: (digits: string) => string;
  private digits = '';
  private timer: ClockTimer | undefined;

  constructor(options: DtmfAggregatorOptions) {
    super({ name: options.name ?? 'dtmf-aggregator' });
    const { terminator, maxDigits, timeoutMs, format } = checkDtmfOptions(options);
    this.conversation = options.conversation;
    this.terminator = terminator;
    this.maxDigits = maxDigits;
    this.timeoutMs = timeoutMs;
    this.format = format;
  }

  /** The keys of the entry in progress. */
  get pendingDigits(): string {
    return this.digits;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      switch (frame.type) {
        case 'input-dtmf':
          this.onKey(frame.digit);
          break;
        case 'user-started-speaking':
          if (this.digits !== '') this.commit();
          break;
        case 'end':
        case 'cancel':
          this.reset();
          break;
        default:
          break;
      }
    }
    return this.pushFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.reset();
  }

  private onKey(digit: DtmfDigit): void {
    if (this.digits === '') this.conversation.callerPressedKey();
    if (digit === this.terminator) {
      this.commit(this.digits === '' ? digit : this.digits);
      return;
    }
    this.digits += digit;
    if (this.digits.length >= this.maxDigits) {
      this.commit();
      return;
    }
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.commit();
    }, this.timeoutMs);
  }

  private commit(digits = this.digits): void {
    this.reset();
    let text = describeKeys(digits);
    try {
      const formatted: unknown = this.format(digits);
      if (typeof formatted === 'string') text = formatted;
    } catch (error) {
      this.logger.warn({ err: error }, 'dtmf.format threw; using the default message');
    }
    const context = this.conversation.commitKeypadEntry(text);
    if (context !== undefined) void this.pushFrame(makeFrame('llm-context', { context }));
  }

  private reset(): void {
    this.digits = '';
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
