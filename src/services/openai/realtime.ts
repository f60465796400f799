// OpenAIRealtimeService: OpenAI's Realtime API (GA protocol, WebSocket) as a VoiceAgent's brain:
// `voice.action({ realtime: new OpenAIRealtimeService({ apiKey }) })`. The facts it relies on are in
// docs/vendors/openai-realtime.md. Audio formats follow the call: a side running at 8 kHz (a phone line) is sent
// and received as G.711 μ-law (`audio/pcmu`), so a phone call resamples nothing; other rates use 24 kHz PCM.
import { pcmToMulaw, mulawToPcm, bytesToInt16, int16ToBytes, StreamingResampler } from '../../audio/index.js';
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../logging/index.js';
import {
  RealtimeService,
  type RealtimeAudioRates,
  type RealtimeEvents,
  type RealtimeServiceOptions,
  type RealtimeVendorSession,
} from '../base/realtime-service.js';
import { ServiceError } from '../base/service-error.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { messageText, VendorSocket } from '../base/vendor-socket.js';
import { isRecord } from '../base/json.js';

export const OPENAI_REALTIME_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;
export type OpenAIRealtimeVoice = (typeof OPENAI_REALTIME_VOICES)[number];

export interface OpenAIRealtimeServiceOptions extends Partial<Omit<RealtimeServiceOptions, 'model'>> {
  apiKey: string;
  /** Default 'gpt-realtime'. */
  model?: string;
  /** Default 'marin'. */
  voice?: OpenAIRealtimeVoice;
  /** Default `wss://api.openai.com/v1/realtime` (a fake's `url` in tests); undefined: the default. */
  url?: string | undefined;
  /** The model's VAD, when it takes the turns (the default). */
  serverVad?: { threshold?: number; prefixPaddingMs?: number; silenceDurationMs?: number };
  /** Transcribes the caller for `user-turn` events and the history. Default 'gpt-4o-mini-transcribe'; false: none. */
  transcriptionModel?: string | false;
  /** Longest wait for the socket and the session's configuration. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

const DEFAULT_URL = 'wss://api.openai.com/v1/realtime';
const PCM_RATE = 24000;

export class OpenAIRealtimeService extends RealtimeService {
  readonly voice: OpenAIRealtimeVoice;
  private readonly apiKey: string;
  private readonly options: OpenAIRealtimeServiceOptions;

  constructor(options: OpenAIRealtimeServiceOptions) {
    super({ ...options, model: options.model ?? 'gpt-realtime', name: options.name ?? 'openai-realtime' });
    this.apiKey = requireApiKey(options.apiKey, 'OpenAIRealtimeService', 'OPENAI_API_KEY');
    const voice = options.voice ?? 'marin';
    if (!OPENAI_REALTIME_VOICES.includes(voice)) {
      throw new RangeError(`OpenAIRealtimeService: unknown voice ${JSON.stringify(voice)}; the voices are ${OPENAI_REALTIME_VOICES.join(', ')}`);
    }
    this.voice = voice;
    this.options = options;
  }

  protected override createVendorSession(events: RealtimeEvents, rates: RealtimeAudioRates): RealtimeVendorSession {
    const setup = this.callSettings();
    const url = new URL(this.options.url ?? DEFAULT_URL);
    url.searchParams.set('model', this.model);
    return new OpenAIRealtimeSession({
      url: url.toString(),
      apiKey: this.apiKey,
      clock: this.clock,
      logger: this.logger,
      events,
      rates,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      session: (inputFormat, outputFormat) => ({
        type: 'realtime',
        instructions: setup.instructions,
        output_modalities: ['audio'],
        audio: {
          input: {
            format: inputFormat,
            transcription: this.options.transcriptionModel === false ? null : { model: this.options.transcriptionModel ?? 'gpt-4o-mini-transcribe' },
            turn_detection:
              setup.turnDetection === 'local'
                ? null
                : {
                    type: 'server_vad',
                    ...(this.options.serverVad?.threshold === undefined ? {} : { threshold: this.options.serverVad.threshold }),
                    ...(this.options.serverVad?.prefixPaddingMs === undefined ? {} : { prefix_padding_ms: this.options.serverVad.prefixPaddingMs }),
                    ...(this.options.serverVad?.silenceDurationMs === undefined ? {} : { silence_duration_ms: this.options.serverVad.silenceDurationMs }),
                    create_response: true,
                    interrupt_response: true,
                  },
          },
          output: { format: outputFormat, voice: this.voice },
        },
        tools: setup.tools.definitions().map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })),
        tool_choice: 'auto',
      }),
      serverInterrupts: setup.turnDetection === 'server',
    });
  }
}

type WireFormat = { type: 'audio/pcmu' } | { type: 'audio/pcm'; rate: 24000 };

interface SessionOptions {
  url: string;
  apiKey: string;
  clock: Clock;
  logger: Logger;
  events: RealtimeEvents;
  rates: RealtimeAudioRates;
  connectTimeoutMs: number;
  session: (input: WireFormat, output: WireFormat) => Record<string, unknown>;
  serverInterrupts: boolean;
}

/** One socket's worth of the protocol. */
class OpenAIRealtimeSession implements RealtimeVendorSession {
  readonly serverInterrupts: boolean;
  private readonly socket: VendorSocket;
  private readonly inputMulaw: boolean;
  private readonly outputMulaw: boolean;
  private inputResampler: StreamingResampler | undefined;
  private configured: ((error?: ServiceError) => void) | undefined;
  private closing = false;

