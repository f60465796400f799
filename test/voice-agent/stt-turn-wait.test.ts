// An STT whose vendor decides the end of the turn (Deepgram Flux) may need longer than the user-turn aggregator's
// default wait after a VAD stop; VoiceAgent gives the aggregator the STT's `transcriptionCompleteTimeoutMs`.
import { describe, expect, it } from 'vitest';
import type { UserStoppedSpeakingFrame } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { STTService } from '../../src/services/base/stt-service.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { ConversationSimulation } from '../../src/testing/conversation-simulation.js';
import { FakeTTSService } from '../../src/testing/fake-services.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

const TEXT = 'I want my order';
const FINAL_AFTER_MS = 1500;

/** At each VAD stop: an interim at once, the final and `transcription-complete` 1500 ms later (call time). */
class LateFinalSTT extends STTService {
  constructor(private readonly waitMs: number | undefined) {
    super({ name: 'late-final-stt' });
  }

  override get reportsTranscriptionComplete(): boolean {
    return true;
  }

  override get transcriptionCompleteTimeoutMs(): number | undefined {
    return this.waitMs;
  }

  protected override processAudio(): void {}

  protected override onUserStoppedSpeaking(stop: UserStoppedSpeakingFrame): void {
    this.pushTranscription(TEXT, false);
    this.clock.setTimeout(() => {
      this.pushTranscription(TEXT, true);
      this.pushTranscriptionComplete(stop.id);
    }, FINAL_AFTER_MS);
  }
}

async function userTurns(waitMs: number | undefined): Promise<{ text: string; afterSpeechMs: number }[]> {
  const sim = new ConversationSimulation();
  const voice = new VoiceAgent({ instructions: 'Be brief.', logger: silentLogger, idleTimeoutSecs: 0 });
  const tts = new FakeTTSService({ msPerCharacter: 5 });
  await voice.action({ ...sim.services, stt: new LateFinalSTT(waitMs), llm: new ScriptedLLMService({ rules: [], fallback: 'Sure.' }), tts });
  const turns: { text: string; at: number }[] = [];
  voice.events.on('user-turn', (text) => turns.push({ text, at: sim.nowMs }));
  await sim.start(voice);
  await sim.say(TEXT);
  const saidAt = sim.nowMs;
  await sim.wait(FINAL_AFTER_MS + 1500);
  await sim.hangUp();
  return turns.map((t) => ({ text: t.text, afterSpeechMs: t.at - saidAt }));
}

describe('VoiceAgent and the STT’s wait for the end of a turn', () => {
  it('waits as long as the STT asks: one turn, at its final; the default wait commits the interim and the late final becomes a second turn', async () => {
    const waited = await userTurns(2500);
    expect(waited.map((t) => t.text)).toEqual([TEXT]);
    expect(waited[0]!.afterSpeechMs).toBeGreaterThanOrEqual(FINAL_AFTER_MS);

    const cut = await userTurns(undefined);
    expect(cut.map((t) => t.text)).toEqual([TEXT, TEXT]);
    expect(cut[0]!.afterSpeechMs).toBeLessThan(FINAL_AFTER_MS);
  });
});
