// The fake OpenAI Realtime server's session configuration: the defaults a new session starts with, and
// `session.update` checked as the GA API checks it (docs/vendors/openai-realtime.md): a known format (pcm only at
// 24 kHz), a known voice, no voice change once audio was produced, server/semantic VAD or null, function tools, no
// unknown fields. A rejected update leaves the session as it was and is answered with the vendor's `error` shape.
import { isRecord } from './http.js';

export const FAKE_REALTIME_VOICES: readonly string[] = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];

export type FakeRealtimeFormat = { type: 'audio/pcm'; rate: 24000 } | { type: 'audio/pcmu' } | { type: 'audio/pcma' };

export interface FakeRealtimeTurnDetection {
  readonly type: 'server_vad' | 'semantic_vad';
  readonly silenceDurationMs: number;
  readonly prefixPaddingMs: number;
  readonly createResponse: boolean;
  readonly interruptResponse: boolean;
}

export interface FakeRealtimeTool {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: unknown;
}

/** The session as the fake holds it (what `session.updated` reports, in the fake's own shape). */
export interface FakeRealtimeSessionConfig {
  instructions: string;
  voice: string;
  inputFormat: FakeRealtimeFormat;
  outputFormat: FakeRealtimeFormat;
  turnDetection: FakeRealtimeTurnDetection | null;
  transcription: boolean;
  tools: FakeRealtimeTool[];
}

export function defaultSessionConfig(): FakeRealtimeSessionConfig {
  return {
    instructions: '',
    voice: 'alloy',
    inputFormat: { type: 'audio/pcm', rate: 24000 },
    outputFormat: { type: 'audio/pcm', rate: 24000 },
    turnDetection: { type: 'server_vad', silenceDurationMs: 500, prefixPaddingMs: 300, createResponse: true, interruptResponse: true },
    transcription: false,
    tools: [],
  };
}

/** A refused client event, as the vendor's `error` event carries it. */
export class RealtimeRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const SESSION_FIELDS = new Set([
  'type', 'model', 'instructions', 'output_modalities', 'audio', 'tools', 'tool_choice', 'temperature',
  'max_output_tokens', 'include', 'tracing', 'truncation', 'prompt',
]);

function unknownFields(value: Record<string, unknown>, known: ReadonlySet<string>, prefix: string): void {
  for (const name of Object.keys(value)) {
    if (!known.has(name)) throw new RealtimeRequestError(`Unknown parameter: '${prefix}.${name}'.`, 'unknown_parameter', `${prefix}.${name}`);
  }
}

function readFormat(value: unknown, param: string): FakeRealtimeFormat {
  if (!isRecord(value)) throw new RealtimeRequestError(`Invalid type for '${param}': expected an object.`, 'invalid_type', param);
  switch (value.type) {
    case 'audio/pcm':
      if (value.rate !== undefined && value.rate !== 24000) {
        throw new RealtimeRequestError(`Invalid '${param}.rate': only 24000 is supported for audio/pcm.`, 'invalid_value', `${param}.rate`);
      }
      return { type: 'audio/pcm', rate: 24000 };
    case 'audio/pcmu':
      return { type: 'audio/pcmu' };
    case 'audio/pcma':
      return { type: 'audio/pcma' };
    default:
      throw new RealtimeRequestError(
        `Invalid value for '${param}.type': expected one of 'audio/pcm', 'audio/pcmu', 'audio/pcma'.`,
        'invalid_value',
        `${param}.type`,
      );
  }
}

function readTurnDetection(value: unknown, current: FakeRealtimeTurnDetection | null): FakeRealtimeTurnDetection | null {
  const param = 'session.audio.input.turn_detection';
  if (value === null) return null;
  if (!isRecord(value) || (value.type !== 'server_vad' && value.type !== 'semantic_vad')) {
    throw new RealtimeRequestError(`Invalid value for '${param}.type': expected 'server_vad' or 'semantic_vad'.`, 'invalid_value', `${param}.type`);
  }
  const base = current ?? defaultSessionConfig().turnDetection!;
  const number = (name: string, fallback: number): number => {
    const field = value[name];
    if (field === undefined) return fallback;
    if (typeof field !== 'number' || !(field >= 0)) throw new RealtimeRequestError(`Invalid '${param}.${name}'.`, 'invalid_value', `${param}.${name}`);
    return field;
  };
  return {
    type: value.type,
    silenceDurationMs: number('silence_duration_ms', base.silenceDurationMs),
    prefixPaddingMs: number('prefix_padding_ms', base.prefixPaddingMs),
    createResponse: value.create_response === undefined ? base.createResponse : value.create_response === true,
    interruptResponse: value.interrupt_response === undefined ? base.interruptResponse : value.interrupt_response === true,
  };
}

