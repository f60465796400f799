// Switchers: an STT, LLM or TTS made of several named services, one of which is in use; `switchTo(name)` changes
// it in the middle of a call (a tool that moves the call to Hindi switches all three; a caller who asks for a
// slower voice gets another TTS). They are the fallback services with a first choice that can change, so a
// switcher also falls back to the other services when the one in use fails, and one mechanism serves both.
//
// Where a switch takes effect, so that nothing is cut or lost:
// - STT: between two caller turns (at once if the caller is silent and their last turn is transcribed, else when
//   it is); the new service hears the caller audio not yet transcribed (see FallbackSTTService), so speech that
//   arrives during the switch is transcribed by it;
// - LLM: at its next request. The conversation's context is owned by the call, not by a service: the new model
//   reads the whole history;
// - TTS: from the next utterance (the next reply, or the next `say`): a reply under way keeps its voice to the end.
import type { LLMService, LLMServiceOptions } from '../base/llm-service.js';
import type { STTService } from '../base/stt-service.js';
import type { TTSService } from '../base/tts-service.js';
import { FallbackLLMService, FallbackSTTService, FallbackTTSService, type FallbackOptions, type FallbackSTTOptions } from '../fallback/index.js';

export interface SwitcherOptions<K extends string> {
  /** The service in use at the start. Default: the first one given. */
  initial?: K;
}

/** The services by name, the initial one first (the fallback order for the rest is the order given). */
function servicesInOrder<K extends string, S>(kind: string, services: Readonly<Record<K, S>>, initial: K | undefined): { names: Map<S, K>; ordered: S[] } {
  const entries = Object.entries(services) as [K, S][];
  if (entries.length === 0) throw new TypeError(`${kind}: give at least one service, by name: { english: ..., hindi: ... }`);
  const names = new Map<S, K>();
  for (const [name, service] of entries) {
    if (names.has(service)) throw new TypeError(`${kind}: ${name} is the same service as ${names.get(service)}; give each name its own instance`);
    names.set(service, name);
  }
  if (initial !== undefined && !Object.hasOwn(services, initial)) throw new RangeError(`${kind}: initial ${JSON.stringify(initial)} is not one of ${[...names.values()].join(', ')}`);
  const first = initial === undefined ? entries[0]![1] : services[initial];
  return { names, ordered: [first, ...entries.map(([, s]) => s).filter((s) => s !== first)] };
}

function serviceNamed<K extends string, S>(kind: string, names: Map<S, K>, name: K): S {
  for (const [service, serviceName] of names) if (serviceName === name) return service;
  throw new RangeError(`${kind}.switchTo(): ${JSON.stringify(name)} is not one of ${[...names.values()].join(', ')}`);
}

export class STTSwitcher<K extends string = string> extends FallbackSTTService {
  private readonly names: Map<STTService, K>;

  constructor(services: Readonly<Record<K, STTService>>, options: SwitcherOptions<NoInfer<K>> & FallbackSTTOptions = {}) {
    const { names, ordered } = servicesInOrder('STTSwitcher', services, options.initial);
    super(ordered, { name: 'stt-switcher', ...options });
    this.names = names;
  }

  /** The chosen service: in use now, or from the end of the caller's turn. */
  get choice(): K {
    return this.names.get(this.fallback.preferred)!;
  }

  /** Switches to the service named `name` between two caller turns; no caller audio is lost. */
  switchTo(name: K): void {
    this.preferService(serviceNamed('STTSwitcher', this.names, name));
  }
}

export class LLMSwitcher<K extends string = string> extends FallbackLLMService {
  private readonly names: Map<LLMService, K>;

  constructor(services: Readonly<Record<K, LLMService>>, options: SwitcherOptions<NoInfer<K>> & FallbackOptions & Partial<LLMServiceOptions> = {}) {
    const { names, ordered } = servicesInOrder('LLMSwitcher', services, options.initial);
    super(ordered, { name: 'llm-switcher', ...options });
    this.names = names;
  }

  /** The chosen service: it answers the next request. */
  get choice(): K {
    return this.names.get(this.fallback.preferred)!;
  }

  /** Switches to the model named `name` from its next request (a response under way finishes on the old one). */
  switchTo(name: K): void {
    this.fallback.prefer(serviceNamed('LLMSwitcher', this.names, name));
  }
}

export class TTSSwitcher<K extends string = string> extends FallbackTTSService {
  private readonly names: Map<TTSService, K>;

  /** Audio of every service is delivered at the initial service's rate (others are resampled). */
  constructor(services: Readonly<Record<K, TTSService>>, options: SwitcherOptions<NoInfer<K>> & FallbackOptions = {}) {
    const { names, ordered } = servicesInOrder('TTSSwitcher', services, options.initial);
    super(ordered, { name: 'tts-switcher', ...options });
    this.names = names;
  }

  /** The chosen voice: it says the next utterance. */
  get choice(): K {
    return this.names.get(this.fallback.preferred)!;
  }

  /** Switches to the voice named `name` from the next utterance (a reply under way keeps its voice). */
  switchTo(name: K): void {
    this.fallback.prefer(serviceNamed('TTSSwitcher', this.names, name));
  }
}
