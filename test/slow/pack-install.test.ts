// The package as users get it: the repository packed (`npm pack`), installed into an empty folder with a plain
// `npm install <tarball>` (test/support/installed-tarball.ts, shared with init.test.ts; no .npmrc, none of npm's or onnxruntime's settings: it must download nothing but the
// packages), and used from there only — Silero VAD, the CLI's demo and start commands, and the README's testing
// snippet run with tsx and type-checked under the tsconfig `tsc --init` writes. Nothing here imports the
// repository's sources except the simulator that stands in for the platform in the `start` test.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPiopiySimulator } from '../../src/testing/simulator/index.js';
import type { DemoResult } from '../../src/cli/demo.js';
import { packedTarball, type PackedTarball } from '../support/packed-tarball.js';
import { installedTarball } from '../support/installed-tarball.js';
import { readmeSnippet } from '../support/readme.js';
import { run, start, stop, Timings } from '../support/user-shell.js';
import { waitUntil } from '../support/wait.js';

const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');
const repoPackageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const timings = new Timings();

/** Silero VAD through the installed package, over a second of Flite speech at both rates. */
const VAD_SCRIPT = `
import { SileroVADAnalyzer } from 'piopiy-ai';
import { concatAudio, silence, synthesizeSpeech } from 'piopiy-ai/testing';
for (const sampleRate of [16000, 8000]) {
  const speech = await synthesizeSpeech('Hello, I would like to talk to a human please', { sampleRate });
  const audio = concatAudio(silence(300, sampleRate), speech.subarray(0, sampleRate), silence(600, sampleRate));
  const vad = await SileroVADAnalyzer.load({ sampleRate });
  const states = [];
  for (let i = 0; i < audio.length; i += sampleRate / 50) {
    const state = await vad.analyze(audio.subarray(i, i + sampleRate / 50));
    if (states.at(-1) !== state) states.push(state);
  }
  console.log(JSON.stringify({ sampleRate, runtime: vad.runtime, states }));
}
`;
let tarball: PackedTarball;
/** The installed package's folder (shared with init.test.ts). */
let dir: string;
/** This run's own folder inside it, for recordings and scripts (tsc below checks only the snippet and agent). */
let scratch: string;

beforeAll(async () => {
  tarball = await packedTarball();
  timings.add(tarball.packMs === 0 ? 'npm pack (reused)' : 'npm pack (prepack builds dist/)', tarball.packMs);
  const installed = await installedTarball(tarball);
  timings.add(installed.install === undefined ? 'npm install <tarball> (reused)' : 'npm install <tarball>', installed.installMs);
  expect(installed.install?.code ?? 0, installed.install?.stderr).toBe(0);
  dir = installed.dir;
  scratch = mkdtempSync(join(dir, 'run-'));
}, 300_000);

