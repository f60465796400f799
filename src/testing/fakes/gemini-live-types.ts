// The fake Gemini Live server's public shapes: its options and script, and what it records of each connection.
import type { FakeSocketClose } from './websocket.js';

/** What the fake "hears" and answers: it cannot understand audio, so the caller's words are scripted. */
export interface FakeGeminiLiveScript {
  /** The caller's words for each caller turn, in order across the fake (a function: per connection and turn). */
  transcripts?: readonly string[] | ((turn: { connection: number; turn: number }) => string);
  /** Replies to the caller's words, the first rule whose `match` the words contain (string) or match (RegExp). */
  rules?: readonly FakeGeminiLiveRule[];
  /** Said when no rule matches. */
  fallback?: string;
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per `serverContent.modelTurn` message. Default 100 ms. */
  chunkMs?: number;
  /** Pause between two audio messages; 0 yields one event-loop turn (zero latency). Default 20. */
  chunkDelayMs?: number;
  /** Pause before a turn's first audio (the model's latency). Default 0. */
  firstAudioDelayMs?: number;
  /** The stand-in server VAD: a 10 ms window of caller audio louder than this RMS is speech. Default 400. */
  speechRms?: number;
  /** Silence that ends the caller's turn (unless the setup gives `silenceDurationMs`). Default 500 ms. */
  silenceMs?: number;
}

export interface FakeGeminiLiveRule {
  match: string | RegExp;
  /** Said first (may be empty when the turn only calls a tool). */
  reply?: string;
  /** A function call made after the reply; the model then waits for its response. */
  toolCall?: { name: string; args?: Record<string, unknown> };
  /** Said after the tool's response arrives: a template (`{output}`, the response as JSON) or a function of it; none: a silent turn. */
  afterTool?: string | ((response: Record<string, unknown>) => string);
}

export interface FakeGeminiLiveOptions extends FakeGeminiLiveScript {
  /** Refuse this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
  /** Models the fake serves. Default: any name containing 'live' or 'native-audio'. */
  models?: readonly string[];
}

/** Closes the next session whose turn text contains `onText` (any turn without it): dropped, or a Google close code. */
export type FakeGeminiLiveTurnFault = { onText?: string; afterChunks?: number } & ({ drop: true } | { close: { code: number; reason: string } });

export interface FakeGeminiLiveMessage {
  /** The client message; `realtimeInput.audio` is kept as `{realtimeInput: {audio: {mimeType, bytes}}}`. */
  readonly json?: unknown;
}

export interface FakeGeminiLiveConnection {
  readonly index: number;
  readonly path: string;
  /** The query, the key redacted. */
  readonly query: Record<string, string>;
  readonly auth: { present: boolean; valid: boolean };
  status?: number;
  readonly received: FakeGeminiLiveMessage[];
  close?: FakeSocketClose;
  /** The accepted setup message's `setup`. */
  setup?: Record<string, unknown>;
  /** The handle this connection resumed, when it gave a known one. */
  resumedFrom?: string;
  /** Each model turn with audio: its text, the audio sent (ms), and whether it was sent whole. */
  readonly spoken: { turnId: string; text: string; audioMs: number; completed: boolean }[];
  /** Each `interrupted`: the turn's text and the audio sent of it by then. */
  readonly interruptions: { turnId: string; text: string; audioMs: number }[];
  /** Each function response received, by call. */
  readonly toolResponses: { id: string; name: string; response: Record<string, unknown> }[];
  /** When the fake ended each caller turn (its VAD's end of speech, or activityEnd), as `performance.now()`. */
  readonly turnEndedAt: number[];
  /** Caller turns so far. */
  turns: number;
}

export interface FakeGeminiLive {
  /** e.g. `ws://127.0.0.1:54321/ws/google.ai…BidiGenerateContent`, the client's `url`. */
  readonly url: string;
  readonly port: number;
  readonly connections: readonly FakeGeminiLiveConnection[];
  /** Every client message's JSON, across connections, in arrival order. */
  messages(): unknown[];
  waitForMessage(predicate: (json: unknown) => boolean, timeoutMs?: number): Promise<FakeGeminiLiveMessage>;
  failTurn(...faults: FakeGeminiLiveTurnFault[]): void;
  /** Sends `goAway` to every open session, then closes them (1000) after `timeLeftMs`. */
  goAway(timeLeftMs: number): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}
