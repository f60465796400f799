// LiveKitTransport on its real room driver (@livekit/rtc-node) against the LiveKit test server, with a caller that
// is a second rtc-node participant. Real sockets and WebRTC: real time, generous bounds.
import { makeFrame, ttsAudioFrame } from '../../../src/frames/index.js';
import { silentLogger } from '../../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../../src/pipeline/index.js';
import { FrameCollector } from '../../../src/testing/index.js';
import { startLiveKitTestServer, type LiveKitTestServer } from '../../../src/testing/livekit-server/index.js';
import { RtcTestParticipant } from '../../../src/testing/livekit-server/rtc-participant.js';
import { LiveKitTransport, rtcNodeRoomDriver, type LiveKitRoomDriver } from '../../../src/transports/index.js';

import { until } from './until.js';

export { until };

export interface AgentSide {
  transport: LiveKitTransport;
  collector: FrameCollector;
  task: PipelineTask;
  running: Promise<void>;
  events: string[];
  /** How many times the transport asked the driver to drop queued audio. */
  clears: () => number;
  stop(): Promise<void>;
}

/** The agent's side: the transport in a pipeline (input → collector → output), joined to `roomName`. */
export async function startAgent(
  server: LiveKitTestServer,
  roomName: string,
  rates: { inputSampleRate?: number; outputSampleRate?: number } = {},
): Promise<AgentSide> {
  const real = await rtcNodeRoomDriver(silentLogger);
  let clears = 0;
  // The real driver, counted: clearAudio is the one call whose effect the caller cannot tell apart from silence.
  const driver: LiveKitRoomDriver = { ...real, clearAudio: () => (clears++, real.clearAudio()) };
  const token = await server.createToken({ identity: 'agent', roomName });
  const transport = new LiveKitTransport({ url: server.url, token, roomName, driver, logger: silentLogger });
  const collector = new FrameCollector();
  const task = new PipelineTask(new Pipeline([transport.input, collector, transport.output]), {
    logger: silentLogger,
    audioInSampleRate: rates.inputSampleRate ?? 16000,
    audioOutSampleRate: rates.outputSampleRate ?? 8000,
  });
  const running = task.run();
  const events: string[] = [];
  transport.events.on('caller-joined', () => events.push('joined'));
  transport.events.on('caller-left', (reason) => events.push(`left:${reason}`));
  transport.events.on('dtmf', (digit) => events.push(`dtmf:${digit}`));
  await transport.connect();
  return {
    transport,
    collector,
    task,
    running,
    events,
    clears: () => clears,
    async stop() {
      await transport.close();
      task.cancel();
      await running;
    },
  };
}

export async function joinCaller(server: LiveKitTestServer, roomName: string, identity = 'caller'): Promise<RtcTestParticipant> {
  const token = await server.createToken({ identity, roomName });
  return RtcTestParticipant.join(server.url, token);
}

/** Publishes the caller's (silent) track and waits until the agent's pipeline receives its audio. */
export async function mediaUp(agent: AgentSide, caller: RtcTestParticipant): Promise<void> {
  await caller.publish();
  await until(() => agent.collector.ofType('input-audio').length > 0, 10_000, 'caller audio at the agent');
}

/** The caller audio the agent's pipeline received, concatenated, and its rate. */
export function agentHeard(agent: AgentSide): { samples: Int16Array; sampleRate: number } {
  const frames = agent.collector.ofType('input-audio');
  const samples = new Int16Array(frames.reduce((n, f) => n + f.audio.length, 0));
  let offset = 0;
  for (const frame of frames) {
    samples.set(frame.audio, offset);
    offset += frame.audio.length;
  }
  return { samples, sampleRate: frames[0]?.sampleRate ?? 0 };
}

export { makeFrame };

/** The agent speaks `samples` (one TTS turn). */
export async function speak(agent: AgentSide, samples: Int16Array, sampleRate: number): Promise<void> {
  await agent.task.queueFrame(makeFrame('tts-started', {}));
  await agent.task.queueFrame(ttsAudioFrame(samples, sampleRate));
}

export interface RtcCalls {
  /** The test's server (start() it first). */
  readonly server: LiveKitTestServer;
  start: () => Promise<LiveKitTestServer>;
  /** An agent at the given rates and its caller in `roomName`, with media flowing both ways. */
  call: (roomName: string, rates?: { inputSampleRate?: number; outputSampleRate?: number }) => Promise<{ agent: AgentSide; caller: RtcTestParticipant }>;
  /** Callers leave, agents stop, the server closes: for afterEach. */
  cleanup: () => Promise<void>;
}

/** One test's server and the calls on it, cleaned up together. */
export function rtcCalls(): RtcCalls {
  let server: LiveKitTestServer | undefined;
  const agents: AgentSide[] = [];
  const callers: RtcTestParticipant[] = [];
  const started = (): LiveKitTestServer => {
    if (server === undefined) throw new Error('rtcCalls: start() the server first');
    return server;
  };
  return {
    get server() {
      return started();
    },
    async start() {
      server = await startLiveKitTestServer();
      return server;
    },
    async call(roomName, rates = {}) {
      const agent = await startAgent(started(), roomName, rates);
      agents.push(agent);
      const caller = await joinCaller(started(), roomName);
      callers.push(caller);
      await mediaUp(agent, caller);
      return { agent, caller };
    },
    async cleanup() {
      await Promise.allSettled(callers.splice(0).map((c) => c.leave()));
      await Promise.allSettled(agents.splice(0).map((a) => a.stop()));
      await server?.close();
      server = undefined;
    },
  };
}
