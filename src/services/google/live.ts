// GeminiLiveService: Google's Gemini Live API (`BidiGenerateContent` WebSocket) as a VoiceAgent's brain:
// `voice.action({ realtime: new GeminiLiveService({ apiKey }) })`. The facts it relies on are in
// docs/vendors/gemini-live.md. Gemini takes 16 kHz PCM in and gives 24 kHz PCM out, so the call's audio is resampled
// both ways where the line runs at another rate (there is no μ-law option). The protocol of one socket is in
// ./live-session.ts; this class builds the setup message from the call and keeps the session-resumption handle
// across sockets, so a dropped socket continues the same Gemini session instead of replaying the history as text.
import {
  RealtimeService,
  type RealtimeAudioRates,
  type RealtimeEvents,
  type RealtimeServiceOptions,
  type RealtimeVendorSession,
} from '../base/realtime-service.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { GeminiLiveSession } from './live-session.js';

export interface GeminiLiveServiceOptions extends Partial<Omit<RealtimeServiceOptions, 'model'>> {
  apiKey: string;
  /** Default 'gemini-2.5-flash-native-audio-preview-12-2025'. */
  model?: string;
  /** A prebuilt voice, e.g. 'Puck' (the default), 'Kore', 'Charon', 'Aoede'. */
  voice?: string;
  /** BCP-47 code of the speech, e.g. 'hi-IN'; default: the model's choice. */
  languageCode?: string;
  /** Default: Google's Live API WebSocket URL (a fake's `url` in tests); undefined: the default. */
  url?: string | undefined;
  /** The model's VAD, when it takes the turns (the default). */
  serverVad?: { startSensitivity?: 'high' | 'low'; endSensitivity?: 'high' | 'low'; prefixPaddingMs?: number; silenceDurationMs?: number };
  /** Transcribe the caller and the model (for `user-turn` / `assistant-turn` and the history). Default true. */
  transcription?: boolean;
  /** Ask for resumption handles, so a dropped socket resumes the session. Default true. */
  sessionResumption?: boolean;
  /** Longest wait for the socket and `setupComplete`. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

const DEFAULT_URL = 'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
export const GEMINI_LIVE_DEFAULT_MODEL = 'gemini-2.5-flash-native-audio-preview-12-2025';

const SENSITIVITY = {
  start: { high: 'START_SENSITIVITY_HIGH', low: 'START_SENSITIVITY_LOW' },
  end: { high: 'END_SENSITIVITY_HIGH', low: 'END_SENSITIVITY_LOW' },
} as const;

export class GeminiLiveService extends RealtimeService {
  readonly voice: string;
  private readonly apiKey: string;
  private readonly options: GeminiLiveServiceOptions;
  /** The latest resumable handle the server gave (one owner: this call's service). */
  private resumptionHandle: string | undefined;

  constructor(options: GeminiLiveServiceOptions) {
    super({ ...options, model: options.model ?? GEMINI_LIVE_DEFAULT_MODEL, name: options.name ?? 'gemini-live' });
    this.apiKey = requireApiKey(options.apiKey, 'GeminiLiveService', 'GOOGLE_API_KEY');
    const voice = options.voice ?? 'Puck';
    if (!/^[A-Za-z][A-Za-z-]*$/.test(voice)) throw new RangeError(`GeminiLiveService: voice must be a prebuilt voice name such as 'Puck'; got ${JSON.stringify(voice)}`);
    this.voice = voice;
    this.options = options;
  }

  protected override createVendorSession(events: RealtimeEvents, rates: RealtimeAudioRates): RealtimeVendorSession {
    const setup = this.callSettings();
    const url = new URL(this.options.url ?? DEFAULT_URL);
    url.searchParams.set('key', this.apiKey);
    const vad = this.options.serverVad ?? {};
    const transcription = this.options.transcription !== false;
    const resumption = this.options.sessionResumption !== false;
    const tools = setup.tools.definitions();
    return new GeminiLiveSession({
      url: url.toString(),
      apiKey: this.apiKey,
      clock: this.clock,
      logger: this.logger,
      events,
      rates,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
      serverInterrupts: setup.turnDetection === 'server',
      resumptionHandle: resumption ? this.resumptionHandle : undefined,
      onResumptionHandle: (handle) => {
        this.resumptionHandle = handle;
      },
      setup: (handle) => ({
        model: `models/${this.model}`,
        generationConfig: {
          responseModalities: ['AUDIO'],
          speechConfig: {
            voiceConfig: { prebuiltVoiceConfig: { voiceName: this.voice } },
            ...(this.options.languageCode === undefined ? {} : { languageCode: this.options.languageCode }),
          },
        },
        systemInstruction: { parts: [{ text: setup.instructions }] },
        ...(tools.length === 0 ? {} : { tools: [{ functionDeclarations: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) }] }),
        realtimeInputConfig: {
          automaticActivityDetection:
            setup.turnDetection === 'local'
              ? { disabled: true }
              : {
                  disabled: false,
                  ...(vad.startSensitivity === undefined ? {} : { startOfSpeechSensitivity: SENSITIVITY.start[vad.startSensitivity] }),
                  ...(vad.endSensitivity === undefined ? {} : { endOfSpeechSensitivity: SENSITIVITY.end[vad.endSensitivity] }),
                  ...(vad.prefixPaddingMs === undefined ? {} : { prefixPaddingMs: vad.prefixPaddingMs }),
                  ...(vad.silenceDurationMs === undefined ? {} : { silenceDurationMs: vad.silenceDurationMs }),
                },
          activityHandling: 'START_OF_ACTIVITY_INTERRUPTS',
        },
        ...(transcription ? { inputAudioTranscription: {}, outputAudioTranscription: {} } : {}),
        ...(resumption ? { sessionResumption: handle === undefined ? {} : { handle } } : {}),
      }),
    });
  }
}
