// The conformance suite's vocabulary: the checks every service runs, and what an entry (one service against its
// fake vendor server) must provide so one parameterised test module per kind can drive it. A vendor joins the
// suite by adding one entry in entries-<kind>.ts; docs/conformance.md is generated from the registry.
import { createLogger, type Logger } from '../../../src/logging/index.js';
import type { LLMService, STTService, TTSService } from '../../../src/services/base/index.js';

/** The key every entry's service is given, and the one every fake refuses with its own 401 (or equivalent). */
export const CONFORMANCE_KEY = 'conf-key-SECRET-0123456789';
export const REJECTED_KEY = 'conf-rejected-SECRET-9876543210';
/** The model (Azure: the deployment) every LLM entry's service is configured with. */
export const CONFORMANCE_MODEL = 'conformance-model-1';

export const CHECKS = {
  streaming: 'streams in pieces; first-byte (TTFB) metric',
  usage: 'usage metric (tokens, characters or audio seconds)',
  options: 'model / voice / language reach the vendor',
  interruption: 'interruption cancels in flight; nothing stale after it',
  drop: 'socket dropped mid-answer: fails as the base promises, next request works',
  auth: '401: `auth` error naming the vendor, not retried',
  'rate-limit': '429: `rate-limited`, Retry-After honoured',
  server: '5xx: `server` error (retried where the base retries)',
  stall: 'stalled stream: `timeout` (retried where the base retries)',
  secrets: 'key never in logs or error messages',
  close: 'closes without leaks (no timer or socket left)',
} as const;

export type CheckId = keyof typeof CHECKS;
export const CHECK_IDS = Object.keys(CHECKS) as CheckId[];

export interface EntryBase {
  /** As the table shows it, e.g. `OpenAI LLM`. */
  readonly name: string;
  /** The class users construct and the entry point it comes from. */
  readonly className: string;
  readonly importPath: string;
  /** The fake users can test against (`piopiy-ai/testing`), or how the service runs offline. */
  readonly fake: string;
  /** Checks that do not apply to this service (the suite skips them), each with the reason shown in the table. */
  readonly notApplicable?: Partial<Record<CheckId, string>>;
  /** Why the service cannot run on this machine (an engine not installed), or undefined when it can. */
  readonly missing?: string;
  /** Checks run with a caveat (what differs for this vendor), shown as a note in the table. */
  readonly caveats?: Partial<Record<CheckId, string>>;
}

export type VendorFault = 401 | 429 | 500;

// ---------------------------------------------------------------------------------------------------------------
// LLM

export type LLMStep =
  | { readonly kind: 'text'; readonly text: string; readonly chunkSize?: number; readonly usage?: { promptTokens: number; completionTokens: number } }
  | { readonly kind: 'error'; readonly status: VendorFault; readonly retryAfterSecs?: number }
  | { readonly kind: 'stall' }
  | { readonly kind: 'drop'; readonly text: string; readonly afterEvents: number };

export interface LLMHarness {
  service(options: { apiKey: string; model: string }): LLMService;
  /** Queues the fake's next answers, one per request. */
  script(...steps: LLMStep[]): void;
  /** The model each request named, in order (requests refused before reading the body excluded). */
  models(): string[];
  close(): Promise<void>;
}

export interface LLMEntry extends EntryBase {
  /** False when the vendor does not say when to retry a 429 (AWS): the base's back-off then decides. Default true. */
  readonly sendsRetryAfter?: boolean;
  /** Starts the fake (events paced a few ms apart, so that an answer takes long enough to interrupt). */
  start(): Promise<LLMHarness>;
}

// ---------------------------------------------------------------------------------------------------------------
// TTS

export type TTSFault = { readonly kind: 'error'; readonly status: VendorFault; readonly retryAfterSecs?: number } | { readonly kind: 'stall' } | { readonly kind: 'drop' };

export interface TTSHarness {
  service(options: { apiKey: string; voice?: string; language?: string; timeoutMs: number }): TTSService;
  /** Spoils the next synthesis (HTTP) or generation / handshake (WebSocket); a drop comes after some audio. */
  fail(fault: TTSFault): void;
  /** What the vendor received of the last synthesis: voice and language as its protocol carries them. */
  received(): { voice?: string; language?: string; requests: number };
  /** Sockets (WebSocket) still open to the fake; HTTP keep-alive connections are not counted. */
  openSockets(): number;
  close(): Promise<void>;
}

export interface TTSEntry extends EntryBase {
  /** The voice and language the options check sends (a valid one for this vendor). */
  readonly voice?: string;
  readonly language?: string;
  /** Whether the vendor (and so its fake) says when to retry a 429. */
  readonly sendsRetryAfter: boolean;
  /** What the base promises for a socket cut mid-sentence: WebSocket TTS resume on a new socket, HTTP ones fail it. */
  readonly onDrop: 'resumes' | 'fails';
  start(): Promise<TTSHarness>;
}

// ---------------------------------------------------------------------------------------------------------------
// STT

export type STTFault = { readonly kind: 'error'; readonly status: VendorFault; readonly retryAfterSecs?: number } | { readonly kind: 'stall' } | { readonly kind: 'drop' };

export interface STTHarness {
  service(options: { apiKey: string; language?: string; model?: string; timeoutMs: number }): STTService;
  /** What the next stretch of speech is transcribed as. */
  scriptTranscript(text: string): void;
  /** Spoils the next request (segmented) or handshake (streaming); a stall or drop spoils the next answer. */
  fail(fault: STTFault): void;
  /** Cuts every open socket now, without a close frame (streaming only). */
  dropNow(): void;
  /** What the vendor received last: language and model as its protocol carries them; requests or sockets so far. */
  received(): { language?: string; model?: string; requests: number };
  openSockets(): number;
  close(): Promise<void>;
}

export interface STTEntry extends EntryBase {
  readonly language?: string;
  readonly model?: string;
  /**
   * What the base promises for failures: a streaming STT reconnects by itself (a drop or a 429/5xx handshake is
   * retried on its back-off, the audio in between resent); a segmented one reports the turn's error and
   * transcribes the next turn.
   */
  readonly kind: 'streaming' | 'segmented';
  /** Whether the vendor (and so its fake) says when to retry a 429. */
  readonly sendsRetryAfter: boolean;
  start(): Promise<STTHarness>;
}

/** A pino logger (the default one's redaction included) whose lines are kept, at debug level. */
export function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, text: () => lines.join('') };
}
