// The runner behind `npm test` (scripts/test-lanes.mjs) on small node scripts standing in for tsc, eslint and the
// vitest runs: the `beside` steps run next to the first live step (the fast suite) and are shown after it, the next
// live step follows, every step runs to its end, the exit code says whether anything failed, and the last line
// counts every suite.
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
  plan: { beside: Step[]; live: Step[]; totals: Record<string, string> },
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

async function runPlan(options: { besideCode?: number; besideCounts?: object; sequential?: boolean }): Promise<{ code: number; output: string; marks: string[] }> {
  writeFileSync(marks, '');
  const out = new PassThrough();
  let output = '';
  out.on('data', (d: Buffer) => (output += d.toString()));
  const code = await run(
    {
      // Side by side, the installs end only once the fast suite has started, and the fast suite only after the
      // installs ended: the run finishes only if the lanes overlap. One after the other, neither waits.
      beside: [
        step('typecheck', { output: 'tsc ok' }),
        step('lint', { output: 'lint ok' }),
        step('beside', { output: 'BESIDE OUTPUT', waitFor: options.sequential ? undefined : 'start fast', code: options.besideCode, counts: options.besideCounts }),
      ],
      live: [
        step('fast', { output: 'FAST OUTPUT', waitFor: options.sequential ? undefined : 'end beside', counts: { passed: 10, failed: 0, skipped: 1 } }),
        step('after', { output: 'AFTER OUTPUT', counts: { passed: 2, failed: 0, skipped: 0 } }),
      ],
      totals: { fast: join(dir, 'fast.json'), beside: join(dir, 'beside.json'), after: join(dir, 'after.json') },
    },
    { cwd: dir, out, sequential: options.sequential },
  );
  return { code, output, marks: readFileSync(marks, 'utf8').trim().split('\n') };
}

describe('npm test lanes', () => {
  it('runs the beside steps next to the fast suite, shows them after it, then runs the next live step, and counts all', async () => {
    const { code, output, marks: order } = await runPlan({ besideCounts: { passed: 3, failed: 0, skipped: 0 } });
    expect(code).toBe(0);
    // The beside step ended while the fast suite ran (see runPlan); its output still comes after the fast one's.
    expect(order.indexOf('start fast')).toBeLessThan(order.indexOf('end beside'));
    expect(order.indexOf('end beside')).toBeLessThan(order.indexOf('end fast'));
    expect(order.indexOf('end fast')).toBeLessThan(order.indexOf('start after'));
    expect(output.indexOf('FAST OUTPUT')).toBeLessThan(output.indexOf('tsc ok'));
    expect(output.indexOf('tsc ok')).toBeLessThan(output.indexOf('BESIDE OUTPUT'));
    expect(output.indexOf('BESIDE OUTPUT')).toBeLessThan(output.indexOf('AFTER OUTPUT'));
    expect(output).toMatch(/──── beside \(\d+ s, exit 0\) ────\nBESIDE OUTPUT/);
    // Said at once: the beside steps' output comes later, so the run must say they are running.
    expect(output.split('\n')[0]).toBe('[test] fast, after, one after another; beside them from now on: typecheck, lint, beside');
    expect(output.trim().split('\n').at(-1)).toBe('tests: 15 passed, 0 failed, 1 skipped');
  });

  it('a failed step fails the run after every other step has run; a suite without counts is a failure', async () => {
    const failed = await runPlan({ besideCode: 1, besideCounts: { passed: 2, failed: 1, skipped: 0 } });
    expect(failed.code).toBe(1);
    expect(failed.marks).toContain('end after');
    expect(failed.output).toContain('[test] beside: FAILED (exit 1)');
    expect(failed.output.trim().split('\n').at(-1)).toBe('tests: 14 passed, 1 failed, 1 skipped');

    const noCounts = await runPlan({});
    expect(noCounts.code).toBe(1);
    expect(noCounts.output).toContain('beside: no result');
  });

  it('PIOPIY_TEST_LANES=1: one step after the other', async () => {
    const { code, marks: order } = await runPlan({ sequential: true, besideCounts: { passed: 1, failed: 0, skipped: 0 } });
    expect(code).toBe(0);
    expect(order).toEqual(['start typecheck', 'end typecheck', 'start lint', 'end lint', 'start beside', 'end beside', 'start fast', 'end fast', 'start after', 'end after']);
  });
});
