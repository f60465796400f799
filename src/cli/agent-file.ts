// Loading a user's agent file, and saying what to do when it cannot run: it does not exist, it is loaded as
// CommonJS (where `await agent.connect()` at the top level cannot run), or it ends without connecting an Agent.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AGENT_CONNECT_CHANNEL } from '../agent/agent.js';
import { AgentFileError } from './errors.js';

/** Resolves the agent file's path, failing with what to do when it does not exist. */
export function agentFilePath(file: string): string {
  const path = resolve(file);
  if (!existsSync(path)) {
    const where = path === file ? '' : ` (looked for ${path})`;
    throw new AgentFileError(
      'not-found',
      file,
      `agent file not found: ${file}${where}. Check the path; it is relative to the folder you run piopiy-ai in.`,
    );
  }
  return path;
}

/** TypeScript agent files run through tsx's loader when the CLI itself runs as compiled JavaScript. */
export async function prepareToImport(file: string): Promise<string> {
  const path = agentFilePath(file);
  if (/\.[mc]?ts$/.test(path) && !process.execArgv.some((a) => a.includes('tsx'))) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  return path;
}

/** Imports the agent file; a CommonJS file that needs ES module semantics fails with what to change. */
export async function importAgentFile(path: string, file = path): Promise<unknown> {
  try {
    return await import(pathToFileURL(path).href);
  } catch (error) {
    throw notEsmError(error, path, file) ?? error;
  }
}

// How a CommonJS agent file fails: tsx's transform refuses top-level await in CJS output (ERR_REQUIRE_ASYNC_MODULE,
// "Top-level await is currently not supported with the "cjs" output format"); Node's require(esm) refuses the
// file or one of its imports (ERR_REQUIRE_CYCLE_MODULE "Cannot require() ES Module ... in a cycle", ERR_REQUIRE_ESM).
const CJS_FAILURE_CODES = new Set(['ERR_REQUIRE_ASYNC_MODULE', 'ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ESM']);
const CJS_FAILURE_MESSAGE = /Top-level await is currently not supported with the "cjs" output format|Cannot require\(\) ES Module/;

/** The AgentFileError for a CommonJS agent file that failed to load as one, or undefined for any other failure. */
export function notEsmError(error: unknown, path: string, file: string): AgentFileError | undefined {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const looksLikeCjs =
    (typeof code === 'string' && CJS_FAILURE_CODES.has(code)) || (typeof message === 'string' && CJS_FAILURE_MESSAGE.test(message));
  const format = moduleFormatOf(path);
  if (!looksLikeCjs || format.type !== 'commonjs') return undefined;
  const name = basename(path);
  const fix =
    format.reason === 'extension'
      ? `rename it to ${name.replace(/\.c([jt]s)$/, '.m$1')}`
      : format.packageJson === undefined
        ? `create a package.json in ${dirname(path)} containing {"type": "module"}`
        : `add "type": "module" to ${format.packageJson}`;
  return new AgentFileError(
    'not-esm',
    file,
    `${file} is loaded as CommonJS, where top-level await (\`await agent.connect()\`) and piopiy-ai (an ES module) cannot run: ${fix}.`,
    { cause: error },
  );
}

export type ModuleFormat =
  | { type: 'module' | 'commonjs'; reason: 'extension' }
  | { type: 'module' | 'commonjs'; reason: 'package'; packageJson: string | undefined };

/** How Node (and tsx) decide a file's module format: its extension, else the nearest package.json's "type". */
export function moduleFormatOf(path: string): ModuleFormat {
  if (/\.m[jt]s$/.test(path)) return { type: 'module', reason: 'extension' };
  if (/\.c[jt]s$/.test(path)) return { type: 'commonjs', reason: 'extension' };
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(candidate, 'utf8')) as { type?: unknown }).type;
      } catch {
        type = undefined; // Node would fail on it with its own message; report the format it would assume
      }
      return { type: type === 'module' ? 'module' : 'commonjs', reason: 'package', packageJson: candidate };
    }
    if (dirname(dir) === dir) return { type: 'commonjs', reason: 'package', packageJson: undefined };
  }
}

/** Counts `Agent.connect()` calls in this process from now on (any copy of piopiy-ai announces them). */
export class ConnectWatch {
  private count = 0;
  private readonly waiting = new Set<() => void>();
  private readonly listener = (): void => {
    this.count++;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  };

  constructor() {
    subscribe(AGENT_CONNECT_CHANNEL, this.listener);
  }

  get connects(): number {
    return this.count;
  }

  /**
   * Resolves once some Agent has called `connect()`. Rejects when the process runs out of work first, i.e. when it
   * would otherwise exit silently: the agent file finished without connecting an Agent. Waiting costs nothing while
   * the file is still busy (an agent may connect after its own async setup).
   */
  untilConnected(file: string): Promise<void> {
    if (this.count > 0) return Promise.resolve();
    return new Promise<void>((resolveConnected, reject) => {
      const onBeforeExit = (): void => {
        this.waiting.delete(onConnect);
        reject(
          new AgentFileError(
            'never-connected',
            file,
            `${file} finished without connecting an Agent: end it with \`await agent.connect()\`.`,
          ),
        );
      };
      const onConnect = (): void => {
        process.off('beforeExit', onBeforeExit);
        resolveConnected();
      };
      this.waiting.add(onConnect);
      process.once('beforeExit', onBeforeExit);
    });
  }

  close(): void {
    unsubscribe(AGENT_CONNECT_CHANNEL, this.listener);
    this.waiting.clear();
  }
}
