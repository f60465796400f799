// The PCMO pipeline builder: camelCase calls in, wire-format actions out (spec §7.4). It only shapes data;
// the client validates the whole pipeline when it is sent, so every error names its full path
// (`pipeline[1].prompt.voice_id`), exactly as for a hand-written array.
//
// `stream()` adds the legacy WebSocket stream action (spec §8). The v3 endpoints do not accept it, and the
// safest handling is to refuse it before the network: a builder that used `stream()` is typed
// `PipelineBuilder<true>`, which `transfer` / `pcmo.call` do not accept (a compile error), and at run time the
// v3 validators reject the action with a message saying why. Sending it anyway could at best fail on the
// platform, at worst be ignored mid-call and leave the caller in silence. Its output is for legacy flows only.
import { PiopiyValidationError } from './errors.js';
import { compact, normalizePipeline, toWire } from './normalize.js';
import type {
  ConnectParams,
  DtmfInputOptions,
  ConnectEndpoint,
  CallerInputMode,
  InputResultTarget,
  PcmoAction,
  PipelineAction,
  PlayPrompt,
  RecordingChannels,
  RecordingFormat,
  InputRetryOptions,
  StreamActionOptions,
  CallVariables,
} from './types.js';

type WireObject = Record<string, unknown>;

export class PipelineBuilder<HasLegacyActions extends boolean = false> {
  #actions: WireObject[] = [];

  /** Connects the call to the endpoints (PSTN numbers, SIP URIs, at most two AI agents, agents last). */
  connect(params: ConnectParams, endpoints: readonly ConnectEndpoint[]): this {
    return this.#push({ action: 'connect', params: toWire(params), endpoints: toWire(endpoints) });
  }

  /** Plays an audio file (a file name or URL). */
  play(fileName: string): this {
    return this.#push({ action: 'play', file_name: fileName });
  }

  /** Plays a prompt and collects DTMF and/or speech; the result goes to `onResult`. */
  playGetInput(
    prompt: PlayPrompt,
    input: readonly CallerInputMode[],
    onResult: InputResultTarget,
    options: { dtmf?: DtmfInputOptions; retries?: InputRetryOptions } = {},
  ): this {
    return this.#push({
      action: 'play_get_input',
      prompt: toWire(prompt),
      input: [...input],
      on_result: toWire(onResult),
      dtmf: toWire(options.dtmf),
      retries: toWire(options.retries),
    });
  }

  /** Collects input without a prompt. */
  input(onResult: InputResultTarget, options: { dtmf?: DtmfInputOptions } = {}): this {
    return this.#push({ action: 'input', on_result: toWire(onResult), dtmf: toWire(options.dtmf) });
  }

  /** Records the call. */
  record(options: { format?: RecordingFormat; channels?: RecordingChannels } = {}): this {
    return this.#push({ action: 'record', format: options.format, channels: options.channels });
  }

  /** Sets call parameters (at most 10 keys; string values up to 256 characters). */
  param(data: CallVariables): this {
    return this.#push({ action: 'param', data: { ...data } });
  }

  hangup(): this {
    return this.#push({ action: 'hangup' });
  }

  /**
   * The legacy WebSocket stream action (spec §8): not accepted by the v3 API (see the file header). Unset
   * options are left out, so the platform's defaults apply.
   */
  stream(options: StreamActionOptions): PipelineBuilder<true> {
    const action: WireObject = { action: 'stream', ...(toWire(options) as WireObject) };
    const field = `pipeline[${this.#actions.length}].ws_url`;
    if (typeof action.ws_url !== 'string' || !/^wss?:\/\//.test(action.ws_url)) {
      throw new PiopiyValidationError(`${field} must start with ws:// or wss://.`, field);
    }
    this.#push(action);
    return this as unknown as PipelineBuilder<true>;
  }

  /** Removes every action. */
  clear(): this {
    this.#actions = [];
    return this;
  }

  get length(): number {
    return this.#actions.length;
  }

  /**
   * The actions in wire format (snake_case, `from` turned into `caller_id`, numbers as digits), as a copy.
   * Not validated: the client validates on send.
   */
  build(): HasLegacyActions extends true ? PcmoAction[] : PipelineAction[] {
    return normalizePipeline(structuredClone(this.#actions)) as HasLegacyActions extends true ? PcmoAction[] : PipelineAction[];
  }

  /** `JSON.stringify(builder)` gives the pipeline. */
  toJSON(): PcmoAction[] {
    return this.build();
  }

  #push(action: WireObject): this {
    this.#actions.push(compact(action));
    return this;
  }
}
