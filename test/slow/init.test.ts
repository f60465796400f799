// A new user's first minutes, run as they would type them: `npx piopiy-ai init my-agent --package <tarball>`, then
// in the new project `npm install`, `npm test`, `npm run typecheck`, `npm run demo`, and `npm run dev` serving the
// softphone. npx takes piopiy-ai from the packed tarball installed with a plain `npm install <tarball>`
// (test/support/installed-tarball.ts, shared with pack-install.test.ts; `--prefix` points npx at it), where from
// the registry it would install the same package into its cache first: one install of ~400 packages, not two.
// Each step is timed; the times are printed at the end.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/cli/demo.js';
import { installedTarball } from '../support/installed-tarball.js';
import { packedTarball, type PackedTarball } from '../support/packed-tarball.js';
import { run, start, stop, Timings, waitForOutput } from '../support/user-shell.js';

const hasPocketsphinx = existsSync('/usr/share/pocketsphinx/model/en-us/en-us.lm.bin');
const timings = new Timings();
let tarball: PackedTarball;
let installedDir: string;
let workspace: string;
let project: string;

beforeAll(async () => {
  tarball = await packedTarball();
  timings.add(tarball.packMs === 0 ? 'npm pack (reused)' : 'npm pack (prepack builds dist/)', tarball.packMs);
  const installed = await installedTarball(tarball);
  timings.add(installed.install === undefined ? 'npm install <tarball> (reused)' : 'npm install <tarball>', installed.installMs);
  expect(installed.install?.code ?? 0, installed.install?.stderr).toBe(0);
  installedDir = installed.dir;
  workspace = mkdtempSync(join(tmpdir(), 'piopiy-ai-new-user-'));
  project = join(workspace, 'my-agent');
}, 300_000);

afterAll(() => {
  console.log(timings.report('a new project, as a user makes it'));
  if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true });
});

describe('npx piopiy-ai init, then the project on its own', () => {
  it('init writes the project, depending on the given package', async () => {
    const init = await timings.time(
      'npx piopiy-ai init my-agent --package <tarball>',
      run('npx', ['--prefix', installedDir, 'piopiy-ai', 'init', 'my-agent', '--package', tarball.path], { cwd: workspace }),
    );
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('cd my-agent\n  npm install\n');
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['piopiy-ai']).toBe(`file:${tarball.path}`);
  });

  it('npm install', async () => {
    const install = await timings.time('npm install', run('npm', ['install'], { cwd: project }));
    expect(install.code, install.stderr).toBe(0);
  });

  it.skipIf(!hasPocketsphinx)('npm test: the simulated call of agent.test.ts passes [needs pocketsphinx]', async () => {
    const test = await timings.time('npm test', run('npm', ['test'], { cwd: project }));
    expect(test.code, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stdout).toMatch(/^# pass 1$/m);
    expect(test.stdout).toMatch(/^# fail 0$/m);
  });

  it('npm run typecheck: agent.ts and its test are clean under the strict tsconfig', async () => {
    const typecheck = await timings.time('npm run typecheck', run('npm', ['run', 'typecheck'], { cwd: project }));
    expect(typecheck.code, typecheck.stdout).toBe(0);
  });

  it.skipIf(!hasPocketsphinx)('npm run demo: one simulated call, transferred [needs pocketsphinx]', async () => {
    const demo = await timings.time('npm run demo -- --json', run('npm', ['run', 'demo', '--', '--json', '--recording-dir', workspace], { cwd: project }));
    expect(demo.code, demo.stderr).toBe(0);
    const result = JSON.parse(demo.stdout.trim().split('\n').at(-1)!) as DemoResult;
    expect(result.ok, demo.stderr).toBe(true);
    expect(result.transferredTo).toBe('918000000002');
  });

  it('npm run dev: serves the softphone page until stopped', async () => {
    const started = performance.now();
    const dev = start('npm', ['run', 'dev', '--', '--port', '0'], { cwd: project });
    const exited = new Promise<'exited'>((resolve) => dev.once('exit', () => resolve('exited')));
    try {
      const [, url] = await waitForOutput(dev, /piopiy-ai dev: open (http:\/\/\S+)/, 60_000);
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      timings.add('npm run dev: page served', performance.now() - started);
      stop(dev, 'SIGINT'); // Ctrl-C
      expect(await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 15_000))])).toBe('exited');
    } finally {
      stop(dev, 'SIGKILL');
    }
  });
});
