// `piopiy-ai init <dir>`: a new agent project, ready for `npm install && npm test`. The files come from
// ./templates (copied next to the compiled CLI by the build), except package.json, which names this package's
// version and the versions of the tools it was tested with.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** Template file -> file in the project. Dotfiles are renamed on copy: npm drops or renames some in packages. */
const TEMPLATE_FILES: Readonly<Record<string, string>> = {
  'agent.ts': 'agent.ts',
  'agent.test.ts': 'agent.test.ts',
  'README.md': 'README.md',
  'env.example': '.env.example',
  'gitignore': '.gitignore',
  'tsconfig.template.json': 'tsconfig.json',
};

const TEMPLATES = new URL('./templates/', import.meta.url);

/** The tools a project needs besides piopiy-ai; their versions are the ones piopiy-ai itself uses. */
const DEPENDENCIES = ['dotenv'] as const;
const DEV_DEPENDENCIES = ['@types/node', 'tsx', 'typescript'] as const;

export interface InitOptions {
  /** The folder to create; it may exist if it is empty. */
  dir: string;
  /** This package's version: the project depends on `^version` unless `packageSpec` says otherwise. */
  version: string;
  /**
   * What to install as piopiy-ai: an npm version range, or a path to a tarball or folder (written as an
   * absolute `file:` spec, so it holds from inside the project). Default `^version`.
   */
  packageSpec?: string;
  /** piopiy-ai's own package.json, for the versions of dotenv, tsx, TypeScript and @types/node. */
  ownPackageJson: PackageJsonVersions;
}

export interface PackageJsonVersions {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface InitResult {
  /** The project folder, absolute. */
  dir: string;
  /** The files written, relative to `dir`. */
  files: string[];
  /** The dependency spec of piopiy-ai written to package.json. */
  piopiySpec: string;
}

/** A problem with what was asked (a non-empty folder, say): the CLI prints the message alone, not a stack. */
export class InitError extends Error {
  override readonly name = 'InitError';
}

/** Writes the project; throws InitError when `dir` is a file or a non-empty folder. */
export function initProject(options: InitOptions): InitResult {
  const dir = resolve(options.dir);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new InitError(`${options.dir} exists and is not a folder`);
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
      throw new InitError(`${options.dir} is not empty (${shown}): choose a new folder, or empty this one`);
    }
  }
  const piopiySpec = dependencySpec(options.packageSpec, options.version);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  write('package.json', `${JSON.stringify(projectPackageJson(basename(dir), piopiySpec, options.ownPackageJson), null, 2)}\n`);
  for (const [template, target] of Object.entries(TEMPLATE_FILES)) {
    write(target, readFileSync(new URL(template, TEMPLATES), 'utf8'));
  }
  return { dir, files, piopiySpec };
}

function dependencySpec(packageSpec: string | undefined, version: string): string {
  if (packageSpec === undefined) return `^${version}`;
  const spec = packageSpec.replace(/^file:/, '');
  // A path given on the command line is relative to where the command runs, not to the new project.
  if (existsSync(spec)) return `file:${resolve(spec)}`;
  if (packageSpec.startsWith('file:')) throw new InitError(`--package ${packageSpec}: no such file or folder`);
  return packageSpec;
}

/** An npm package name from a folder name: lower case, letters, digits, '-', '.', '_'. */
export function projectName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name === '' ? 'voice-agent' : name;
}

function projectPackageJson(folder: string, piopiySpec: string, own: PackageJsonVersions): object {
  const versionOf = (name: string): string => {
    const version = own.dependencies?.[name] ?? own.devDependencies?.[name];
    if (version === undefined) throw new Error(`piopiy-ai's package.json names no version of ${name}`);
    return version;
  };
  return {
    name: projectName(folder),
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20' },
    scripts: {
      start: 'piopiy-ai start agent.ts',
      dev: 'piopiy-ai dev agent.ts',
      demo: 'piopiy-ai demo --agent agent.ts',
      // Node's own test runner, with tsx for TypeScript: nothing to install beyond what piopiy-ai brings.
      test: 'node --import tsx --test agent.test.ts',
      typecheck: 'tsc --noEmit',
    },
    dependencies: {
      'piopiy-ai': piopiySpec,
      ...Object.fromEntries(DEPENDENCIES.map((name) => [name, versionOf(name)])),
    },
    devDependencies: Object.fromEntries(DEV_DEPENDENCIES.map((name) => [name, versionOf(name)])),
  };
}

/** What to run next, for the terminal. */
export function nextSteps(result: InitResult, dirAsGiven: string): string {
  const cdTarget = /\s/.test(dirAsGiven) ? `"${dirAsGiven}"` : dirAsGiven;
  return [
    `Created ${dirAsGiven} (piopiy-ai ${result.piopiySpec}): ${result.files.join(', ')}`,
    '',
    'Next:',
    `  cd ${cdTarget}`,
    '  npm install',
    '  npm run demo      # a simulated call on this machine, offline',
    '  npm run dev       # call your agent from the browser',
    '  npm test          # the simulated call of agent.test.ts',
    '  npm start         # real Piopiy calls, once .env is filled in (cp .env.example .env)',
    '',
  ].join('\n');
}
