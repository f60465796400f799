// `npm run soak`: the full soak (50 calls, 10 minutes of conversation, 10 at a time by default), in a process
// of its own started with --expose-gc. Progress goes to stderr; stdout carries one JSON summary line; the exit
// code is 1 when a criterion fails. Options: --calls N --minutes M --concurrency C --warmup W.
import { parseArgs } from 'node:util';
import { runSoak } from './soak-runner.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    checkpoint: { type: 'string' },
  },
});

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`soak: --${name} must be a positive number, got ${text}\n`);
    process.exit(2);
  }
  return value;
}

if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  process.stderr.write('soak: run with node --expose-gc (npm run soak does)\n');
  process.exit(2);
}

const report = await runSoak({
  calls: positive('calls', values.calls)!,
  conversationMinutes: positive('minutes', values.minutes)!,
  concurrency: positive('concurrency', values.concurrency)!,
  warmupCalls: positive('warmup', values.warmup),
  checkpointEvery: positive('checkpoint', values.checkpoint),
  progress: (line) => process.stderr.write(`[soak] ${line}\n`),
});
for (const failure of report.failures) process.stderr.write(`[soak] FAILED: ${failure}\n`);
process.stderr.write(`[soak] ${report.ok ? 'passed' : 'failed'}\n`);
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exitCode = report.ok ? 0 : 1;
