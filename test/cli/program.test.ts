import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProgram, packageVersion } from '../../src/cli/program.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const tsx = ['--import', 'tsx', 'src/cli/main.ts'];

describe('piopiy-ai CLI', () => {
  it('knows its version', () => {
    expect(packageVersion()).toBe(pkg.version);
    expect(createProgram().version()).toBe(pkg.version);
  });

  it('prints --version and --help, exit code 0', () => {
    expect(execFileSync(process.execPath, [...tsx, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    const help = execFileSync(process.execPath, [...tsx, '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^Usage: piopiy-ai/);
    expect(help).toContain('--version');
  });

  it('rejects an unknown command with a non-zero exit and the help', () => {
    const result = spawnSync(process.execPath, [...tsx, 'no-such-command'], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/error: .*argument|unknown command/);
    expect(result.stderr).toContain('Usage: piopiy-ai');
  });
});
