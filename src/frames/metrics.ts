// Metrics carried by metrics frames. Times are milliseconds; `processor` names the processor that measured.

export interface TTFBMetric {
  readonly kind: 'ttfb';
  readonly processor: string;
  /** Time from request to the first byte/frame of the answer. */
  readonly valueMs: number;
}

export interface ProcessingMetric {
  readonly kind: 'processing';
  readonly processor: string;
  /** Time from the start to the end of one unit of work (an LLM response, a TTS sentence, ...). */
  readonly valueMs: number;
}

export interface LLMUsageMetric {
  readonly kind: 'llm-usage';
  readonly processor: string;
  readonly model?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens?: number;
}

export interface TTSUsageMetric {
  readonly kind: 'tts-usage';
  readonly processor: string;
  readonly model?: string;
  readonly characters: number;
}

export interface STTUsageMetric {
  readonly kind: 'stt-usage';
  readonly processor: string;
  readonly model?: string;
  readonly audioSeconds: number;
}

/** Audio a speech-to-speech model heard and said in one response (what such models bill by). */
export interface RealtimeAudioMetric {
  readonly kind: 'realtime-audio';
  readonly processor: string;
  readonly model?: string;
  /** Caller audio sent to the model since the previous report. */
  readonly inputAudioSeconds: number;
  /** Audio the model sent for the response. */
  readonly outputAudioSeconds: number;
}

export type MetricsData = TTFBMetric | ProcessingMetric | LLMUsageMetric | TTSUsageMetric | STTUsageMetric | RealtimeAudioMetric;
