// `piopiy-ai init <dir>`: the files written, the folder check, the versions. (test/slow/init.test.ts installs a
// project made from the packed tarball and runs its commands.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { InitError, initProject, nextSteps, projectName, type InitOptions } from '../../src/cli/init.js';

const repoPackageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const root = mkdtempSync(join(tmpdir(), 'piopiy-init-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
const newFolder = (): string => join(root, `project-${++folders}`);
const init = (options: Partial<InitOptions> = {}): ReturnType<typeof initProject> =>
  initProject({ dir: newFolder(), version: '1.2.3', ownPackageJson: repoPackageJson, ...options });

interface ProjectPackageJson {
  name: string;
  private: boolean;
  type: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const readPackageJson = (dir: string): ProjectPackageJson => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as ProjectPackageJson;

describe('piopiy-ai init', () => {
  it('writes the project: package.json, the agent and its test, tsconfig, .env.example, .gitignore, README', () => {
    const result = init();
    expect([...result.files].sort()).toEqual(
      ['.env.example', '.gitignore', 'README.md', 'agent.test.ts', 'agent.ts', 'package.json', 'tsconfig.json'].sort(),
    );
    const templates = new URL('../../src/cli/templates/', import.meta.url);
    expect(readFileSync(join(result.dir, 'agent.ts'), 'utf8')).toBe(readFileSync(new URL('agent.ts', templates), 'utf8'));
    expect(readFileSync(join(result.dir, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });

  it('package.json: an ES module depending on this version, with the tools at the versions piopiy-ai uses', () => {
    const pkg = readPackageJson(init().dir);
    expect(pkg.type).toBe('module');
    expect(pkg.private).toBe(true);
    expect(pkg.dependencies).toEqual({ 'piopiy-ai': '^1.2.3', dotenv: repoPackageJson.dependencies.dotenv });
    expect(pkg.devDependencies).toEqual({
      '@types/node': repoPackageJson.devDependencies['@types/node'],
      tsx: repoPackageJson.dependencies.tsx,
      typescript: repoPackageJson.devDependencies.typescript,
    });
    expect(pkg.scripts).toEqual({
      start: 'piopiy-ai start agent.ts',
      dev: 'piopiy-ai dev agent.ts',
      demo: 'piopiy-ai demo --agent agent.ts',
      test: 'node --import tsx --test agent.test.ts',
      typecheck: 'tsc --noEmit',
    });
  });

  it('--package: a path becomes an absolute file: spec, anything else is written as given', () => {
    const tarball = join(root, 'piopiy-ai-9.9.9.tgz');
    writeFileSync(tarball, 'not really a tarball');
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(init({ packageSpec: 'piopiy-ai-9.9.9.tgz' }).piopiySpec).toBe(`file:${tarball}`);
      expect(init({ packageSpec: `file:${tarball}` }).piopiySpec).toBe(`file:${tarball}`);
    } finally {
      process.chdir(cwd);
    }
    const ranged = init({ packageSpec: '~1.2.0' });
    expect(ranged.piopiySpec).toBe('~1.2.0');
    expect(readPackageJson(ranged.dir).dependencies['piopiy-ai']).toBe('~1.2.0');
    expect(() => init({ packageSpec: 'file:/no/such/piopiy-ai.tgz' })).toThrow(/--package file:\/no\/such\/piopiy-ai.tgz: no such file/);
  });

  it('refuses a folder that is not empty, and a file, writing nothing; takes an empty folder', () => {
    const busy = newFolder();
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    expect(() => initProject({ dir: busy, version: '1.2.3', ownPackageJson: repoPackageJson })).toThrow(InitError);
    expect(() => initProject({ dir: busy, version: '1.2.3', ownPackageJson: repoPackageJson })).toThrow(
      `${busy} is not empty (notes.txt): choose a new folder, or empty this one`,
    );
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
    expect(() => initProject({ dir: join(busy, 'notes.txt'), version: '1.2.3', ownPackageJson: repoPackageJson })).toThrow(
      /notes\.txt exists and is not a folder/,
    );
    const empty = newFolder();
    mkdirSync(empty);
    expect(initProject({ dir: empty, version: '1.2.3', ownPackageJson: repoPackageJson }).files).toContain('agent.ts');
  });

  it('names the package after the folder, as npm allows', () => {
    expect(projectName('my-agent')).toBe('my-agent');
    expect(projectName('My Support Agent!')).toBe('my-support-agent');
    expect(projectName('.hidden')).toBe('hidden');
    expect(projectName('???')).toBe('voice-agent');
    expect(readPackageJson(initProject({ dir: join(root, 'Acme Bot'), version: '1.2.3', ownPackageJson: repoPackageJson }).dir).name).toBe('acme-bot');
  });

  it('tsconfig.json: strict, as tsc --init makes it, and valid for TypeScript', () => {
    const text = readFileSync(join(init().dir, 'tsconfig.json'), 'utf8');
    const parsed = ts.parseConfigFileTextToJson('tsconfig.json', text);
    expect(parsed.error).toBeUndefined();
    expect((parsed.config as { compilerOptions: object }).compilerOptions).toMatchObject({
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      skipLibCheck: true,
      types: ['node'],
      noEmit: true,
    });
  });

  it('.env.example names every variable the agent and the service choice read, each with a comment', () => {
    const env = readFileSync(join(init().dir, '.env.example'), 'utf8');
    const read = new Set<string>();
    for (const file of ['../../src/cli/templates/agent.ts', '../../src/services/auto/index.ts', '../../src/services/auto/cloud-tts.ts', '../../src/services/auto/aws-env.ts', '../../src/logging/logger.ts']) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|(?:key|setting)\('([A-Z][A-Z0-9_]+)'/g)) read.add(m[1] ?? m[2]!);
    }
    // Set by `piopiy-ai demo` / `dev` and the test to reach the simulator; a user never sets them.
    read.delete('PIOPIY_SIGNALING_URL');
    read.delete('PIOPIY_API_URL');
    expect([...read].sort()).toEqual(
      expect.arrayContaining(['AGENT_ID', 'AGENT_TOKEN', 'PIOPIY_TOKEN', 'PIOPIY_NUMBER', 'SUPPORT_NUMBER', 'OPENAI_API_KEY', 'PIOPIY_OFFLINE', 'PIOPIY_LOG_LEVEL']),
    );
    const lines = env.split('\n');
    for (const name of read) {
      const at = lines.findIndex((l) => new RegExp(`^(# )?${name}=`).test(l));
      expect(at, `${name} in .env.example`).toBeGreaterThan(0);
      // Its own comment, or the comment of the group of settings it belongs to, just above.
      const above = lines.slice(0, at).reverse().find((l) => !/^(# )?[A-Z][A-Z0-9_]*=/.test(l));
      expect(above, `${name} has a comment`).toMatch(/^# \S/);
    }
  });

  it('the command: prints the next steps; refuses a non-empty folder with a clear message and exit code 1', () => {
    const dir = newFolder();
    const run = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'init', dir], { encoding: 'utf8' });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`Created ${dir} (piopiy-ai ^${repoPackageJson.version})`);
    expect(first.stdout).toContain(`cd ${dir}\n  npm install\n`);
    expect(readPackageJson(dir).dependencies['piopiy-ai']).toBe(`^${repoPackageJson.version}`);
    const second = run();
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/^piopiy-ai init: .* is not empty \(.*\): choose a new folder, or empty this one\n$/);
    expect(second.stdout).toBe('');
  });

  it('quotes a folder with spaces in the cd line', () => {
    expect(nextSteps({ dir: '/x/my agent', files: ['agent.ts'], piopiySpec: '^1.0.0' }, 'my agent')).toContain('  cd "my agent"\n');
  });
});
