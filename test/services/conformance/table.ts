// docs/conformance.md, rendered from the registry: one row per service, one column per check. A cell is ✓ when
// the entry runs the check, or a numbered note saying why the check does not apply.
import { CHECKS, CHECK_IDS, type EntryBase } from './harness.js';

export function conformanceTable(kinds: readonly { title: string; entries: readonly EntryBase[] }[]): string {
  const notes: string[] = [];
  const lines = [
    '# Conformance',
    '',
    'Generated from `test/services/conformance/entries-*.ts` by `test/services/conformance/table.test.ts`',
    '(`UPDATE_CONFORMANCE_TABLE=1 npx vitest run test/services/conformance/table.test.ts` rewrites it). Every service',
    'runs the same checks against its fake vendor server (`piopiy-ai/testing`), over real sockets, on simulated time',
    'where time is not the subject.',
    '',
    '| check | what it holds the service to |',
    '|---|---|',
    ...CHECK_IDS.map((id) => `| ${id} | ${CHECKS[id]} |`),
  ];
  for (const { title, entries } of kinds) {
    lines.push('', `## ${title} (${entries.length})`, '');
    lines.push(`| service | import | fake | ${CHECK_IDS.join(' | ')} |`);
    lines.push(`|---|---|---|${CHECK_IDS.map(() => ':-:').join('|')}|`);
    for (const entry of entries) {
      const cells = CHECK_IDS.map((id) => {
        const reason = entry.notApplicable?.[id];
        const caveat = entry.caveats?.[id];
        if (reason !== undefined) notes.push(`${entry.name}, ${id}: ${reason}`);
        else if (caveat !== undefined) notes.push(`${entry.name}, ${id}: ${caveat}`);
        else return '✓';
        return reason !== undefined ? `n/a [${notes.length}]` : `✓ [${notes.length}]`;
      });
      lines.push(`| ${entry.name} | \`${entry.className}\` from \`${entry.importPath}\` | \`${entry.fake}\` | ${cells.join(' | ')} |`);
    }
  }
  if (notes.length > 0) lines.push('', '## Notes', '', ...notes.map((note, i) => `${i + 1}. ${note}`));
  return `${lines.join('\n')}\n`;
}
