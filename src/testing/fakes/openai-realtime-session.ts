// One socket of the fake OpenAI Realtime server: the GA protocol of docs/vendors/openai-realtime.md over a real
// WebSocket. Caller audio is decoded and run through an energy VAD standing in for server VAD (`speech_started`,
// `speech_stopped`, `committed`, the user item, its transcription, then a response). What the caller "said" comes
// from the fake's script (it cannot understand audio); replies follow its rules like ScriptedLLMService's. A
// response is sent in the vendor's event order, its audio a deterministic tone paced `chunkDelayMs` per delta.
// Truncations are checked against the audio the item really had and recorded for tests.
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { alawToPcm, bytesToInt16, mulawToPcm } from '../../audio/index.js';
import { encodeSamples, fakeVoiceTone, type FakeVoiceTimbre } from './audio.js';
import { isRecord, pause } from './http.js';
import {
  applySessionUpdate,
  defaultSessionConfig,
  describeSession,
  RealtimeRequestError,
  type FakeRealtimeFormat,
  type FakeRealtimeSessionConfig,
} from './openai-realtime-config.js';
import type { FakeOpenAIRealtimeConnection, FakeOpenAIRealtimeMessage, FakeOpenAIRealtimeScript } from './openai-realtime-types.js';
import { FakeSocketSession, frameBytes } from './websocket.js';

const TIMBRE: FakeVoiceTimbre = {
  baseHz: 190, hzSpread: 90, amplitude: 7000, tremoloBase: 0.75, tremoloDepth: 0.2, tremoloHz: 4, rampStep: 5, rampPeriod: 61, rampOffset: 30,
};
/** The fake VAD: a 10 ms window louder than this RMS is speech (unless the script says otherwise). */
const SPEECH_RMS = 400;

interface Item {
  readonly id: string;
  readonly type: 'message' | 'function_call' | 'function_call_output';
  readonly role?: 'user' | 'assistant' | 'system';
  text: string;
  callId?: string;
  name?: string;
  /** Assistant audio sent for this item, and where a truncation cut it. */
  audioMs: number;
  truncatedAtMs?: number;
  afterTool?: string | ((output: string) => string);
}

interface ActiveResponse {
  readonly id: string;
  cancelled: false | 'turn_detected' | 'client_cancelled';
}

export interface FakeRealtimeServerHooks {
  readonly script: FakeOpenAIRealtimeScript;
  record(connection: FakeOpenAIRealtimeConnection, message: FakeOpenAIRealtimeMessage): void;
  /** The caller's words for the next committed turn. */
  nextTranscript(connection: FakeOpenAIRealtimeConnection): string;
  takeFault(text: string): { drop?: true; error?: string; afterChunks?: number } | undefined;
  forget(session: FakeRealtimeSession): void;
}

let lastId = 0;
const newId = (prefix: string): string => `${prefix}_fake${(++lastId).toString(36).padStart(6, '0')}`;

function formatRate(format: FakeRealtimeFormat): number {
  return format.type === 'audio/pcm' ? 24000 : 8000;
}

function decode(bytes: Buffer, format: FakeRealtimeFormat): Int16Array {
  if (format.type === 'audio/pcmu') return mulawToPcm(bytes);
  if (format.type === 'audio/pcma') return alawToPcm(bytes);
  return bytesToInt16(bytes);
}

export class FakeRealtimeSession extends FakeSocketSession<FakeOpenAIRealtimeConnection> {
  readonly id = newId('sess');
  private config: FakeRealtimeSessionConfig = defaultSessionConfig();
  private readonly items: Item[] = [];
  private response: ActiveResponse | undefined;
  private producedAudio = false;
  private eventCount = 0;
  /** Input audio: ms appended this session, the uncommitted buffer's ms, and the VAD's state. */
  private inputMs = 0;
  private bufferMs = 0;
  private speechStartMs = -1;
  private silenceMs = 0;
  private windowCarry: number[] = [];
  private userItemId = newId('item');

  constructor(
    private readonly fake: FakeRealtimeServerHooks,
    ws: WebSocket,
    socket: Socket,
    connection: FakeOpenAIRealtimeConnection,
  ) {
    super(ws, socket, connection, fake);
    this.emit({ type: 'session.created', session: describeSession(this.id, this.config) });
  }

