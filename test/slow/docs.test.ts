// Docs are tests. Every code block of README.md and examples/README.md, and every file of examples/, is checked as a
// user meets it: TypeScript blocks and examples are type-checked against the packed package, imported by its name
// from a consumer folder whose tsconfig is what `tsc --init` writes; the blocks that run offline are run there;
// shell blocks may only name scripts, commands and files that exist. A new TypeScript block must be marked
// `<!-- readme-snippet: NAME -->` and listed below, as run or as type-checked only (and why).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { hasPocketsphinx } from '../examples/run-demo.js';
import { packedTarball } from '../support/packed-tarball.js';
import { codeBlocks, repoRoot, type CodeBlock } from '../support/readme.js';

const root = fileURLToPath(repoRoot);
const DOCS = ['README.md', 'examples/README.md'];

/** Blocks that run offline, each with what its output must show. */
const RUNS: Record<string, { needsPocketsphinx?: boolean; check: (stdout: string) => void }> = {
  'simulated-call': { check: (out) => expect(out).toContain('It is 18 degrees in Paris.') },
  'testing-own-agent': {
    needsPocketsphinx: true, // the agent file's offline STT
    check: (out) => expect(out).toMatch(/^transferred 918000000002 \[.*'POST \/v3\//m),
  },
  frames: { check: () => undefined },
  keypad: { check: (out) => expect(out).toContain("text: 'The caller pressed: 4 7 1 1'") },
  switching: { check: (out) => expect(out).toContain('caller: mera order kahan hai') },
};

/** Blocks that are type-checked only, and why they cannot run here. */
const TYPECHECK_ONLY: Record<string, string> = {
  'real-number': 'serves real Piopiy calls: needs AGENT_ID, AGENT_TOKEN and the vendors over the internet',
  'voice-agent': 'uses Deepgram, OpenAI and Cartesia over the internet',
  'call-tools': 'serves real Piopiy calls with vendors over the internet (test/call-tools runs the same tools offline)',
  'call-control-rest': 'acts on a real call through the Piopiy REST API',
  'mcp-tools': 'connects to MCP servers and vendors over the internet (test/llm/mcp runs MCP tools offline against an SDK server)',
  twilio: 'serves real Twilio calls at a public URL (test/transports/twilio runs the same server against the fake Twilio)',
  'speech-to-speech': 'talks to OpenAI Realtime over the internet (test/voice-agent/realtime-openai.test.ts runs a call offline)',
};

interface Snippet {
  file: string;
  block: CodeBlock;
  /** The file name in the consumer folder. */
  module: string;
}

function snippets(): Snippet[] {
  return DOCS.flatMap((file) =>
    codeBlocks(file)
      .filter((block) => block.lang === 'ts')
      .map((block) => ({ file, block, module: `${file.replace(/\W+/g, '-')}-${block.name ?? `line-${block.line}`}.ts` })),
  );
}

let consumer = '';

/**
 * A folder as a user's: `"type": "module"`, `tsc --init`'s tsconfig, and the package as published (the packed
 * tarball, unpacked as node_modules/piopiy-ai; its dependencies linked from the repository's node_modules).
 */
function makeConsumerFolder(tarball: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'piopiy-docs-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-consumer', private: true, type: 'module' }));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'piopiy-ai'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'piopiy-ai'), '--strip-components=1']);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== '.bin' && name !== 'piopiy-ai') symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--init'], { cwd: dir, stdio: 'pipe' });
  // `tsc --init` writes `"types": []`; a program that reads process.env adds Node's, as its error message says.
  writeFileSync(
    join(dir, 'tsconfig.docs.json'),
    JSON.stringify({ extends: './tsconfig.json', compilerOptions: { types: ['node'], noEmit: true }, include: ['*.ts'] }),
  );
  return dir;
}

