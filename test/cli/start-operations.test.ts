// `piopiy-ai start` serves the operations endpoints by default: the real CLI in a child process, on the simulator.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOperationsFlags } from '../../src/cli/start-options.js';
import { CliError } from '../../src/cli/errors.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';

let dir: string;
let sim: PiopiySimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'piopiy-start-ops-'));
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: 'ops-agent', token: 'ops-token' });
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

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('piopiy-ai start --operations-port', () => {
  it('serves /readyz and /metrics of the agent file it runs, and stops serving them on SIGTERM', async () => {
    const file = join(dir, 'agent.mjs');
    const entry = pathToFileURL(resolve('src/index.ts')).href;
    writeFileSync(file, `import { Agent } from '${entry}';\nawait new Agent({ prewarmVAD: false, createSession() {} }).connect();\n`);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, AGENT_ID: 'ops-agent', AGENT_TOKEN: 'ops-token', PIOPIY_SIGNALING_URL: sim.signalingUrl };
    delete env.PIOPIY_OPERATIONS_PORT;
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'start', file, '--operations-port', String(port), '--operations-host', '127.0.0.1'],
      { env, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('\npiopiy_active_calls 0\n');
      expect(metrics).toContain('\npiopiy_ready 1\n');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('defaults to port 8081 on every interface; 0 turns the endpoints off; a bad port is a clear error', () => {
    const env: NodeJS.ProcessEnv = {};
    applyOperationsFlags({}, env);
    expect(env).toEqual({ PIOPIY_OPERATIONS_PORT: '8081', PIOPIY_OPERATIONS_HOST: '0.0.0.0' });
    const mine: NodeJS.ProcessEnv = { PIOPIY_OPERATIONS_PORT: '9100' };
    applyOperationsFlags({}, mine);
    expect(mine.PIOPIY_OPERATIONS_PORT).toBe('9100');
    const off: NodeJS.ProcessEnv = { PIOPIY_OPERATIONS_PORT: '9100' };
    applyOperationsFlags({ operationsPort: '0' }, off);
    expect(off.PIOPIY_OPERATIONS_PORT).toBe('off');
    expect(() => applyOperationsFlags({ operationsPort: 'http' }, {})).toThrow(CliError);
    expect(() => applyOperationsFlags({ operationsPort: '70000' }, {})).toThrow(/--operations-port must be a port number/);
  });
});
