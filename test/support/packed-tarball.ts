// The repository packed as npm would publish it (`npm pack`, whose prepack builds dist/), for the slow tests that
// install it from outside. Packing takes half a minute, so the tarball is kept in the temp folder under a hash of
// everything that goes into it, and the next test file (or run) with the same sources reuses it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './readme.js';

const root = repoRoot.pathname;
/** What the tarball is made from: the package's files and what builds them. */
const INPUTS = ['src', 'cjs', 'examples', 'README.md', 'LICENSE', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

export interface PackedTarball {
  /** Absolute path of the .tgz. */
  path: string;
  /** The files in it, relative to the package root (`dist/index.js`, ...). */
  files: string[];
  /** How long packing took, in ms (0 when an earlier pack of the same sources was reused). */
  packMs: number;
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of filesUnder(join(root, input))) {
      hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

let packing: Promise<PackedTarball> | undefined;

/** Packs the repository (once per set of sources) and resolves with the tarball. */
export function packedTarball(): Promise<PackedTarball> {
  packing ??= pack();
  return packing;
}

async function pack(): Promise<PackedTarball> {
  const dir = join(tmpdir(), `piopiy-ai-packed-${sourcesHash()}`);
  const manifest = join(dir, 'pack.json');
  if (existsSync(manifest)) {
    const kept = JSON.parse(readFileSync(manifest, 'utf8')) as Omit<PackedTarball, 'packMs'>;
    if (existsSync(kept.path)) return { ...kept, packMs: 0 };
  }
  const started = performance.now();
  // Packed beside, then moved into place whole, so a reader never sees half a tarball.
  const scratch = mkdtempSync(join(tmpdir(), 'piopiy-ai-packing-'));
  const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--pack-destination', scratch], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  // prepack's build output comes first on stdout; npm's JSON is the last thing printed.
  const report = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[') + 1)) as { filename: string; files: { path: string }[] }[];
  const first = report[0];
  if (first === undefined) throw new Error(`npm pack reported no tarball:\n${stdout}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const path = join(dir, first.filename);
  renameSync(join(scratch, first.filename), path);
  rmSync(scratch, { recursive: true, force: true });
  const packed = { path, files: first.files.map((f) => f.path) };
  writeFileSync(manifest, JSON.stringify(packed));
  return { ...packed, packMs: Math.round(performance.now() - started) };
}
