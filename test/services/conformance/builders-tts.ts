// Builders of TTS entries, one per kind (HTTP, WebSocket), so that each vendor's entry in entries-tts.ts is its
// data: its fake, how its service is pointed at the fake, and where the fake keeps what it received.
import type { TTSService } from '../../../src/services/base/index.js';
import type { TTSEntry, TTSFault, TTSHarness } from './harness.js';

type ServiceOptions = Parameters<TTSHarness['service']>[0];
type EntryData = Omit<TTSEntry, 'start' | 'onDrop'>;
type Sent = { voice?: string; language?: string };

/** A field of an object received as JSON, when it is a string. */
export function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/** The fault a fake queues for a conformance one: an error with the Retry-After, a stall, a drop after some audio. */
export type SpeechFault = { error: number; retryAfter?: number } | { stall: true } | { drop: true; afterChunks: number };

export function speechFault(fault: TTSFault): SpeechFault {
  switch (fault.kind) {
    case 'error':
      return { error: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) };
    case 'stall':
      return { stall: true };
    case 'drop':
      return { drop: true, afterChunks: 2 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: one request per sentence; a drop fails the sentence.

// Fakes type their faults each their own way (`never`): an entry whose vendor differs maps them with `fault`.
interface HttpFake {
  failSpeech(...faults: never[]): void;
  close(): Promise<void>;
}

export interface HttpTTSSpec<Fake, Request> {
  start(): Promise<Fake>;
  service(fake: Fake, options: ServiceOptions): TTSService;
  /** The fake's requests that were syntheses. */
  syntheses(fake: Fake): readonly Request[];
  /** Voice and language as the last synthesis carried them. */
  sent(last: Request | undefined): Sent;
  /** The fault the fake queues. Default: `speechFault`. */
  fault?(fault: TTSFault): unknown;
}

export function httpTTSEntry<Fake extends HttpFake, Request>(data: EntryData, spec: HttpTTSSpec<Fake, Request>): TTSEntry {
  return {
    ...data,
    onDrop: 'fails',
    async start() {
      const fake = await spec.start();
      return {
        service: (options) => spec.service(fake, options),
        fail: (fault) => (fake as { failSpeech(fault: unknown): void }).failSpeech(spec.fault === undefined ? speechFault(fault) : spec.fault(fault)),
        received: () => {
          const syntheses = spec.syntheses(fake);
          return { ...spec.sent(syntheses.at(-1)), requests: syntheses.length };
        },
        openSockets: () => 0,
        close: () => fake.close(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// WebSocket: a socket per call; a drop resumes the sentence on a new socket.

type Connection = { readonly status?: number; readonly close?: unknown };

interface SocketFake {
  readonly connections: readonly Connection[];
  close(): Promise<void>;
}

type HandshakeFault = { status: number; retryAfter?: number };

export interface SocketTTSSpec<Fake> {
  start(): Promise<Fake>;
  service(fake: Fake, options: ServiceOptions): TTSService;
  received(fake: Fake): Sent & { requests: number };
  /** Spoils the next synthesis with a stall or a drop (the fake's `failSynthesis` or `failGeneration`). */
  failSynthesis(fake: Fake, fault: { stall: true } | { drop: true; afterChunks: number }): void;
  /** A refusal other than the handshake's (LMNT's in-band errors). Default: the handshake refused with the status. */
  failError?(fake: Fake, fault: Extract<TTSFault, { kind: 'error' }>): void;
}

export function socketTTSEntry<Fake extends SocketFake>(data: EntryData, spec: SocketTTSSpec<Fake>): TTSEntry {
  return {
    ...data,
    onDrop: 'resumes',
    async start() {
      const fake = await spec.start();
      return {
        service: (options) => spec.service(fake, options),
        fail: (fault) => {
          if (fault.kind !== 'error') return spec.failSynthesis(fake, fault.kind === 'stall' ? { stall: true } : { drop: true, afterChunks: 2 });
          if (spec.failError !== undefined) return spec.failError(fake, fault);
          // Every socket fake but LMNT's (which passes failError) refuses handshakes this way.
          (fake as unknown as { failHandshake(fault: HandshakeFault): void }).failHandshake({ status: fault.status, ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) });
        },
        received: () => spec.received(fake),
        openSockets: () => fake.connections.filter((c) => c.status === 101 && c.close === undefined).length,
        close: () => fake.close(),
      };
    },
  };
}