  protected override endAll(): void {
    if (this.response !== undefined) this.response.cancelled = 'client_cancelled';
  }

  private emit(event: Record<string, unknown>): void {
    this.send({ event_id: `event_${this.id}_${++this.eventCount}`, ...event });
  }

  private error(error: RealtimeRequestError, clientEventId?: unknown): void {
    this.emit({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        code: error.code,
        message: error.message,
        param: error.param ?? null,
        event_id: typeof clientEventId === 'string' ? clientEventId : null,
      },
    });
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    let json: unknown;
    try {
      json = isBinary ? undefined : JSON.parse(frameBytes(data).toString('utf8'));
    } catch {
      json = undefined;
    }
    // Audio appends are recorded without their bytes: a call sends fifty a second.
    const recorded = isRecord(json) && json.type === 'input_audio_buffer.append' ? { type: json.type, bytes: typeof json.audio === 'string' ? Buffer.byteLength(json.audio, 'base64') : 0 } : json;
    this.fake.record(this.connection, { json: recorded });
    if (!isRecord(json) || typeof json.type !== 'string') {
      this.error(new RealtimeRequestError('The server could not parse the event: expected a JSON object with a type.', 'invalid_json'));
      return;
    }
    try {
      this.handle(json);
    } catch (error) {
      if (error instanceof RealtimeRequestError) this.error(error, json.event_id);
      else throw error;
    }
  }

  private handle(event: Record<string, unknown>): void {
    switch (event.type) {
      case 'session.update':
        this.config = applySessionUpdate(this.config, event.session, this.producedAudio);
        this.connection.sessionConfigs.push(this.config);
        this.emit({ type: 'session.updated', session: describeSession(this.id, this.config) });
        return;
      case 'input_audio_buffer.append':
        if (typeof event.audio !== 'string') throw new RealtimeRequestError("Missing required parameter: 'audio'.", 'missing_required_parameter', 'audio');
        this.append(decode(Buffer.from(event.audio, 'base64'), this.config.inputFormat));
        return;
      case 'input_audio_buffer.commit':
        if (this.bufferMs < 100) {
          throw new RealtimeRequestError(
            `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${this.bufferMs.toFixed(2)}ms of audio.`,
            'input_audio_buffer_commit_empty',
          );
        }
        this.commit();
        return;
      case 'input_audio_buffer.clear':
        this.bufferMs = 0;
        this.speechStartMs = -1;
        this.emit({ type: 'input_audio_buffer.cleared' });
        return;
      case 'conversation.item.create':
        this.createItem(event.item);
        return;
      case 'conversation.item.truncate':
        this.truncate(event);
        return;
      case 'response.create': {
        if (this.response !== undefined) {
          throw new RealtimeRequestError('Conversation already has an active response in progress.', 'conversation_already_has_active_response');
        }
        const instructions = isRecord(event.response) && typeof event.response.instructions === 'string' ? event.response.instructions : undefined;
        void this.respond(instructions);
        return;
      }
      case 'response.cancel':
        if (this.response === undefined) throw new RealtimeRequestError('Cancellation failed: no active response found.', 'response_cancel_not_active');
        this.response.cancelled = 'client_cancelled';
        return;
      default:
        throw new RealtimeRequestError(`Invalid value: '${String(event.type)}'. Supported values are client events.`, 'invalid_value', 'type');
    }
  }

  // ---- caller audio and the fake server VAD -------------------------------------------------------------------

  private append(samples: Int16Array): void {
    const rate = formatRate(this.config.inputFormat);
    const windowSize = rate / 100;
    const ms = (samples.length * 1000) / rate;
    this.bufferMs += ms;
    const detection = this.config.turnDetection;
    if (detection === null) {
      this.inputMs += ms;
      return;
    }
    const window = this.windowCarry;
    for (let i = 0; i < samples.length; i++) {
      window.push(samples[i]!);
      if (window.length < windowSize) continue;
      let sum = 0;
      for (const s of window) sum += s * s;
      const loud = Math.sqrt(sum / window.length) > (this.fake.script.speechRms ?? SPEECH_RMS);
      window.length = 0;
      this.inputMs += 10;
      this.vadWindow(loud);
    }
  }

  private vadWindow(loud: boolean): void {
    const detection = this.config.turnDetection!;
    if (loud) {
      this.silenceMs = 0;
      if (this.speechStartMs >= 0) return;
      this.speechStartMs = this.inputMs - 10;
      this.emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.max(0, this.speechStartMs - detection.prefixPaddingMs), item_id: this.userItemId });
      if (this.response !== undefined && detection.interruptResponse) this.response.cancelled = 'turn_detected';
      return;
    }
    if (this.speechStartMs < 0) return;
    this.silenceMs += 10;
    if (this.silenceMs < detection.silenceDurationMs) return;
    this.speechStartMs = -1;
    this.silenceMs = 0;
    this.emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: this.inputMs - detection.silenceDurationMs, item_id: this.userItemId });
    this.connection.speechStoppedAt.push(performance.now());
    this.commit();
  }

  private commit(): void {
    const itemId = this.userItemId;
    this.userItemId = newId('item');
    this.bufferMs = 0;
    const previous = this.items.at(-1)?.id ?? null;
    const transcript = this.fake.nextTranscript(this.connection);
    const item: Item = { id: itemId, type: 'message', role: 'user', text: transcript, audioMs: 0 };
    this.items.push(item);
    this.emit({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previous });
    const wire = { id: itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null }] };
    this.emit({ type: 'conversation.item.added', previous_item_id: previous, item: wire });
    this.emit({ type: 'conversation.item.done', previous_item_id: previous, item: wire });
    if (this.config.transcription) {
      this.emit({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: 0, transcript });
    }
    if (this.config.turnDetection?.createResponse === true && this.response === undefined) void this.respond(undefined);
  }

  // ---- conversation items ---------------------------------------------------------------------------------------

  private createItem(item: unknown): void {
    if (!isRecord(item)) throw new RealtimeRequestError("Missing required parameter: 'item'.", 'missing_required_parameter', 'item');
    const previous = this.items.at(-1)?.id ?? null;
    let created: Item;
    if (item.type === 'function_call_output') {
      const call = this.items.find((i) => i.type === 'function_call' && i.callId === item.call_id);
      if (call === undefined) throw new RealtimeRequestError(`Tool call ID '${String(item.call_id)}' not found in conversation.`, 'invalid_value', 'item.call_id');
      if (typeof item.output !== 'string') throw new RealtimeRequestError("Invalid type for 'item.output': expected a string.", 'invalid_type', 'item.output');
      created = { id: newId('item'), type: 'function_call_output', text: item.output, callId: call.callId, audioMs: 0, afterTool: call.afterTool };
    } else if (item.type === 'message' && (item.role === 'user' || item.role === 'assistant' || item.role === 'system')) {
      const content = Array.isArray(item.content) ? item.content : [];
      const text = content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join(' ');
      created = { id: newId('item'), type: 'message', role: item.role, text, audioMs: 0 };
    } else {
      throw new RealtimeRequestError("Invalid value for 'item.type'.", 'invalid_value', 'item.type');
    }
    this.items.push(created);
    const wire = { id: created.id, object: 'realtime.item', ...item, status: 'completed' };
    this.emit({ type: 'conversation.item.added', previous_item_id: previous, item: wire });
    this.emit({ type: 'conversation.item.done', previous_item_id: previous, item: wire });
  }

  private truncate(event: Record<string, unknown>): void {
    const item = this.items.find((i) => i.id === event.item_id);
    if (item === undefined || item.type !== 'message' || item.role !== 'assistant') {
      throw new RealtimeRequestError('Only assistant message items can be truncated.', 'invalid_value', 'item_id');
    }
    if (event.content_index !== 0) throw new RealtimeRequestError("Invalid 'content_index': expected 0.", 'invalid_value', 'content_index');
    const audioEndMs = event.audio_end_ms;
    if (typeof audioEndMs !== 'number' || !Number.isInteger(audioEndMs) || audioEndMs < 0) {
      throw new RealtimeRequestError("Invalid 'audio_end_ms'.", 'invalid_value', 'audio_end_ms');
    }
    if (audioEndMs > item.audioMs) {
      throw new RealtimeRequestError(`Audio content of ${Math.round(item.audioMs)}ms is already shorter than ${audioEndMs}ms.`, 'invalid_value', 'audio_end_ms');
    }
    item.truncatedAtMs = audioEndMs;
    this.connection.truncations.push({ itemId: item.id, contentIndex: 0, audioEndMs, itemAudioMs: item.audioMs, text: item.text });
    this.emit({ type: 'conversation.item.truncated', item_id: item.id, content_index: 0, audio_end_ms: audioEndMs });
  }

  // ---- responses ------------------------------------------------------------------------------------------------

  /** What the response says and calls, from the out-of-band instructions, a tool's output, or the caller's words. */
  private plan(instructions: string | undefined): { text: string; toolCall?: { name: string; arguments: unknown }; afterTool?: Item['afterTool'] } {
    const script = this.fake.script;
    const verbatim = instructions === undefined ? undefined : /^Say exactly(?: this)?:\s*([\s\S]*)$/.exec(instructions.trim())?.[1];
    if (verbatim !== undefined) return { text: verbatim.replace(/^"|"$/g, '') };
    const last = this.items.at(-1);
    if (last?.type === 'function_call_output') {
      const after = last.afterTool;
      return { text: typeof after === 'function' ? after(last.text) : (after ?? 'Done.').replace('{output}', last.text) };
    }
    const said = [...this.items].reverse().find((i) => i.type === 'message' && i.role === 'user')?.text ?? '';
    const rule = script.rules?.find((r) => (typeof r.match === 'string' ? said.toLowerCase().includes(r.match.toLowerCase()) : r.match.test(said)));
    if (rule === undefined) return { text: script.fallback ?? "Sorry, I didn't catch that." };
    return { text: rule.reply ?? '', toolCall: rule.toolCall === undefined ? undefined : { name: rule.toolCall.name, arguments: rule.toolCall.arguments ?? {} }, afterTool: rule.afterTool };
  }

  private async respond(instructions: string | undefined): Promise<void> {
    const response: ActiveResponse = { id: newId('resp'), cancelled: false };
    this.response = response;
    const plan = this.plan(instructions);
    const output: Record<string, unknown>[] = [];
    const fault = this.fake.takeFault(plan.text);
    this.emit({ type: 'response.created', response: { object: 'realtime.response', id: response.id, status: 'in_progress', output: [] } });
    let outputIndex = 0;
    let outputTokens = 0;
    let audioTokens = 0;
    if (plan.text.trim() !== '') {
      const item = await this.speak(response, plan.text, outputIndex++, fault);
      if (item === 'dropped') return;
      output.push({ id: item.id, type: 'message', role: 'assistant' });
      outputTokens += Math.ceil(plan.text.length / 4);
      audioTokens += Math.ceil(item.audioMs / 50);
    }
    if (plan.toolCall !== undefined && response.cancelled === false) {
      const callId = newId('call');
      const args = JSON.stringify(plan.toolCall.arguments);
      const item: Item = { id: newId('item'), type: 'function_call', text: args, callId, name: plan.toolCall.name, audioMs: 0, afterTool: plan.afterTool };
      const previous = this.items.at(-1)?.id ?? null;
      this.items.push(item);
      const wire = { id: item.id, object: 'realtime.item', type: 'function_call', status: 'in_progress', call_id: callId, name: item.name, arguments: '' };
      this.emit({ type: 'response.output_item.added', response_id: response.id, output_index: outputIndex, item: wire });
      this.emit({ type: 'conversation.item.added', previous_item_id: previous, item: wire });
      this.emit({ type: 'response.function_call_arguments.delta', response_id: response.id, item_id: item.id, output_index: outputIndex, call_id: callId, delta: args });
      this.emit({ type: 'response.function_call_arguments.done', response_id: response.id, item_id: item.id, output_index: outputIndex, call_id: callId, name: item.name, arguments: args });
      const done = { ...wire, status: 'completed', arguments: args };
      this.emit({ type: 'response.output_item.done', response_id: response.id, output_index: outputIndex, item: done });
      this.emit({ type: 'conversation.item.done', previous_item_id: previous, item: done });
      output.push(done);
      outputTokens += Math.ceil(args.length / 4) + 5;
    }
    this.response = undefined;
    const status = response.cancelled === false ? 'completed' : 'cancelled';
    const inputTokens = this.items.reduce((n, i) => n + Math.ceil(i.text.length / 4), Math.ceil(this.config.instructions.length / 4));
    this.emit({
      type: 'response.done',
      response: {
        object: 'realtime.response',
        id: response.id,
        status,
        status_details: response.cancelled === false ? null : { type: 'cancelled', reason: response.cancelled },
        output,
        usage: {
          total_tokens: inputTokens + outputTokens + audioTokens,
          input_tokens: inputTokens,
          output_tokens: outputTokens + audioTokens,
          input_token_details: { text_tokens: inputTokens, audio_tokens: 0, cached_tokens: 0 },
          output_token_details: { text_tokens: outputTokens, audio_tokens: audioTokens },
        },
      },
    });
  }

  /** One assistant audio message, paced; stops at a cancellation. */
  private async speak(response: ActiveResponse, text: string, outputIndex: number, fault: ReturnType<FakeRealtimeServerHooks['takeFault']>): Promise<Item | 'dropped'> {
    const script = this.fake.script;
    const item: Item = { id: newId('item'), type: 'message', role: 'assistant', text, audioMs: 0 };
    const previous = this.items.at(-1)?.id ?? null;
    this.items.push(item);
    const ids = { response_id: response.id, item_id: item.id, output_index: outputIndex, content_index: 0 };
    const wire = { id: item.id, object: 'realtime.item', type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    this.emit({ type: 'response.output_item.added', response_id: response.id, output_index: outputIndex, item: wire });
    this.emit({ type: 'conversation.item.added', previous_item_id: previous, item: wire });
    this.emit({ type: 'response.content_part.added', ...ids, part: { type: 'audio', transcript: '' } });
    const format = this.config.outputFormat;
    const rate = formatRate(format);
    const totalMs = Math.max(script.chunkMs ?? 100, text.trim().length * (script.msPerCharacter ?? 60));
    const samples = fakeVoiceTone(`${this.config.voice}|${text}`, Math.round((totalMs * rate) / 1000), rate, TIMBRE);
    const words = text.split(/(?<=\s)/);
    const chunkSamples = Math.round(((script.chunkMs ?? 100) * rate) / 1000);
    const chunks = Math.ceil(samples.length / chunkSamples);
    let wordsSent = 0;
    let transcript = '';
    if ((script.firstAudioDelayMs ?? 0) > 0) await pause(script.firstAudioDelayMs!);
    for (let c = 0; c < chunks && response.cancelled === false; c++) {
      if (fault !== undefined && c === (fault.afterChunks ?? 0)) {
        if (fault.drop === true) {
          this.drop();
          return 'dropped';
        }
        this.emit({ type: 'error', error: { type: 'server_error', code: fault.error ?? 'server_error', message: 'The server had an error while processing your request.', param: null, event_id: null } });
        response.cancelled = 'client_cancelled';
        break;
      }
      const chunk = samples.subarray(c * chunkSamples, Math.min(samples.length, (c + 1) * chunkSamples));
      // The transcript runs a little ahead of the audio, as the vendor's does.
      const wordsDue = Math.min(words.length, Math.ceil(((c + 1) * words.length) / chunks));
      if (wordsDue > wordsSent) {
        const delta = words.slice(wordsSent, wordsDue).join('');
        wordsSent = wordsDue;
        transcript += delta;
        this.emit({ type: 'response.output_audio_transcript.delta', ...ids, delta });
      }
      this.emit({ type: 'response.output_audio.delta', ...ids, delta: Buffer.from(encodeSamples(chunk, format.type === 'audio/pcm' ? 's16le' : format.type === 'audio/pcmu' ? 'mulaw' : 'alaw')).toString('base64') });
      item.audioMs += (chunk.length * 1000) / rate;
      this.producedAudio = true;
      await pause(script.chunkDelayMs ?? 20);
      if (!this.open) return 'dropped';
    }
    this.emit({ type: 'response.output_audio.done', ...ids });
    this.emit({ type: 'response.output_audio_transcript.done', ...ids, transcript });
    this.emit({ type: 'response.content_part.done', ...ids, part: { type: 'audio', transcript } });
    const status = response.cancelled === false ? 'completed' : 'incomplete';
    const done = { ...wire, status, content: [{ type: 'output_audio', transcript }] };
    this.emit({ type: 'response.output_item.done', response_id: response.id, output_index: outputIndex, item: done });
    this.emit({ type: 'conversation.item.done', previous_item_id: previous, item: done });
    this.connection.spoken.push({ itemId: item.id, text, audioMs: item.audioMs, completed: response.cancelled === false });
    return item;
  }
}
