// Feeds one call's frames into its Agent's metrics. An observer, not a processor: it sees every hop of every frame
// and changes nothing. Each fact is taken once, at the hop where it is born: a metrics frame when the processor
// that measured it pushes it, a tool result when the LLM pushes it, an interruption or error at its first hop.
import type { Frame } from '../frames/index.js';
import type { FrameObserver, FrameProcessEvent, FramePushEvent } from '../pipeline/observer.js';
import type { FrameProcessor } from '../pipeline/frame-processor.js';
import { LLMService } from '../services/base/llm-service.js';
import { ServiceError } from '../services/base/service-error.js';
import { STTService } from '../services/base/stt-service.js';
import { TTSService } from '../services/base/tts-service.js';
import { BaseOutputTransport } from '../transports/base/output-transport.js';
import { VADProcessor } from '../turns/vad-processor.js';
import type { AgentMetrics } from './metrics.js';

export class CallMetricsObserver implements FrameObserver {
  /** When the VAD began analysing the audio window it last processed (the one that may end the turn). */
  private vadWindowAt = -1;
  /** When the caller's turn ended (the VAD's stop), until the bot's first audio after it; -1 when none is pending. */
  private userStoppedAt = -1;
  private lastInterruptionId = -1;
  private lastErrorId = -1;

  constructor(private readonly metrics: AgentMetrics) {}

  onProcessFrame(event: FrameProcessEvent): void {
    const { frame } = event;
    if (frame.type === 'input-audio') {
      if (event.processor instanceof VADProcessor) this.vadWindowAt = event.timestamp;
    } else if (frame.type === 'interruption' && frame.id > this.lastInterruptionId) {
      this.lastInterruptionId = frame.id;
      this.metrics.interruptions.inc();
    }
  }

  onPushFrame(event: FramePushEvent): void {
    const { frame, source } = event;
    switch (frame.type) {
      case 'user-stopped-speaking':
        if (source instanceof VADProcessor) {
          // The VAD's decision time after the window that ended the turn (its stop silence comes before it).
          if (this.vadWindowAt >= 0) this.metrics.observeLatency('vad_end_of_speech', event.timestamp - this.vadWindowAt);
          this.userStoppedAt = event.timestamp;
        }
        return;
      case 'user-started-speaking':
        if (source instanceof VADProcessor) this.userStoppedAt = -1; // the turn goes on: no answer is awaited yet
        return;
      case 'bot-started-speaking':
        if (source instanceof BaseOutputTransport && event.direction === 'downstream' && this.userStoppedAt >= 0) {
          this.metrics.observeLatency('voice_to_voice', event.timestamp - this.userStoppedAt);
          this.userStoppedAt = -1;
        }
        return;
      case 'metrics':
        this.onMetrics(frame, source);
        return;
      case 'function-call-result':
        if (source instanceof LLMService && event.direction === 'downstream') {
          this.metrics.toolCalls.inc({ tool: frame.name, outcome: frame.error === undefined ? 'ok' : 'error' });
        }
        return;
      case 'error':
        if (frame.id > this.lastErrorId) {
          this.lastErrorId = frame.id;
          const error = frame.error;
          const vendor = error instanceof ServiceError ? error.service : source.name.replace(/#\d+$/, '');
          this.metrics.errors.inc({ vendor, code: error instanceof ServiceError ? error.code : 'unknown' });
        }
        return;
      default:
        return;
    }
  }

  private onMetrics(frame: Extract<Frame, { type: 'metrics' }>, source: FrameProcessor): void {
    for (const data of frame.data) {
      // Downstream processors pass the frame on; only its measuring processor's push counts.
      if (data.kind !== 'ttfb' || data.processor !== source.name) continue;
      if (source instanceof STTService) this.metrics.observeLatency('stt_final', data.valueMs);
      else if (source instanceof LLMService) this.metrics.observeLatency('llm_ttfb', data.valueMs);
      else if (source instanceof TTSService) this.metrics.observeLatency('tts_first_byte', data.valueMs);
    }
  }
}
