// The fake OpenAI Realtime server's public shapes: its options and script, and what it records of each connection.
import type { FakeSocketClose } from './websocket.js';
import type { FakeRealtimeSessionConfig } from './openai-realtime-config.js';

/** What the fake "hears" and answers: it cannot understand audio, so the caller's words are scripted. */
export interface FakeOpenAIRealtimeScript {
  /**
   * The caller's words for each committed turn, in order across the fake (a function: per connection and turn).
   * Past the end of the list, turns are empty strings.
   */
  transcripts?: readonly string[] | ((turn: { connection: number; turn: number }) => string);
  /** Replies to the caller's words, the first rule whose `match` the words contain (string) or match (RegExp). */
  rules?: readonly FakeOpenAIRealtimeRule[];
  /** Said when no rule matches. */
  fallback?: string;
  /** Speech length per character. Default 60 ms. */
  msPerCharacter?: number;
  /** Audio per `response.output_audio.delta`. Default 100 ms. */
  chunkMs?: number;
  /** Pause between two deltas (the vendor sends faster than real time); 0 yields one event-loop turn. Default 20. */
  chunkDelayMs?: number;
  /** The stand-in server VAD: a 10 ms window of caller audio louder than this RMS is speech. Default 400. */
  speechRms?: number;
  /** Pause before a response's first audio (the model's latency). Default 0. */
  firstAudioDelayMs?: number;
}

export interface FakeOpenAIRealtimeRule {
  match: string | RegExp;
  /** Said first (may be empty when the response only calls a tool). */
  reply?: string;
  /** A function call made in the same response, after the reply. */
  toolCall?: { name: string; arguments?: unknown };
  /** Said in the response after the tool's output arrives: a template (`{output}`) or a function of the output. */
  afterTool?: string | ((output: string) => string);
}

export interface FakeOpenAIRealtimeOptions extends FakeOpenAIRealtimeScript {
  /** Answer 401 for this key (any other non-empty key is accepted). */
  rejectKey?: string;
  /** Accept only this key. */
  requireKey?: string;
}

export type FakeOpenAIRealtimeHandshakeFault = { status: 401 | 403 | 429 | 500 | 503; message?: string };

/** Spoils the next response whose text contains `onText` (any response without it): a dropped socket or an error event. */
export type FakeOpenAIRealtimeResponseFault = { onText?: string; afterChunks?: number } & ({ drop: true } | { error: string });

export interface FakeOpenAIRealtimeMessage {
  /** The client event; `input_audio_buffer.append` is kept as `{type, bytes}` without its audio. */
  readonly json?: unknown;
}

export interface FakeOpenAIRealtimeTruncation {
  readonly itemId: string;
  readonly contentIndex: number;
  readonly audioEndMs: number;
  /** The audio the item had when it was cut, and its text. */
  readonly itemAudioMs: number;
  readonly text: string;
}

export interface FakeOpenAIRealtimeConnection {
  readonly index: number;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Request headers, the authorization redacted. */
  readonly headers: Record<string, string>;
  readonly auth: { present: boolean; valid: boolean };
  status?: number;
  readonly received: FakeOpenAIRealtimeMessage[];
  close?: FakeSocketClose;
  /** The session's configuration after each accepted `session.update`. */
  readonly sessionConfigs: FakeRealtimeSessionConfig[];
  readonly truncations: FakeOpenAIRealtimeTruncation[];
  /** Each assistant audio item: its text, the audio sent, and whether it was sent whole. */
  readonly spoken: { itemId: string; text: string; audioMs: number; completed: boolean }[];
  /** When the fake sent each \`input_audio_buffer.speech_stopped\` (\`performance.now()\`). */
  readonly speechStoppedAt: number[];
  /** Committed caller turns so far. */
  turns: number;
}

export interface FakeOpenAIRealtime {
  /** e.g. `ws://127.0.0.1:54321/v1/realtime`, the client's `url`. */
  readonly url: string;
  readonly port: number;
  readonly connections: readonly FakeOpenAIRealtimeConnection[];
  /** Every client event's JSON, across connections, in arrival order. */
  messages(): unknown[];
  waitForMessage(predicate: (json: unknown) => boolean, timeoutMs?: number): Promise<FakeOpenAIRealtimeMessage>;
  failHandshake(...faults: FakeOpenAIRealtimeHandshakeFault[]): void;
  failResponse(...faults: FakeOpenAIRealtimeResponseFault[]): void;
  /** Destroys every open socket now, without a close frame. */
  dropConnections(): void;
  close(): Promise<void>;
}
