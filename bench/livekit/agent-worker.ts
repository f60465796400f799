// The agent's process of the LiveKit calls benchmark: the echo agent (./echo-agent.ts), nothing else, so its event
// loop delay and CPU are the agent's cost per call over real WebRTC (rtc-node's Opus, resampling and FFI included:
// process.cpuUsage counts its native threads too). Driven over IPC by ../livekit-media.bench.ts:
//   → { kind: 'measure', ms }  ← { kind: 'measured', sessions, eventLoopDelayMs, cpuPercentOfOneCore, rssMb,
//                                 cpuPercentByThread }
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEchoAgent } from './echo-agent.js';
import { threadCpuPercent, threadCpuSecs } from './thread-cpu.js';

const RESOLUTION_MS = 10;
const creds = JSON.parse(process.argv[2]!) as { agentId: string; agentToken: string; signalingUrl: string };
// 100 ms of each burst is held first: the output's gaps are then the agent's own, not the input's jitter.
const { agent, sessions } = await startEchoAgent({ ...creds, prebufferMs: 100 });
const send = (message: object): void => void process.send?.(message);

process.on('message', (raw) => {
  const message = raw as { kind: 'measure'; ms: number } | { kind: 'stop' };
  if (message.kind === 'stop') {
    void agent.shutdown({ drainMs: 0 }).finally(() => process.exit(0));
    return;
  }
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const cpu = process.cpuUsage();
  const threads = threadCpuSecs();
  const started = performance.now();
  setTimeout(() => {
    histogram.disable();
    const used = process.cpuUsage(cpu);
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    send({
      kind: 'measured',
      sessions: sessions(),
      // The histogram counts the sampling timer's own period: subtracted, as the calls bench does.
      eventLoopDelayMs: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
      cpuPercentOfOneCore: ((used.user + used.system) / 1000 / (performance.now() - started)) * 100,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      cpuPercentByThread: threadCpuPercent(threads, threadCpuSecs(), performance.now() - started),
    });
  }, message.ms);
});
send({ kind: 'ready' });
