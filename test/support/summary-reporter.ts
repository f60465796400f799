// Prints one plain closing line after vitest's own summary, `tests: N passed, N failed, N skipped`, so CI logs
// and scripts can read the result without parsing coloured output. `npm test` runs the fast suite and then the
// slow one (its own step): the fast run records its counts (`totals: 'write'`) and the slow run adds them
// (`totals: 'add'`), so the last line of `npm test` counts every test.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const TOTALS_FILE = join(process.cwd(), 'node_modules', '.vitest-totals.json');

export default class SummaryReporter implements Reporter {
  constructor(private readonly options: { totals?: 'write' | 'add' } = {}) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
      // A file that failed to load has no tests but must not read as a pass.
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++;
    }
    let total = counts;
    if (this.options.totals === 'write') {
      writeFileSync(TOTALS_FILE, JSON.stringify(counts));
    } else if (this.options.totals === 'add' && existsSync(TOTALS_FILE)) {
      const earlier = JSON.parse(readFileSync(TOTALS_FILE, 'utf8')) as Counts;
      total = {
        passed: earlier.passed + counts.passed,
        failed: earlier.failed + counts.failed,
        skipped: earlier.skipped + counts.skipped,
      };
      process.stdout.write(`\nslow: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    }
    process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  }
}
