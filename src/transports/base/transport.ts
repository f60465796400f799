// A call transport: where caller audio comes from and agent audio goes to (a Piopiy room, a phone WebSocket
// stream, a browser, memory in tests). It supplies the first and last processors of the pipeline and tells
// the session when the caller joins and leaves.
import { EventEmitter } from 'node:events';
import type { BaseInputTransport } from './input-transport.js';
import type { BaseOutputTransport } from './output-transport.js';

export interface TransportEvents {
  /** The caller's audio is flowing: time to greet. */
  'caller-joined': [];
  /** The caller hung up or left: the session ends. */
  'caller-left': [reason: string];
  dtmf: [digit: string];
  /** A JSON message from the remote side (data channel, stream event). */
  message: [message: unknown];
  error: [error: Error];
}

/** Audio as a transport carries it on its wire. The pipeline itself always carries mono PCM16. */
export interface AudioFormat {
  readonly sampleRate: number;
  readonly encoding: 'pcm16' | 'mulaw';
}

/**
 * A transport's native formats: the rate the caller's audio arrives at and the rate it plays the agent's audio at
 * with no conversion of its own. The VoiceAgent runs its pipeline at these rates, and a TTS that can produce the
 * output rate itself does, so a call resamples only where a service needs another rate (at most once each way).
 */
export interface TransportAudioFormats {
  readonly input: AudioFormat;
  readonly output: AudioFormat;
}

export interface CallTransport {
  readonly input: BaseInputTransport;
  readonly output: BaseOutputTransport;
  /** Native formats; without them the VoiceAgent assumes 16 kHz in and 8 kHz out (a Piopiy room's). */
  readonly audioFormats?: TransportAudioFormats;
  readonly events: TransportEventEmitter;
  /** Whether the caller is connected now (the greeting waits for this). */
  readonly callerConnected: boolean;
  /** Joins the call's media (room, socket); resolves once joined. Called by the VoiceAgent when it starts. */
  connect?(): Promise<void>;
  /** Leaves the call's media (room, socket). Idempotent. */
  close(): Promise<void>;
}

type Listener<A extends unknown[]> = (...args: A) => void;

/** An EventEmitter whose event names and arguments are checked by the compiler. */
export class TransportEventEmitter {
  private readonly emitter = new EventEmitter();

  on<K extends keyof TransportEvents>(event: K, listener: Listener<TransportEvents[K]>): this {
    this.emitter.on(event, listener as Listener<unknown[]>);
    return this;
  }

  once<K extends keyof TransportEvents>(event: K, listener: Listener<TransportEvents[K]>): this {
    this.emitter.once(event, listener as Listener<unknown[]>);
    return this;
  }

  off<K extends keyof TransportEvents>(event: K, listener: Listener<TransportEvents[K]>): this {
    this.emitter.off(event, listener as Listener<unknown[]>);
    return this;
  }

  emit<K extends keyof TransportEvents>(event: K, ...args: TransportEvents[K]): boolean {
    // An 'error' with no listener would throw from EventEmitter; transports report errors, they never crash.
    if (event === 'error' && this.emitter.listenerCount('error') === 0) return false;
    return this.emitter.emit(event, ...args);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
