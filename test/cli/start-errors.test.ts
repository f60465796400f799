// What a new user sees when `piopiy-ai start` (and `demo --agent`, `dev`) cannot run their agent: the real CLI in a
// child process, agent files written to a temporary folder. Known problems are one clear message, exit code 1, no
// stack; a bug keeps its stack after a line saying what failed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sideBySide } from '../support/side-by-side.js';

const packageEntry = pathToFileURL(resolve('src/index.ts')).href;
let dir: string;
// The runs are independent processes: two at a time keep both cores busy (a run is mostly loading modules).
const twoAtATime = sideBySide(2);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const inherited = { ...process.env };
  for (const name of ['AGENT_ID', 'AGENT_TOKEN', 'PIOPIY_SIGNALING_URL', 'PIOPIY_TOKEN', 'PIOPIY_API_URL']) delete inherited[name];
  // Parallel runs must not compete for start's default operations port (test/cli/start-operations.test.ts covers it).
  inherited.PIOPIY_OPERATIONS_PORT = 'off';
  return twoAtATime(() => new Promise<CliResult>((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...inherited, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  }));
}

/** Writes an agent file into `folder` (a package whose package.json is `packageJson`) and returns its path. */
function agentFile(folder: string, name: string, body: string, packageJson: object | null = { type: 'module' }): string {
  const packageDir = join(dir, folder);
  mkdirSync(packageDir, { recursive: true });
  if (packageJson !== null) writeFileSync(join(packageDir, 'package.json'), JSON.stringify(packageJson));
  const path = join(packageDir, name);
  writeFileSync(path, `import { Agent } from '${packageEntry}';\n${body}\n`);
  return path;
}

const CONNECTING_AGENT = `
const agent = new Agent({ signalingUrl: process.env.PIOPIY_SIGNALING_URL, prewarmVAD: false, createSession() {} });
await agent.connect();`;

function expectNoStack(result: CliResult): void {
  expect(`${result.stdout}${result.stderr}`.split('\n').filter((line) => line.startsWith('    at '))).toEqual([]);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'piopiy-start-errors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each CLI run takes 2–5 s on a loaded 2-core machine; some tests make three, and wait for the others' runs.
describe.concurrent('piopiy-ai start: errors people can act on', { timeout: 90_000 }, () => {
  it('without AGENT_ID and AGENT_TOKEN: both listed in one message, no stack, exit code 1', async () => {
    const result = await runCli(['start', agentFile('esm', 'agent.ts', CONNECTING_AGENT)]);
    expect(result.code).toBe(1);
    expectNoStack(result);
    expect(result.stderr).toBe(
      [
        'Agent: 2 settings are missing:',
        "  AGENT_ID — the AI agent's id from the Piopiy dashboard (Agent option agentId): not set",
        "  AGENT_TOKEN — the AI agent's secret token from the Piopiy dashboard (Agent option agentToken): not set",
        "Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options.",
        '',
      ].join('\n'),
    );
  });

  it('with a signaling server that cannot be reached: at most 3 lines, naming the cause', async () => {
    const file = agentFile('esm', 'unreachable.ts', CONNECTING_AGENT);
    const env = { AGENT_ID: 'agent-1', AGENT_TOKEN: 'token-1' };
    const unresolvable = await runCli(['start', file], { ...env, PIOPIY_SIGNALING_URL: 'http://piopiy.invalid' });
    expect(unresolvable.code).toBe(1);
    expectNoStack(unresolvable);
    expect(unresolvable.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    // ENOTFOUND where DNS answers; EAI_AGAIN, or socket.io's timeout, where no resolver answers.
    expect(unresolvable.stderr).toMatch(
      /^Agent: could not reach Piopiy signaling at http:\/\/piopiy\.invalid: (getaddrinfo (ENOTFOUND|EAI_AGAIN) piopiy\.invalid|no answer within 10000 ms)$/m,
    );
    expect(unresolvable.stderr).not.toContain('XMLHttpRequest');

    const refused = await runCli(['start', file], { ...env, PIOPIY_SIGNALING_URL: 'http://127.0.0.1:1' });
    expect([refused.code, refused.stderr]).toEqual([1, 'Agent: could not reach Piopiy signaling at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n']);
  });

  it('an agent file that connects without awaiting: the same one-line message', async () => {
    const file = agentFile('esm', 'floating.ts', `
const agent = new Agent({ prewarmVAD: false, createSession() {} });
void agent.connect();`);
    const result = await runCli(['start', file], { AGENT_ID: 'a', AGENT_TOKEN: 't', PIOPIY_SIGNALING_URL: 'http://127.0.0.1:1' });
    expect([result.code, result.stderr]).toEqual([1, 'Agent: could not reach Piopiy signaling at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n']);
  });

  it('a missing agent file, for start, demo --agent and dev', async () => {
    const missing = join(dir, 'no-such-agent.ts');
    const expected = `agent file not found: ${missing}. Check the path; it is relative to the folder you run piopiy-ai in.\n`;
    const commands = [['start', missing], ['demo', '--agent', missing], ['dev', missing, '--port', '0']];
    const results = await Promise.all(commands.map((args) => runCli(args)));
    results.forEach((result, i) => expect([result.code, result.stderr], commands[i]!.join(' ')).toEqual([1, expected]));
  });

  it('an agent file that finishes without connecting its Agent', async () => {
    const file = agentFile('esm', 'never.ts', `
export const agent = new Agent({ agentId: 'a', agentToken: 't', createSession() {} });`);
    const result = await runCli(['start', file]);
    expect([result.code, result.stderr]).toEqual([1, `${file} finished without connecting an Agent: end it with \`await agent.connect()\`.\n`]);
  });

  it('an agent file in a package without "type": "module" (.ts and .js)', async () => {
    // Not agent.js beside agent.ts: tsx would load the .ts for it.
    for (const name of ['agent.ts', 'plain-agent.js']) {
      const file = agentFile('cjs', name, CONNECTING_AGENT, { name: 'my-agent' });
      const result = await runCli(['start', file], { AGENT_ID: 'a', AGENT_TOKEN: 't', PIOPIY_SIGNALING_URL: 'http://127.0.0.1:1' });
      expect(result.code, result.stderr).toBe(1);
      expectNoStack(result);
      expect(result.stderr).toBe(
        `${file} is loaded as CommonJS, where top-level await (\`await agent.connect()\`) and piopiy-ai (an ES module) cannot run: ` +
          `add "type": "module" to ${join(dir, 'cjs', 'package.json')}.\n`,
      );
    }
    // The demo loads agent files the same way, and says the same.
    const file = agentFile('cjs', 'agent.ts', CONNECTING_AGENT, { name: 'my-agent' });
    const demo = await runCli(['demo', '--agent', file, '--media', 'stream']);
    expect(demo.code, demo.stderr).toBe(1);
    expect(demo.stderr).toContain(`demo failed: ${file} is loaded as CommonJS, where top-level await`);
  });

  it('a bug: the stack, after one line saying what failed', async () => {
    const file = agentFile('esm', 'bug.ts', `
const settings: { voice?: { name: string } } = {};
console.log(settings.voice!.name);`);
    const result = await runCli(['start', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toBe(`piopiy-ai start ${file} failed with an unexpected error (a bug in the agent file or in piopiy-ai); its stack:`);
    expect(lines[1]).toBe("TypeError: Cannot read properties of undefined (reading 'name')");
    expect(lines[2]).toContain(`at <anonymous> (${file}:4:`); // line 1 is the import, line 2 blank
  });
});