beforeAll(async () => {
  consumer = makeConsumerFolder((await packedTarball()).path);
  for (const { module, block } of snippets()) writeFileSync(join(consumer, module), block.code);
  for (const example of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts'))) {
    cpSync(join(root, 'examples', example), join(consumer, `example-${example}`));
  }
  // The agent file the testing snippet imports: the demo's transfer agent.
  cpSync(join(root, 'examples/transfer-agent.ts'), join(consumer, 'agent.ts'));
}, 180_000);

afterAll(() => {
  if (consumer !== '') rmSync(consumer, { recursive: true, force: true });
});

describe('docs are tests', () => {
  it('marks every TypeScript block and says whether it runs', () => {
    for (const { file, block } of snippets()) {
      const where = `${file}:${block.line}`;
      expect(block.name, `${where}: mark the block with <!-- readme-snippet: NAME -->`).toBeDefined();
      const listed = RUNS[block.name!] !== undefined || TYPECHECK_ONLY[block.name!] !== undefined;
      expect(listed, `${where}: list "${block.name}" in RUNS or TYPECHECK_ONLY of test/slow/docs.test.ts`).toBe(true);
    }
    const names = snippets().map((s) => s.block.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i), 'snippet names are unique').toEqual([]);
    for (const name of [...Object.keys(RUNS), ...Object.keys(TYPECHECK_ONLY)]) expect(names).toContain(name);
  });

  it('type-checks every TypeScript block and example against the built package under tsc --init settings', () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.docs.json'], {
      cwd: consumer,
      encoding: 'utf8',
    });
    // Point each error at its line in the Markdown file.
    const where = new Map(snippets().map((s) => [s.module, s]));
    const errors = tsc.stdout
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => {
        const match = /^([\w.-]+)\((\d+),\d+\): (.*)$/.exec(line);
        const snippet = match === null ? undefined : where.get(match[1]!);
        return snippet === undefined ? line : `${snippet.file}:${snippet.block.line + Number(match![2])}: ${match![3]}`;
      });
    expect(errors).toEqual([]);
    expect(tsc.status).toBe(0);
  }, 120_000);

  for (const [name, run] of Object.entries(RUNS)) {
    const skip = run.needsPocketsphinx === true && !hasPocketsphinx;
    it.skipIf(skip)(`runs the "${name}" block offline${skip ? ' (skipped: pocketsphinx-en-us is not installed)' : ''}`, () => {
      const snippet = snippets().find((s) => s.block.name === name)!;
      const result = spawnSync(process.execPath, ['--import', 'tsx', snippet.module], {
        cwd: consumer,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, PIOPIY_LOG_LEVEL: 'warn', DOTENV_CONFIG_QUIET: 'true' },
      });
      expect(result.status, result.stderr).toBe(0);
      run.check(result.stdout);
    }, 150_000);
  }

  it('names only scripts, commands and files that exist in its shell blocks', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const commands = new Set(createProgram().commands.map((c) => c.name()));
    for (const file of DOCS) {
      for (const block of codeBlocks(file).filter((b) => b.lang === 'sh')) {
        for (const line of block.code.split('\n')) {
          const command = line.replace(/#.*$/, '').trim();
          if (command === '') continue;
          const where = `${file}:${block.line}: ${command}`;
          const npmRun = /^npm run ([\w:-]+)/.exec(command);
          const npx = /^npx piopiy-ai (\w+)/.exec(command);
          if (npmRun !== null) expect(pkg.scripts[npmRun[1]!], where).toBeDefined();
          else if (npx !== null) expect(commands.has(npx[1]!), where).toBe(true);
          else expect(command, `${where}: not a command this test knows`).toMatch(/^npm (test|install\b)/);
          for (const path of command.match(/\b(?:examples|src|test|scripts)\/[\w./-]*/g) ?? []) {
            const existing = path.endsWith('/') ? path : path.replace(/[^/]*$/, '');
            expect(readdirSync(join(root, existing)), where).toBeDefined();
          }
        }
      }
    }
  });
});
