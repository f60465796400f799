// The packed tarball installed into an empty folder with a plain `npm install <tarball>`, as a user would, shared by
// the slow tests that use the package from outside (pack-install, init): one install instead of one per file. The
// folder is kept in the temp folder under the tarball's hash, like the tarball itself; the folder of an older
// tarball is removed when a new one is installed. Tests that write into it work in a subfolder of their own.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { PackedTarball } from './packed-tarball.js';
import { run, type CommandResult } from './user-shell.js';

const PREFIX = 'piopiy-ai-installed-';

export interface InstalledTarball {
  /** The folder holding node_modules/piopiy-ai. */
  readonly dir: string;
  /** The `npm install <tarball>` that made it, or undefined when an earlier one was reused. */
  readonly install: CommandResult | undefined;
  /** How long the install took, in ms (0 when reused). */
  readonly installMs: number;
}

let installing: Promise<InstalledTarball> | undefined;

/** Installs the tarball once per tarball (and per test process: concurrent callers share the promise). */
export function installedTarball(tarball: PackedTarball): Promise<InstalledTarball> {
  installing ??= install(tarball);
  return installing;
}

async function install(tarball: PackedTarball): Promise<InstalledTarball> {
  const hash = basename(dirname(tarball.path)).replace('piopiy-ai-packed-', '');
  const dir = join(tmpdir(), `${PREFIX}${hash}`);
  const stamp = join(dir, '.installed');
  if (existsSync(stamp)) return { dir, install: undefined, installMs: 0 };
  for (const entry of readdirSync(tmpdir())) {
    if (entry.startsWith(PREFIX)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const result = await run('npm', ['install', tarball.path], { cwd: dir });
  const installMs = Math.round(performance.now() - started);
  // Only a complete install is reused; a failed one is the test's failure to report, and is redone next time.
  if (result.code === 0) writeFileSync(stamp, tarball.path);
  return { dir, install: result, installMs };
}
