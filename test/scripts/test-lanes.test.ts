// The runner behind `npm test` (scripts/test-lanes.mjs) on small node scripts standing in for tsc, eslint and the two
// vitest runs: the slow lane runs beside the others and is shown after the fast suite, every step runs to its end,
// the exit code says whether anything failed, and the last line counts both suites.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without types; its JSDoc describes the plan
import { runTestLanes } from '../../scripts/test-lanes.mjs';

interface Step {
  name: string;
  command: string;
  args: string[];
}
type RunTestLanes = (
  plan: { checks: Step[]; fast: Step; slow: Step; totals: Record<string, string> },
  options: { cwd: string; sequential?: boolean; out?: NodeJS.WritableStream },
) => Promise<number>;
const run = runTestLanes as RunTestLanes;

const dir = mkdtempSync(join(tmpdir(), 'piopiy-test-lanes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const marks = join(dir, 'marks.log');

/**
 * A step: prints `output`, notes its start in marks.log, waits until marks.log holds `waitFor` (if given), writes
 * its counts, notes its end, exits `code`.
 */
function step(name: string, options: { output: string; waitFor?: string; code?: number; counts?: object }): Step {
  const script = join(dir, `${name.replace(/\W+/g, '-')}.mjs`);
  writeFileSync(
    script,
    `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(marks)}, 'start ${name}\\n');
console.log(${JSON.stringify(options.output)});
const waitFor = ${JSON.stringify(options.waitFor ?? null)};
const poll = setInterval(() => {
  if (waitFor !== null && !readFileSync(${JSON.stringify(marks)}, 'utf8').includes(waitFor)) return;
  clearInterval(poll);
  ${options.counts === undefined ? '' : `writeFileSync(${JSON.stringify(join(dir, `${name}.json`))}, ${JSON.stringify(JSON.stringify(options.counts))});`}
  appendFileSync(${JSON.stringify(marks)}, 'end ${name}\\n');
  process.exit(${options.code ?? 0});
}, 20);
`,
  );
  return { name, command: process.execPath, args: [script] };
}

async function runPlan(options: { slowCode?: number; slowCounts?: object; sequential?: boolean }): Promise<{ code: number; output: string; marks: string[] }> {
  writeFileSync(marks, '');
  const out = new PassThrough();
  let output = '';
  out.on('data', (d: Buffer) => (output += d.toString()));
  const code = await run(
    {
      checks: [step('typecheck', { output: 'tsc ok' }), step('lint', { output: 'lint ok' })],
      // Side by side, the slow suite ends only once the fast one has started, and the fast one only after the slow one
      // ended: the run finishes only if the lanes overlap. One after the other, neither waits.
      fast: step('fast', { output: 'FAST OUTPUT', waitFor: options.sequential ? undefined : 'end slow', counts: { passed: 10, failed: 0, skipped: 1 } }),
      slow: step('slow', { output: 'SLOW OUTPUT', waitFor: options.sequential ? undefined : 'start fast', code: options.slowCode, counts: options.slowCounts }),
      totals: { fast: join(dir, 'fast.json'), slow: join(dir, 'slow.json') },
    },
    { cwd: dir, out, sequential: options.sequential },
  );
  return { code, output, marks: readFileSync(marks, 'utf8').trim().split('\n') };
}

describe('npm test lanes', () => {
  it('runs the slow suite beside the checks and the fast suite, shows it after them, and counts both', async () => {
    const { code, output, marks: order } = await runPlan({ slowCounts: { passed: 3, failed: 0, skipped: 0 } });
    expect(code).toBe(0);
    // The slow lane ended while the fast suite ran (see runPlan); its output still comes after the fast one.
    expect(order.indexOf('start fast')).toBeLessThan(order.indexOf('end slow'));
    expect(order.indexOf('end slow')).toBeLessThan(order.indexOf('end fast'));
    expect(output.indexOf('FAST OUTPUT')).toBeLessThan(output.indexOf('SLOW OUTPUT'));
    expect(output.indexOf('tsc ok')).toBeLessThan(output.indexOf('FAST OUTPUT'));
    expect(output).toMatch(/──── slow \(\d+ s, exit 0\) ────\nSLOW OUTPUT/);
    // Said at once, so the quiet minute of the checks does not look like a hang.
    expect(output.split('\n')[0]).toBe('[test] typecheck and lint side by side, then the fast; the slow runs beside them from now on and its report follows');
    expect(output.trim().split('\n').at(-1)).toBe('tests: 13 passed, 0 failed, 1 skipped');
  });

  it('a failed slow suite fails the run after every other step has run; a suite without counts is a failure', async () => {
    const failed = await runPlan({ slowCode: 1, slowCounts: { passed: 2, failed: 1, skipped: 0 } });
    expect(failed.code).toBe(1);
    expect(failed.marks).toContain('end fast');
    expect(failed.output).toContain('[test] slow: FAILED (exit 1)');
    expect(failed.output.trim().split('\n').at(-1)).toBe('tests: 12 passed, 1 failed, 1 skipped');

    const noCounts = await runPlan({});
    expect(noCounts.code).toBe(1);
    expect(noCounts.output).toContain('slow: no result');
  });

  it('PIOPIY_TEST_LANES=1: one step after the other', async () => {
    const { code, marks: order } = await runPlan({ sequential: true, slowCounts: { passed: 1, failed: 0, skipped: 0 } });
    expect(code).toBe(0);
    expect(order).toEqual(['start typecheck', 'end typecheck', 'start lint', 'end lint', 'start fast', 'end fast', 'start slow', 'end slow']);
  });
});
