// docs/conformance.md is the registry's table: it must say what the suite runs, no more, no less.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LLM_ENTRIES } from './entries-llm.js';
import { STT_ENTRIES } from './entries-stt.js';
import { TTS_ENTRIES } from './entries-tts.js';
import { CHECK_IDS } from './harness.js';
import { conformanceTable } from './table.js';

const TABLE_PATH = new URL('../../../docs/conformance.md', import.meta.url);

describe('docs/conformance.md', () => {
  it('is generated from the registry', () => {
    const table = conformanceTable([
      { title: 'Speech to text', entries: STT_ENTRIES },
      { title: 'LLM', entries: LLM_ENTRIES },
      { title: 'Text to speech', entries: TTS_ENTRIES },
    ]);
    if (process.env.UPDATE_CONFORMANCE_TABLE === '1') writeFileSync(TABLE_PATH, table);
    expect(readFileSync(TABLE_PATH, 'utf8'), 'run UPDATE_CONFORMANCE_TABLE=1 npx vitest run test/services/conformance/table.test.ts').toBe(table);
  });

  it('names every service once, and only known checks as not applicable', () => {
    const names = [...STT_ENTRIES, ...LLM_ENTRIES, ...TTS_ENTRIES].map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of [...STT_ENTRIES, ...LLM_ENTRIES, ...TTS_ENTRIES]) {
      for (const check of Object.keys(entry.notApplicable ?? {})) expect(CHECK_IDS).toContain(check);
    }
  });
});
