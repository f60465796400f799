// The published package runs from compiled JavaScript: there the pool must start its worker without tsx. This
// builds the pool and everything it imports into a temporary directory (TypeScript's own transpiler, the layout
// tsc gives dist/) and runs them under plain node.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, expect, it } from 'vitest';
import { synthesizeWithFlite } from '../../../../src/services/local/flite/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const src = join(root, 'src');
const out = mkdtempSync(join(tmpdir(), 'piopiy-flite-dist-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Transpiles `entry` and every module it imports by relative path, keeping src/'s layout under `out`. */
function build(entries: string[]): void {
  const pending = [...entries];
  const done = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: file,
    });
    const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
    for (const [, specifier] of outputText.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(file), `${specifier!}.ts`));
    }
  }
}

it('starts its worker under plain node (no tsx) from the compiled pool and synthesizes', async () => {
  const flite = join(src, 'services/local/flite');
  build([join(flite, 'flite-worker-pool.ts')]);
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  const pool = pathToFileURL(join(out, 'services/local/flite/flite-worker-pool.js')).href;
  const script = `
    const { FliteWorkerPool } = await import(${JSON.stringify(pool)});
    const pool = new FliteWorkerPool({ maxWorkers: 1 });
    const audio = await pool.synthesize('Hello from the compiled worker.');
    process.stdout.write(JSON.stringify({ length: audio.samples.length, rate: audio.sampleRate }));
    await pool.close();`;
  // Run with `--input-type=module -e` on purpose: a worker inheriting that flag fails to start.
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
  expect(run.stderr).toBe('');
  const result = JSON.parse(run.stdout) as { length: number; rate: number };
  const expected = await synthesizeWithFlite('Hello from the compiled worker.');
  expect(result).toEqual({ length: expected.samples.length, rate: 16000 });
});
