// Code blocks of the repo's Markdown files, for the tests that hold the docs to what they say.
import { readFileSync } from 'node:fs';

export const repoRoot = new URL('../../', import.meta.url);

export interface CodeBlock {
  /** The fence's language tag (`ts`, `sh`, or '' when none). */
  lang: string;
  code: string;
  /** The name of a `<!-- readme-snippet: NAME -->` marker on the line before the fence, if any. */
  name: string | undefined;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

/** Every fenced block of a Markdown file in the repo (`README.md`, `examples/README.md`, ...). */
export function codeBlocks(file = 'README.md'): CodeBlock[] {
  const lines = readFileSync(new URL(file, repoRoot), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: code block never closed`);
    const marker = /^<!-- readme-snippet: ([\w-]+) -->$/.exec(lines[i - 1] ?? '');
    blocks.push({ lang: open[1]!, code: `${lines.slice(i + 1, end).join('\n')}\n`, name: marker?.[1], line: i + 1 });
    i = end;
  }
  return blocks;
}

/** The block marked `<!-- readme-snippet: NAME -->`. */
export function readmeSnippet(name: string, file = 'README.md'): string {
  const block = codeBlocks(file).find((b) => b.name === name);
  if (block === undefined) throw new Error(`${file} has no code block marked <!-- readme-snippet: ${name} -->`);
  return block.code;
}

/**
 * Runs the block marked NAME as written: writes it to a scratch folder inside the repo (where the package name
 * resolves to the sources, through vitest's aliases) and imports it. Resolves with the arguments of each
 * `console.log` call it made, which stays silent meanwhile.
 */
export async function runReadmeSnippet(name: string): Promise<unknown[][]> {
  const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { vi } = await import('vitest');
  const dir = new URL(`test/testing/.readme/${name}/`, repoRoot);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.ts`, dir);
  writeFileSync(file, readmeSnippet(name));
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await import(file.pathname);
    return [...log.mock.calls];
  } finally {
    log.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  }
}
