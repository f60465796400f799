// The checked-in API report (api/*.api.md) matches the code: a change to what any entry point exports, or to the
// signature of anything exported, shows up in review as a change to api/. Regenerated in memory, compared file by file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPoints, generateApiReports, reportFileName } from '../../scripts/api-report.mjs';

const root = join(import.meta.dirname, '../..');
const STALE = 'the public API changed: run `npm run api:report` and commit api/';

describe('API report (npm run api:report)', () => {
  it(
    'api/ holds one up-to-date report per entry point of package.json `exports`',
    () => {
      const generated = generateApiReports(root);
      const dir = join(root, 'api');
      const onDisk = Object.fromEntries(
        readdirSync(dir)
          .filter((file) => file.endsWith('.api.md'))
          .map((file) => [file, readFileSync(join(dir, file), 'utf8')]),
      );
      // Compared as objects so a failure names the missing, extra or changed file and shows the changed lines.
      expect(onDisk, STALE).toEqual(Object.fromEntries(generated));
    },
    // Type-checks the whole source for the declaration text: ~10 s alone, more beside the other test files.
    120_000,
  );

  it('covers every subpath of the wildcard entry points but the ones package.json excludes', () => {
    const names = entryPoints(root).map((entry) => entry.name);
    expect(names).toContain('piopiy-ai');
    expect(names).toContain('piopiy-ai/testing');
    expect(names).toContain('piopiy-ai/services/openai');
    // `"./services/base": null`: the service bases are imported from `piopiy-ai`.
    expect(names).not.toContain('piopiy-ai/services/base');
    expect(reportFileName('piopiy-ai/services/openai')).toBe('piopiy-ai_services_openai.api.md');
  });
});
