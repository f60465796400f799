// The published shape: `npm run build` emits ESM with declarations, the `exports` map resolves (through Node's
// self-reference to the package's own name), and the `bin` runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  type: string;
};

describe('package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
    });
  }, 120_000);

  it('is ESM for Node >= 20 with type declarations', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toBe('>=20');
    expect(existsSync(`${root}dist/index.d.ts`)).toBe(true);
    expect(existsSync(`${root}dist/testing/index.d.ts`)).toBe(true);
  });

  it('resolves `piopiy-ai` and `piopiy-ai/testing` from plain Node', () => {
    const script = `
      const core = await import('piopiy-ai');
      const testing = await import('piopiy-ai/testing');
      console.log(JSON.stringify({
        core: ['Pipeline', 'PipelineTask', 'FrameProcessor', 'makeFrame', 'pcmToMulaw', 'StreamingResampler', 'readWav']
          .filter((name) => typeof core[name] !== 'function'),
        testing: typeof testing.FrameCollector,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ core: [], testing: 'function' });
  });

  it('answers require() of every entry point with one sentence saying it is an ES module', () => {
    for (const entry of ['piopiy-ai', 'piopiy-ai/testing', 'piopiy-ai/services/openai']) {
      const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], { cwd: root, encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        'Error: piopiy-ai is an ES module: load it with `import` (in TypeScript too), and add "type": "module" to your package.json; require() is not supported.',
      );
    }
  });

  it('ships a piopiy-ai bin that prints its version', () => {
    const bin = `${root}${pkg.bin['piopiy-ai']}`;
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });
});
