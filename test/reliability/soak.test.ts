// The soak in its short form (24 calls, 8 at a time, about 2.5 minutes of conversation in some 25 s), run as
// `npm run soak` runs the full one: in a process of its own with --expose-gc, so forced GC and the
// process-wide counts see only the soak. Plus the leak detectors themselves, shown to catch what they look for.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  activeResources,
  criteriaFailures,
  growth,
  listenerTotal,
  processListeners,
  threadCount,
  type SoakReport,
} from './soak-runner.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runSoakProcess(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/reliability/soak-main.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('soak (short form)', () => {
  it('24 overlapping calls: every call ends as scripted, memory stays flat, nothing is left behind', async () => {
    const { code, stdout, stderr } = await runSoakProcess(['--calls', '24', '--minutes', '1', '--concurrency', '8']);
    const last = stdout.trim().split('\n').at(-1) ?? '';
    expect(last, `no JSON summary; stderr:\n${stderr}`).toMatch(/^\{/);
    const report = JSON.parse(last) as SoakReport;
    expect(report.failures, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);

    expect(report.calls).toBeGreaterThanOrEqual(24);
    expect(report.conversationMinutes).toBeGreaterThanOrEqual(1);
    // Every way of ending a call happened, as the caller experienced it.
    expect(report.endings.transferred).toBeGreaterThan(0);
    expect(report.endings.hangup).toBeGreaterThan(0);
    expect(report.endings['caller-hangup']).toBeGreaterThan(0);
    expect(report.interruptedTurns).toBeGreaterThanOrEqual(report.scenarios['barge-in'] ?? 1);
    // Tool errors happen only in the calls whose tool fails, at least one in each (each such call also heard the
    // apology, or it would have failed). A caller whose line the VAD heard as two turns on a loaded machine asks
    // twice, so more than one per call is allowed.
    const failing = ['tool-throws', 'tool-hangs'];
    expect(Object.keys(report.toolErrorsByScenario).filter((scenario) => !failing.includes(scenario))).toEqual([]);
    for (const scenario of failing) {
      expect(report.toolErrorsByScenario[scenario] ?? 0).toBeGreaterThanOrEqual(report.scenarios[scenario] ?? 0);
    }
    expect(report.toolErrors).toBeGreaterThanOrEqual(2);
    expect(report.logs.errors).toBe(0);

    expect(report.memory.dataHeapGrowthPercent).toBeLessThan(5);
    expect(report.memory.heapGrowthPercent).toBeLessThan(5);
    expect(report.memory.rssGrowthPercent).toBeLessThan(5);
    expect(report.resources.leaked).toEqual({});
    expect(report.idleResources.grown).toEqual({});
    expect(report.processListeners.leaked).toEqual({});
    expect(report.emitterListeners.grown).toEqual({});
    // The measurements were real: the idle agent holds its signaling socket, the simulator its server.
    expect(report.idleResources.warmup.TCPServerWrap).toBeGreaterThanOrEqual(1);
    expect(report.idleResources.warmup.TCPSocketWrap).toBeGreaterThanOrEqual(2);
    expect(report.emitterListeners.warmup['agent.socket']).toBeGreaterThan(0);
  }, 120_000);

  it('refuses to run without a forced GC', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/soak-main.ts'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--expose-gc');
  }, 30_000);
});

describe('soak leak detectors', () => {
  it('see a timer and a listening server left open, and their end', async () => {
    const before = activeResources();
    const timer = setInterval(() => undefined, 60_000);
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(growth(before, activeResources())).toEqual({ Timeout: 1, TCPServerWrap: 1 });
    clearInterval(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // The handle goes once libuv has closed it, a moment after the close callback (the soak also lets things settle).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(growth(before, activeResources())).toEqual({});
  });

  it('see listeners left on process and on emitters of both kinds', () => {
    const before = processListeners();
    const onExit = (): void => undefined;
    process.on('exit', onExit);
    expect(growth(before, processListeners())).toEqual({ exit: 1 });
    process.off('exit', onExit);
    expect(growth(before, processListeners())).toEqual({});

    const node = new EventEmitter();
    node.on('a', onExit).on('a', onExit).on('b', onExit);
    expect(listenerTotal(node)).toBe(3);
    // Socket.IO's client objects keep their listeners by `$event` in `_callbacks`.
    expect(listenerTotal({ _callbacks: { $connect: [onExit], $disconnect: [onExit, onExit] } })).toBe(3);
    expect(() => listenerTotal({})).toThrow(/not an event emitter/);
  });

  it('counts threads on Linux', () => {
    const threads = threadCount();
    if (process.platform === 'linux') expect(threads).toBeGreaterThan(1);
    else expect(threads).toBeNull();
  });

  it('turn growth and leftovers into failures', () => {
    const sample = { heapUsedMB: 20, codeMB: 5, arrayBuffersMB: 1, rssMB: 200 };
    const report: SoakReport = {
      ok: true,
      failures: [],
      calls: 50,
      conversationMinutes: 10,
      wallSeconds: 70,
      concurrency: 10,
      warmupCalls: 20,
      scenarios: {},
      endings: {},
      interruptedTurns: 0,
      toolCalls: 0,
      toolErrors: 0,
      toolErrorsByScenario: {},
      memory: {
        warmup: sample,
        end: { ...sample, heapUsedMB: 21.2, arrayBuffersMB: 3, rssMB: 204 },
        curve: [],
        heapGrowthPercent: 6,
        dataHeapGrowthPercent: 8,
        heapGrowthPerCallKB: 41,
        arrayBuffersGrowthPercent: 200,
        rssGrowthPercent: 2,
        maxGrowthPercent: 5,
      },
      resources: { before: {}, after: { Timeout: 1 }, leaked: { Timeout: 1 } },
      idleResources: { warmup: {}, end: {}, grown: {} },
      processListeners: { before: {}, after: { SIGINT: 1 }, leaked: { SIGINT: 1 } },
      emitterListeners: { warmup: { 'agent.socket': 5 }, end: { 'agent.socket': 6 }, grown: { 'agent.socket': 1 } },
      threads: { before: 12, after: 13 },
      logs: { warnings: 0, errors: 0, byMessage: {} },
    };
    expect(criteriaFailures(report, { calls: 60, conversationMinutes: 10 })).toEqual([
      'only 50 of 60 calls ran',
      'heap used (without compiled code) grew 8% after warm-up (limit 5%)',
      'array buffers grew 200% after warm-up (limit 5%)',
      'resources left after the agent and simulator closed: Timeout +1',
      'listeners left on process: SIGINT +1',
      'listeners grew on long-lived emitters: agent.socket +1',
      'threads: 12 before, 13 after',
    ]);
    const clean: SoakReport = {
      ...report,
      memory: { ...report.memory, end: sample, heapGrowthPercent: 0, dataHeapGrowthPercent: 0, arrayBuffersGrowthPercent: 0, rssGrowthPercent: 0 },
      resources: { ...report.resources, leaked: {} },
      processListeners: { ...report.processListeners, leaked: {} },
      emitterListeners: { ...report.emitterListeners, grown: {} },
      threads: { before: 12, after: 12 },
    };
    expect(criteriaFailures(clean, { calls: 50, conversationMinutes: 10 })).toEqual([]);
  });
});