function readTools(value: unknown): FakeRealtimeTool[] {
  if (!Array.isArray(value)) throw new RealtimeRequestError("Invalid type for 'session.tools': expected an array.", 'invalid_type', 'session.tools');
  return value.map((tool, i) => {
    const param = `session.tools[${i}]`;
    if (!isRecord(tool) || tool.type !== 'function') throw new RealtimeRequestError(`Invalid value for '${param}.type': expected 'function'.`, 'invalid_value', `${param}.type`);
    if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) {
      throw new RealtimeRequestError(`Invalid '${param}.name'.`, 'invalid_value', `${param}.name`);
    }
    return { name: tool.name, description: typeof tool.description === 'string' ? tool.description : undefined, parameters: tool.parameters };
  });
}

/** The configuration after `update` (a `session.update`'s `session`); throws RealtimeRequestError, changing nothing. */
export function applySessionUpdate(current: FakeRealtimeSessionConfig, update: unknown, producedAudio: boolean): FakeRealtimeSessionConfig {
  if (!isRecord(update)) throw new RealtimeRequestError("Missing required parameter: 'session'.", 'missing_required_parameter', 'session');
  unknownFields(update, SESSION_FIELDS, 'session');
  if (update.type !== 'realtime') {
    throw new RealtimeRequestError("Invalid value for 'session.type': expected 'realtime'.", 'invalid_value', 'session.type');
  }
  const next: FakeRealtimeSessionConfig = { ...current, tools: [...current.tools] };
  if (update.instructions !== undefined) {
    if (typeof update.instructions !== 'string') throw new RealtimeRequestError("Invalid type for 'session.instructions'.", 'invalid_type', 'session.instructions');
    next.instructions = update.instructions;
  }
  if (update.output_modalities !== undefined) {
    const modalities = update.output_modalities;
    if (!Array.isArray(modalities) || modalities.length !== 1 || (modalities[0] !== 'audio' && modalities[0] !== 'text')) {
      throw new RealtimeRequestError("Invalid value for 'session.output_modalities': expected ['audio'] or ['text'].", 'invalid_value', 'session.output_modalities');
    }
  }
  if (update.tools !== undefined) next.tools = readTools(update.tools);
  const audio = update.audio;
  if (audio !== undefined) {
    if (!isRecord(audio)) throw new RealtimeRequestError("Invalid type for 'session.audio'.", 'invalid_type', 'session.audio');
    unknownFields(audio, new Set(['input', 'output']), 'session.audio');
    const { input, output } = audio;
    if (input !== undefined) {
      if (!isRecord(input)) throw new RealtimeRequestError("Invalid type for 'session.audio.input'.", 'invalid_type', 'session.audio.input');
      unknownFields(input, new Set(['format', 'transcription', 'turn_detection', 'noise_reduction']), 'session.audio.input');
      if (input.format !== undefined) next.inputFormat = readFormat(input.format, 'session.audio.input.format');
      if (input.turn_detection !== undefined) next.turnDetection = readTurnDetection(input.turn_detection, current.turnDetection);
      if (input.transcription !== undefined) next.transcription = input.transcription !== null;
    }
    if (output !== undefined) {
      if (!isRecord(output)) throw new RealtimeRequestError("Invalid type for 'session.audio.output'.", 'invalid_type', 'session.audio.output');
      unknownFields(output, new Set(['format', 'voice', 'speed']), 'session.audio.output');
      if (output.format !== undefined) next.outputFormat = readFormat(output.format, 'session.audio.output.format');
      if (output.voice !== undefined) {
        if (typeof output.voice !== 'string' || !FAKE_REALTIME_VOICES.includes(output.voice)) {
          throw new RealtimeRequestError(
            `Invalid value for 'session.audio.output.voice': expected one of ${FAKE_REALTIME_VOICES.join(', ')}.`,
            'invalid_value',
            'session.audio.output.voice',
          );
        }
        if (producedAudio && output.voice !== current.voice) {
          throw new RealtimeRequestError('Cannot update a conversation\'s voice if assistant audio is present.', 'cannot_update_voice', 'session.audio.output.voice');
        }
        next.voice = output.voice;
      }
    }
  }
  return next;
}

/** The session as `session.created` / `session.updated` report it (the GA shape). */
export function describeSession(id: string, config: FakeRealtimeSessionConfig): Record<string, unknown> {
  const detection = config.turnDetection;
  return {
    id,
    object: 'realtime.session',
    type: 'realtime',
    model: 'gpt-realtime',
    output_modalities: ['audio'],
    instructions: config.instructions,
    tools: config.tools.map((t) => ({ type: 'function', ...t })),
    tool_choice: 'auto',
    audio: {
      input: {
        format: config.inputFormat,
        transcription: config.transcription ? { model: 'gpt-4o-mini-transcribe' } : null,
        turn_detection:
          detection === null
            ? null
            : {
                type: detection.type,
                silence_duration_ms: detection.silenceDurationMs,
                prefix_padding_ms: detection.prefixPaddingMs,
                create_response: detection.createResponse,
                interrupt_response: detection.interruptResponse,
              },
      },
      output: { format: config.outputFormat, voice: config.voice },
    },
  };
}
