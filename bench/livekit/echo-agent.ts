// The agent of the media benchmarks: a real Agent (socket.io signaling, the transport the invite names) whose
// session plays back every caller frame at once. No VAD, STT, LLM or TTS: what the caller hears is what crossed the
// media path twice (caller → agent, agent → caller), so the time and the damage are the media path's alone, the
// same on both paths (the simulator's stream, a LiveKit room over real WebRTC).
import { Agent } from '../../src/agent/index.js';
import { ttsAudioFrame, type Frame, type FrameDirection } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { FrameProcessor, Pipeline, PipelineTask } from '../../src/pipeline/index.js';
import type { Clock } from '../../src/runtime/clock.js';

/** Below this every sample of a frame, the frame is silence (the caller's line between bursts, codec noise). */
const SILENCE_LEVEL = 200;

/**
 * Turns each caller audio frame that is not silence into agent audio (the output transport resamples it to its
 * rate and paces it). Silence is not echoed: the output queue then empties between bursts, so a burst of frames at
 * the start of a call (a receiver catching up) cannot leave a standing delay that every later echo would wait in.
 */
class Echo extends FrameProcessor {
  private held: Int16Array[] = [];
  private heldMs = 0;
  private lastLoudAt = -Infinity;

  constructor(
    private readonly onEcho: ((at: number, audio: Int16Array, sampleRate: number) => void) | undefined,
    private readonly prebufferMs: number,
  ) {
    super();
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame.type !== 'input-audio') return this.pushFrame(frame, direction);
    if (!frame.audio.some((s) => Math.abs(s) > SILENCE_LEVEL)) return;
    const now = performance.now();
    this.onEcho?.(now, frame.audio, frame.sampleRate);
    // A new burst (after a pause) starts its prebuffer again.
    if (now - this.lastLoudAt > 200) this.heldMs = 0;
    this.lastLoudAt = now;
    if (this.heldMs < this.prebufferMs) {
      this.held.push(frame.audio);
      this.heldMs += (frame.audio.length * 1000) / frame.sampleRate;
      if (this.heldMs < this.prebufferMs) return;
    }
    const audio = this.held.length === 0 ? [frame.audio] : this.held.splice(0);
    for (const samples of audio) await this.pushFrame(ttsAudioFrame(samples, frame.sampleRate), 'downstream');
  }
}

export interface EchoAgentOptions {
  agentId: string;
  agentToken: string;
  signalingUrl: string;
  /** Called for each frame echoed (the agent heard the caller): `performance.now()`, the caller's number, the frame. */
  onEcho?: (at: number, from: string | undefined, audio: Int16Array, sampleRate: number) => void;
  /**
   * Audio held at the start of each burst before the echo starts (default 0): a jitter buffer, so input arriving
   * unevenly does not leave gaps in the agent's output that are not the output's doing.
   */
  prebufferMs?: number;
  /** The calls' clock (their output pacing): default the system clock. */
  clock?: Clock;
}

/** Connects an echoing Agent; `sessions()` counts the calls it is serving. */
export async function startEchoAgent(options: EchoAgentOptions): Promise<{ agent: Agent; sessions: () => number }> {
  let sessions = 0;
  const { onEcho, prebufferMs = 0, clock, ...credentials } = options;
  const agent = new Agent({
    ...credentials,
    logger: silentLogger,
    handleSignals: false,
    prewarmVAD: false,
    maxSessions: 10_000,
    async createSession(call) {
      const { transport } = call;
      const task = new PipelineTask(new Pipeline([transport.input, new Echo(onEcho && ((at, audio, rate) => onEcho(at, call.fromNumber, audio, rate)), prebufferMs), transport.output]), {
        audioInSampleRate: transport.audioFormats?.input.sampleRate ?? 16000,
        audioOutSampleRate: transport.audioFormats?.output.sampleRate ?? 8000,
        allowInterruptions: false,
        enableMetrics: false,
        logger: silentLogger,
        ...(clock !== undefined ? { clock } : {}),
      });
      const onLeft = (reason: string): void => task.cancel(reason);
      transport.events.on('caller-left', onLeft);
      call.signal.addEventListener('abort', () => task.cancel('cancelled'), { once: true });
      sessions++;
      const running = task.run();
      try {
        await transport.connect?.();
        await running;
      } finally {
        sessions--;
        transport.events.off('caller-left', onLeft);
        await transport.close().catch(() => undefined);
      }
    },
  });
  await agent.connect();
  return { agent, sessions: () => sessions };
}
