// `npm run bench [-- --only <substring>] [-- --peers]`: runs every bench/*.bench.ts in its own process and passes
// through the JSON lines they print. A benchmark that fails is reported as a JSON line with "error" and makes
// the run exit non-zero, after the others have run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
const passThrough = onlyIndex >= 0 ? [...args.slice(0, onlyIndex), ...args.slice(onlyIndex + 2)] : args;

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only === undefined || f.includes(only))
  .sort();

let failed = 0;
for (const file of files) {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(benchDir, file), ...passThrough], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${JSON.stringify({ name: file, error: `exited with ${result.status ?? result.signal}` })}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