  constructor(private readonly o: SessionOptions) {
    this.serverInterrupts = o.serverInterrupts;
    this.inputMulaw = o.rates.inputSampleRate === 8000;
    this.outputMulaw = o.rates.outputSampleRate === 8000;
    this.socket = new VendorSocket(
      {
        vendor: 'openai-realtime',
        url: o.url,
        headers: { Authorization: `Bearer ${o.apiKey}` },
        secrets: [o.apiKey],
        handshakeTimeoutMs: o.connectTimeoutMs,
        clock: o.clock,
      },
      {
        onMessage: (data) => this.onMessage(messageText(data)),
        onClose: (code, reason) => {
          if (this.closing) return;
          const error = new ServiceError('openai-realtime', `socket closed (${code}${reason === '' ? '' : ` ${reason}`})`, { code: 'connection-lost' });
          this.configured?.(error);
          o.events.lost(error);
        },
      },
    );
  }

  async open(history: readonly { role: 'user' | 'assistant'; text: string }[]): Promise<void> {
    await this.socket.open();
    const pcm: WireFormat = { type: 'audio/pcm', rate: PCM_RATE };
    const done = new Promise<void>((resolve, reject) => {
      const timer = this.o.clock.setTimeout(() => this.configured?.(new ServiceError('openai-realtime', 'the session was not configured in time', { code: 'timeout' })), this.o.connectTimeoutMs);
      this.configured = (error) => {
        this.configured = undefined;
        this.o.clock.clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    this.socket.sendJSON({ type: 'session.update', session: this.o.session(this.inputMulaw ? { type: 'audio/pcmu' } : pcm, this.outputMulaw ? { type: 'audio/pcmu' } : pcm) });
    try {
      await done;
    } catch (error) {
      await this.close();
      throw error;
    }
    for (const { role, text } of history) {
      const content = [{ type: role === 'user' ? 'input_text' : 'output_text', text }];
      this.socket.sendJSON({ type: 'conversation.item.create', item: { type: 'message', role, content } });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.socket.close();
  }

  sendAudio(samples: Int16Array, sampleRate: number): void {
    let audio: Uint8Array;
    if (this.inputMulaw && sampleRate === 8000) {
      audio = pcmToMulaw(samples);
    } else {
      if (sampleRate !== PCM_RATE) {
        this.inputResampler ??= new StreamingResampler({ inputRate: sampleRate, outputRate: PCM_RATE });
        samples = this.inputResampler.process(samples);
      }
      audio = int16ToBytes(samples);
    }
    this.socket.sendJSON({ type: 'input_audio_buffer.append', audio: Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength).toString('base64') });
  }

  commitInput(): void {
    this.socket.sendJSON({ type: 'input_audio_buffer.commit' });
  }

  createResponse(instructions?: string): void {
    this.socket.sendJSON({ type: 'response.create', response: instructions === undefined ? {} : { instructions } });
  }

  cancelResponse(): void {
    this.socket.sendJSON({ type: 'response.cancel' });
  }

  truncate(itemId: string, audioEndMs: number): void {
    this.socket.sendJSON({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
  }

  sendToolOutputs(outputs: readonly { callId: string; output: string }[]): void {
    for (const { callId, output } of outputs) {
      this.socket.sendJSON({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
    }
  }

  private onMessage(text: string): void {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      this.o.events.error(new ServiceError('openai-realtime', 'a server event was not JSON', { code: 'protocol' }));
      return;
    }
    if (!isRecord(event)) return;
    const events = this.o.events;
    const str = (name: string): string => (typeof event[name] === 'string' ? event[name] : '');
    switch (event.type) {
      case 'session.updated':
        this.configured?.();
        return;
      case 'input_audio_buffer.speech_started':
        events.speechStarted();
        return;
      case 'input_audio_buffer.speech_stopped':
        events.speechStopped();
        return;
      case 'conversation.item.input_audio_transcription.completed':
        events.userTranscript(str('transcript'));
        return;
      case 'response.created':
        events.responseStarted();
        return;
      case 'response.output_audio.delta': {
        const bytes = Buffer.from(str('delta'), 'base64');
        if (this.outputMulaw) events.audio(str('item_id'), mulawToPcm(bytes), 8000);
        else events.audio(str('item_id'), bytesToInt16(bytes), PCM_RATE);
        return;
      }
      case 'response.output_audio_transcript.delta':
        events.transcriptDelta(str('item_id'), str('delta'));
        return;
      case 'response.output_audio.done':
        events.audioDone(str('item_id'));
        return;
      case 'response.function_call_arguments.done':
        events.functionCall({ id: str('call_id'), name: str('name'), arguments: str('arguments') });
        return;
      case 'response.done':
        events.responseDone(usageOf(event.response));
        return;
      case 'error':
        this.onError(event.error);
        return;
      default:
        return;
    }
  }

  private onError(body: unknown): void {
    const error = isRecord(body) ? body : {};
    const vendorCode = typeof error.code === 'string' ? error.code : undefined;
    const message = typeof error.message === 'string' ? error.message : 'unknown error';
    // A cancel racing the response's own end is harmless: the response is over either way.
    if (vendorCode === 'response_cancel_not_active') return;
    const failure = new ServiceError('openai-realtime', message, {
      code: error.type === 'invalid_request_error' ? 'bad-request' : 'server',
      vendorCode,
    });
    if (this.configured !== undefined) {
      this.configured(failure);
      return;
    }
    this.o.events.error(failure);
  }
}

function usageOf(response: unknown): { inputTokens: number; outputTokens: number; cachedTokens?: number } | undefined {
  if (!isRecord(response) || !isRecord(response.usage)) return undefined;
  const usage = response.usage;
  const details = isRecord(usage.input_token_details) ? usage.input_token_details : {};
  return {
    inputTokens: typeof usage.input_tokens === 'number' ? usage.input_tokens : 0,
    outputTokens: typeof usage.output_tokens === 'number' ? usage.output_tokens : 0,
    cachedTokens: typeof details.cached_tokens === 'number' ? details.cached_tokens : undefined,
  };
}