afterAll(() => {
  console.log(timings.report('pack and install, from outside'));
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed tarball, installed with npm install', () => {
  it('holds the compiled CLI with its page and templates, the types, the examples; no sources or tests', () => {
    const files = new Set(tarball.files);
    for (const file of [
      'dist/cli/main.js',
      'dist/cli/dev-page/index.html',
      'dist/cli/dev-page/app.js',
      'dist/cli/templates/agent.ts',
      'dist/cli/templates/env.example',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.d.ts',
      'dist/services/auto/index.js',
      'examples/transfer-agent.ts',
      'README.md',
      'LICENSE',
    ]) {
      expect(files.has(file), file).toBe(true);
    }
    expect(tarball.files.filter((f) => /^(src|test|bench|scripts)\//.test(f))).toEqual([]);
    // The templates are copied, not compiled: their .ts would otherwise ship as stray .js next to them.
    expect(tarball.files.filter((f) => f.startsWith('dist/cli/templates/') && f.endsWith('.js'))).toEqual([]);
  });

  it('downloaded nothing beside the packages (no onnxruntime provider libraries), and Silero VAD runs natively', async () => {
    const providers = readdirSync(join(dir, 'node_modules'), { recursive: true, encoding: 'utf8' }).filter((p) =>
      /libonnxruntime_providers_/.test(p),
    );
    expect(providers).toEqual([]);
    writeFileSync(join(scratch, 'vad.mjs'), VAD_SCRIPT);
    const vad = await timings.time('Silero VAD at 16 and 8 kHz', run(process.execPath, ['vad.mjs'], { cwd: scratch }));
    expect(vad.code, vad.stderr).toBe(0);
    const lines = vad.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sampleRate: number; runtime: string; states: string[] });
    expect(lines.map((line) => [line.sampleRate, line.runtime])).toEqual([
      [16000, 'onnxruntime-node'],
      [8000, 'onnxruntime-node'],
    ]);
    for (const { states } of lines) {
      // Quiet, speaking during the words (a pause between two words may go quiet in between), quiet after them.
      expect(states[0]).toBe('quiet');
      expect(states).toContain('speaking');
      expect(states.at(-1)).toBe('quiet');
    }
  });

  it.skipIf(!hasPocketsphinx)('npx piopiy-ai demo --json: the default agent transfers the caller [needs pocketsphinx]', async () => {
    const demo = await timings.time(
      'npx piopiy-ai demo --json',
      run('npx', ['piopiy-ai', 'demo', '--json', '--recording-dir', scratch], { cwd: dir, env: { PIOPIY_OFFLINE: '1' } }),
    );
    expect(demo.code, demo.stderr).toBe(0);
    const result = JSON.parse(demo.stdout.trim().split('\n').at(-1)!) as DemoResult;
    expect(result.ok, demo.stderr).toBe(true);
    expect(result.transferredTo).toBe('918000000002');
    expect(result.toolCalls.map((t) => t.name)).toEqual(['transfer_call']);
    // The default agent is the example shipped in the package.
    expect(demo.stderr).toContain(join(dir, 'node_modules/piopiy-ai/examples/transfer-agent.ts'));
  });

  it.skipIf(!hasPocketsphinx)('npx piopiy-ai start <agent file>: serves calls from signaling until stopped [needs pocketsphinx]', async () => {
    const sim = await startPiopiySimulator();
    sim.addAgent({ agentId: 'start-agent', token: 'start-token' });
    const agent = start('npx', ['piopiy-ai', 'start', 'node_modules/piopiy-ai/examples/transfer-agent.ts'], {
      cwd: dir,
      env: {
        AGENT_ID: 'start-agent',
        AGENT_TOKEN: 'start-token',
        PIOPIY_SIGNALING_URL: sim.signalingUrl,
        PIOPIY_API_URL: sim.restBaseUrl,
        PIOPIY_TOKEN: sim.restToken,
        PIOPIY_OFFLINE: '1',
        PIOPIY_LOG_LEVEL: 'info', // to see it stop
      },
    });
    let output = '';
    agent.stdout.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<'exited'>((resolve) => agent.once('exit', () => resolve('exited')));
    try {
      const started = performance.now();
      await sim.waitForAgent('start-agent', 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      timings.add('npx piopiy-ai start: agent connected', performance.now() - started);
      const call = sim.placeCall({ agentId: 'start-agent', from: '919876543210' });
      await call.answered;
      await call.nextAgentSpeech();
      await call.say('I want to talk to a human please');
      expect((await call.ended).reason, output).toBe('transferred');
      expect(call.transferredTo).toBe('918000000002');
      timings.add('npx piopiy-ai start: call transferred (since start)', performance.now() - started);
      // Ctrl-C in a terminal signals the whole foreground group: npx, and the agent, whose handlers drain and stop.
      stop(agent, 'SIGINT');
      const state = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 15_000))]);
      expect(state, output).toBe('exited');
      await waitUntil(() => output.includes('agent stopped'), 5000).catch(() => expect(output).toContain('agent stopped'));
    } finally {
      stop(agent, 'SIGKILL');
      await sim.close();
    }
  });

  it.skipIf(!hasPocketsphinx)(
    "the README's testing snippet: runs with tsx against the shipped example, type-checks under tsc --init [needs pocketsphinx]",
    async () => {
      // A user's ESM project around the installed package: the snippet as a file, the example as its agent file.
      // (The folder is kept for the next run with the same tarball: what this test wrote before is written anew.)
      const pkg = await run('npm', ['pkg', 'set', 'type=module'], { cwd: dir });
      expect(pkg.code, pkg.stderr).toBe(0);
      writeFileSync(join(dir, 'call-test.ts'), readmeSnippet('testing-own-agent'));
      copyFileSync(join(dir, 'node_modules/piopiy-ai/examples/transfer-agent.ts'), join(dir, 'agent.ts'));
      rmSync(join(dir, 'call.wav'), { force: true });

      const snippet = await timings.time('README snippet: npx tsx call-test.ts', run('npx', ['tsx', 'call-test.ts'], { cwd: dir }));
      expect(snippet.code, snippet.stderr).toBe(0);
      expect(snippet.stdout).toMatch(/^transferred 918000000002 \[/m);
      expect(existsSync(join(dir, 'call.wav'))).toBe(true);

      const tools = ['typescript', '@types/node'].map((name) => `${name}@${repoPackageJson.devDependencies[name]}`);
      const installTools = await timings.time('npm install -D typescript @types/node', run('npm', ['install', '-D', ...tools], { cwd: dir }));
      expect(installTools.code, installTools.stderr).toBe(0);
      rmSync(join(dir, 'tsconfig.json'), { force: true });
      const init = await run('npx', ['tsc', '--init'], { cwd: dir });
      expect(init.code, init.stdout).toBe(0);
      // `tsc --init` leaves Node's types out and says to add them for Node programs; that is the one change.
      const tsconfig = readFileSync(join(dir, 'tsconfig.json'), 'utf8');
      expect(tsconfig).toContain('"types": [],');
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig.replace('"types": [],', '"types": ["node"],'));
      const tsc = await timings.time('tsc --noEmit (snippet + example, tsc --init config)', run('npx', ['tsc', '--noEmit'], { cwd: dir }));
      expect(tsc.stdout).toBe(''); // tsc prints its diagnostics on stdout
      expect(tsc.code).toBe(0);
    },
  );
});
