// `piopiy-ai start --workers 2` with real processes against the simulator: the supervisor hands calls to the least
// loaded worker, a killed worker ends only its own call and is replaced, a worker over its memory limit ends its
// call and is replaced, a hung worker is killed and replaced, SIGTERM drains, and one /metrics shows every worker's. Real time: a supervisor and two workers start in ~5-10 s on 2 cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPiopiySimulator, type PiopiySimulator, type SimulatedCall } from '../../src/testing/simulator/index.js';

const AGENT_ID = 'workers-agent';
let dir: string;
let sim: PiopiySimulator;
let supervisor: ChildProcess | undefined;

// Each call logs "<worker pid> <room>" and lasts until the caller leaves or the Agent ends it. A call whose
// metadata asks for it grows the worker's memory by 400 MB, or hangs the worker's event loop in a busy loop.
const AGENT_FILE = (entry: string): string => `
import { appendFileSync } from 'node:fs';
import { Agent } from '${entry}';
const hogs = [];
await new Agent({
  prewarmVAD: false,
  // The supervisor's own port: a worker must not serve endpoints (it would fail to bind, and never start).
  operations: { port: Number(process.env.OPS_PORT) },
  async createSession(call) {
    await call.transport.connect?.();
    appendFileSync(process.env.CALL_LOG, process.pid + ' ' + call.roomName + '\\n');
    if (call.metadata?.hog) hogs.push(Buffer.alloc(400 * 1024 * 1024, 1));
    if (call.metadata?.busy) for (;;);
    await new Promise((done) => {
      call.transport.events.once('caller-left', done);
      call.signal.addEventListener('abort', done);
    });
  },
}).connect();
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'piopiy-workers-'));
  writeFileSync(join(dir, 'agent.mjs'), AGENT_FILE(pathToFileURL(resolve('src/index.ts')).href));
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: AGENT_ID, token: 'workers-token' });
});
afterEach(() => {
  supervisor?.kill('SIGKILL');
  supervisor = undefined;
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Running {
  readonly port: number;
  readonly log: string;
  readonly exited: Promise<number | null>;
  metrics(): Promise<string>;
  /** The pid of the worker that took the call. */
  workerOf(call: SimulatedCall): Promise<number>;
}

async function startSupervisor(extra: string[] = []): Promise<Running> {
  const port = await freePort();
  const log = join(dir, `calls-${port}.log`);
  const env: NodeJS.ProcessEnv = { ...process.env, AGENT_ID, AGENT_TOKEN: 'workers-token', PIOPIY_SIGNALING_URL: sim.signalingUrl, CALL_LOG: log, OPS_PORT: String(port), PIOPIY_DRAIN_SECS: '30' };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'start', join(dir, 'agent.mjs'), '--workers', '2', '--operations-port', String(port), '--operations-host', '127.0.0.1', ...extra],
    { env, stdio: 'ignore' },
  );
  supervisor = child;
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000);
  await until(async () => (await metrics()).includes('\npiopiy_workers_ready 2\n'), 60_000);
  const workerOf = (call: SimulatedCall): Promise<number> =>
    until(() => {
      if (!existsSync(log)) return undefined;
      const line = readFileSync(log, 'utf8').split('\n').find((l) => l.endsWith(` ${call.roomName}`));
      return line === undefined ? undefined : Number(line.split(' ')[0]);
    });
  return { port, log, exited, metrics, workerOf };
}

describe('piopiy-ai start --workers 2', { timeout: 120_000 }, () => {
  it('hands each call to the least-loaded worker; a killed worker ends only its call and is replaced', async () => {
    const run = await startSupervisor();
    const first = sim.placeCall({ agentId: AGENT_ID });
    const firstPid = await run.workerOf(first);
    const second = sim.placeCall({ agentId: AGENT_ID });
    const secondPid = await run.workerOf(second);
    expect(secondPid).not.toBe(firstPid);
    expect(await run.metrics()).toMatch(/piopiy_worker_active_calls\{worker="0"\} 1\n.*\{worker="1"\} 1\n/s);
    first.hangUp();
    await until(async () => (await run.metrics()).includes('\npiopiy_active_calls 1\n'));
    const third = sim.placeCall({ agentId: AGENT_ID });
    expect(await run.workerOf(third)).toBe(firstPid); // it had no call; the other had one

    // Scrapes while the worker dies: a metrics request written to its closing IPC channel must not take the
    // supervisor down with it (EPIPE once did).
    const scrapes = (async () => {
      for (let i = 0; i < 60; i++) await run.metrics().catch(() => undefined);
    })();
    await new Promise((r) => setTimeout(r, 20));
    process.kill(secondPid, 'SIGKILL');
    await scrapes;
    expect((await second.ended).reason).toBe('agent-left');
    await until(async () => (await run.metrics()).includes('piopiy_worker_restarts_total{reason="crashed"} 1'));
    await until(async () => (await run.metrics()).includes('\npiopiy_workers_ready 2\n'), 60_000);
    expect(third.endReason).toBeUndefined(); // the other worker's call went on
    expect(await run.metrics()).toContain('piopiy_calls_total{reason="worker-lost"} 1');
    const fourth = sim.placeCall({ agentId: AGENT_ID });
    const fourthPid = await run.workerOf(fourth);
    expect([firstPid, secondPid]).not.toContain(fourthPid); // the replacement, least loaded, took it
    third.hangUp();
    fourth.hangUp();
    await until(async () => (await run.metrics()).includes('\npiopiy_active_calls 0\n'));
    // The workers' own counts, summed over both (the first, third and fourth calls ended there), beside the
    // supervisor's; their gauges one series per worker.
    await until(async () => (await run.metrics()).includes('piopiy_calls_total{reason="completed"} 3\n'));
    const merged = await run.metrics();
    expect(merged).toContain('piopiy_calls_total{reason="worker-lost"} 1\n');
    expect(merged).toMatch(/\nnodejs_heap_size_used_bytes\{worker="0"\} \d+/);
    expect(merged).toMatch(/\nnodejs_heap_size_used_bytes\{worker="1"\} \d+/);
    expect(merged).not.toMatch(/piopiy_active_calls\{/);
    supervisor?.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('SIGTERM drains: the call in progress goes on until the caller hangs up, then the supervisor exits 0', async () => {
    const run = await startSupervisor();
    const call = sim.placeCall({ agentId: AGENT_ID });
    await run.workerOf(call);
    supervisor?.kill('SIGTERM');
    await until(async () => (await fetch(`http://127.0.0.1:${run.port}/readyz`)).status === 503);
    // Deregistered from signaling, so the platform offers no new call; the one in progress goes on.
    await until(() => !sim.connectedAgents().includes(AGENT_ID));
    await new Promise((r) => setTimeout(r, 1500));
    expect(call.endReason).toBeUndefined();
    call.hangUp();
    expect(await run.exited).toBe(0);
  });

  it('a worker over --worker-memory-mb ends its call, is replaced, and the next call works', async () => {
    const run = await startSupervisor(['--worker-memory-mb', '350']);
    const hog = sim.placeCall({ agentId: AGENT_ID, metadata: { hog: true } });
    const hogPid = await run.workerOf(hog);
    await hog.ended;
    await until(async () => (await run.metrics()).includes('piopiy_worker_restarts_total{reason="memory"} 1'));
    await until(async () => (await run.metrics()).includes('\npiopiy_workers_ready 2\n'), 60_000);
    const next = sim.placeCall({ agentId: AGENT_ID });
    expect(await run.workerOf(next)).not.toBe(hogPid);
    next.hangUp();
    supervisor?.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('a worker whose event loop hangs is killed, its call ends, it is replaced; /healthz fails only while none answers', async () => {
    const run = await startSupervisor(['--worker-ping-ms', '200', '--worker-timeout-ms', '4000']);
    const health = async (): Promise<{ status: number; body: { workers: { responsive: number; late: number[] } } }> => {
      const response = await fetch(`http://127.0.0.1:${run.port}/healthz`);
      return { status: response.status, body: (await response.json()) as { workers: { responsive: number; late: number[] } } };
    };
    const first = sim.placeCall({ agentId: AGENT_ID, metadata: { busy: true } });
    const firstPid = await run.workerOf(first);
    // One hung worker: the supervisor's to replace, the pod stays live.
    const oneLate = await until(async () => {
      const h = await health();
      return h.body.workers.late.length === 1 ? h : undefined;
    });
    expect(oneLate.status).toBe(200);
    const second = sim.placeCall({ agentId: AGENT_ID, metadata: { busy: true } });
    expect(await run.workerOf(second)).not.toBe(firstPid); // the least loaded, the one still answering
    // Both hung: the supervisor serves no call, so /healthz fails, until it has replaced them.
    await until(async () => (await health()).status === 503);
    expect((await first.ended).reason).toBe('agent-left');
    expect((await second.ended).reason).toBe('agent-left');
    await until(async () => (await run.metrics()).includes('piopiy_worker_restarts_total{reason="unresponsive"} 2'));
    expect(await run.metrics()).toContain('piopiy_calls_total{reason="worker-lost"} 2');
    await until(async () => (await run.metrics()).includes('\npiopiy_workers_ready 2\n'), 60_000);
    expect((await health()).status).toBe(200);
    const next = sim.placeCall({ agentId: AGENT_ID });
    await run.workerOf(next);
    next.hangUp();
    supervisor?.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('an agent file that hangs while loading: the worker is killed at --worker-start-timeout-ms and start says why', async () => {
    // Waits for ever at the top level, with a timer keeping the process alive: never an Agent, never an error.
    writeFileSync(join(dir, 'hangs.mjs'), 'setInterval(() => {}, 1000);\nawait new Promise(() => {});\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'start', join(dir, 'hangs.mjs'), '--workers', '2', '--operations-port', '0', '--worker-ping-ms', '200', '--worker-start-timeout-ms', '2000'],
      { env: { ...process.env, AGENT_ID, AGENT_TOKEN: 'workers-token', PIOPIY_SIGNALING_URL: sim.signalingUrl }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    supervisor = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('the first worker did not start serving within 2 s: its agent file hangs while loading');
  });
});
