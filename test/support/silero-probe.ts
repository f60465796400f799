import { SileroVADAnalyzer } from '../../src/audio/vad/index.js';

/** A Silero analyzer that records the model's confidence for every window, for comparing runs. */
export class ConfidenceProbe extends SileroVADAnalyzer {
  readonly confidences: number[] = [];
  protected override async voiceConfidence(window: Float32Array): Promise<number> {
    const confidence = await super.voiceConfidence(window);
    this.confidences.push(confidence);
    return confidence;
  }
}
