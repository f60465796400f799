// Builders of STT entries, one per kind, so that each vendor's entry in entries-stt.ts is its data: its fake, how
// its service is pointed at the fake, and where the fake keeps what it received.
import type { STTService } from '../../../src/services/base/index.js';
import type { FakeSTTAnswer } from '../../../src/testing/fakes/segmented-stt.js';
import type { STTEntry, STTHarness, VendorFault } from './harness.js';

/** What reached the vendor last (each key present, so that an entry without a language or model matches). */
export interface STTReceived {
  language: string | undefined;
  model: string | undefined;
  requests: number;
}

/** The last of `list` as `pick` reads it, and how many there were. */
export function receivedFrom<T>(list: readonly T[], pick: (last: T) => { language?: string; model?: string }): STTReceived {
  const last = list.at(-1);
  const { language, model } = last === undefined ? {} : pick(last);
  return { language, model, requests: list.length };
}

/** Only the options given (neither undefined nor empty), to spread into a service's options. */
export function given<T extends Record<string, unknown>>(values: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== '')) as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}

type ServiceOptions = Parameters<STTHarness['service']>[0];
type EntryData = Omit<STTEntry, 'kind' | 'start' | 'notApplicable' | 'sendsRetryAfter'>;

// ---------------------------------------------------------------------------------------------------------------
// Streaming: a socket per call, reconnected by the base on its back-off.

/** The back-off every streaming entry reconnects on: quick, and an error after two failed attempts. */
export const CONFORMANCE_RECONNECT = { initialDelayMs: 100, attemptsBeforeError: 2, slowDelayMs: 5000 } as const;

// Fakes type their faults each their own way (`never`): the statuses an entry passes are the vendor's, mapped by
// its `failHandshake` or `status` where they differ.
interface StreamingFake {
  scriptTranscripts(...texts: string[]): void;
  failNextConnections(status: never): void;
  dropConnections(): void;
  close(): Promise<void>;
}

export interface StreamingSTTSpec<Fake> {
  start(): Promise<Fake>;
  /** The service pointed at the fake, given `reconnect` (the conformance back-off). */
  service(fake: Fake, options: ServiceOptions & { reconnect: typeof CONFORMANCE_RECONNECT }): STTService;
  received(fake: Fake): STTReceived;
  openSockets(fake: Fake): number;
  /** Refuses the next handshakes with `status`. Default: the fake's `failNextConnections(status)`. */
  failHandshake?(fake: Fake, status: VendorFault): void;
  /** Default: the fake's `dropConnections()`. */
  dropNow?(fake: Fake): void;
}

export function streamingSTTEntry<Fake extends StreamingFake>(data: EntryData & { sendsRetryAfter?: boolean }, spec: StreamingSTTSpec<Fake>): STTEntry {
  return {
    ...data,
    kind: 'streaming',
    sendsRetryAfter: data.sendsRetryAfter ?? false,
    notApplicable: { stall: 'audio flows one way; a silent server is met by the turn aggregator’s finalTranscriptTimeoutMs' },
    async start() {
      const fake = await spec.start();
      return {
        service: (options) => spec.service(fake, { ...options, reconnect: CONFORMANCE_RECONNECT }),
        scriptTranscript: (text) => fake.scriptTranscripts(text),
        fail: (fault) => {
          if (fault.kind !== 'error') throw new Error(`the ${data.name} entry drops with dropNow, and has no ${fault.kind}`);
          if (spec.failHandshake === undefined) (fake as { failNextConnections(status: VendorFault): void }).failNextConnections(fault.status);
          else spec.failHandshake(fake, fault.status);
        },
        dropNow: () => (spec.dropNow === undefined ? fake.dropConnections() : spec.dropNow(fake)),
        received: () => spec.received(fake),
        openSockets: () => spec.openSockets(fake),
        close: () => fake.close(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Segmented: one REST request per VAD turn; the fake answers one queued answer per request.

interface SegmentedFake {
  enqueueTranscriptions(...answers: never[]): void;
  close(): Promise<void>;
}

/** A fault queued like a transcript; `status` maps the conformance status to the vendor's (Sarvam's 403 for 401). */
export function segmentedFaults(enqueue: (answer: FakeSTTAnswer) => void, status: (conformance: VendorFault) => number = (s) => s): Pick<STTHarness, 'fail' | 'dropNow' | 'openSockets'> {
  return {
    fail: (fault) => {
      if (fault.kind === 'error') enqueue({ error: status(fault.status), ...(fault.retryAfterSecs === undefined ? {} : { retryAfter: fault.retryAfterSecs }) });
      else if (fault.kind === 'stall') enqueue({ stall: true });
      else enqueue({ drop: true });
    },
    dropNow: () => {
      throw new Error('a segmented STT holds no socket between turns');
    },
    openSockets: () => 0,
  };
}

export interface SegmentedSTTSpec<Fake> {
  start(): Promise<Fake>;
  service(fake: Fake, options: ServiceOptions): STTService;
  received(fake: Fake): STTReceived;
  /** The vendor's status for a conformance one. Default: the same. */
  status?(conformance: VendorFault): number;
}

export function segmentedSTTEntry<Fake extends SegmentedFake>(data: EntryData & { notApplicable?: STTEntry['notApplicable'] }, spec: SegmentedSTTSpec<Fake>): STTEntry {
  return {
    ...data,
    kind: 'segmented',
    sendsRetryAfter: true,
    async start() {
      const fake = await spec.start();
      const enqueue = (answer: FakeSTTAnswer): void => (fake as { enqueueTranscriptions(answer: FakeSTTAnswer): void }).enqueueTranscriptions(answer);
      return {
        service: (options) => spec.service(fake, options),
        scriptTranscript: (text) => enqueue(text),
        ...segmentedFaults(enqueue, (status) => spec.status?.(status) ?? status),
        received: () => spec.received(fake),
        close: () => fake.close(),
      };
    },
  };
}
