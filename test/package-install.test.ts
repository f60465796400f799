// What a user's `npm install piopiy-ai` runs: npm runs the install scripts of every production dependency, and one
// that downloads (onnxruntime-node after 1.17.0 fetches CUDA/TensorRT libraries from NuGet on linux/x64) fails the
// whole install on a machine that reaches only the npm registry. So every production package with an install
// script is listed here with what its script does; a new one fails this test until someone has read its script.
// The install itself is tested in test/slow/consumer-install.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

interface LockEntry {
  version?: string;
  dev?: boolean;
  hasInstallScript?: boolean;
}

const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')) as { packages: Record<string, LockEntry> };

/** Production packages whose install script was read, and why it downloads nothing beyond the npm registry. */
const READ_INSTALL_SCRIPTS: Readonly<Record<string, string>> = {
  koffi: 'loads the prebuilt binary shipped in the package (builds from source with CMake only if that fails)',
  esbuild: "checks its platform package (an optional dependency); fetches only that package, from the npm registry",
  // Through onnxruntime-web.
  protobufjs: "warns if the parent package.json names protobufjs with another version scheme; reads local files only",
};

function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

describe('a consumer install', () => {
  it('runs no install script that has not been read, among production dependencies', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.dev !== true && entry.hasInstallScript === true)
      .map(([path]) => packageName(path));
    expect(withScripts.filter((name) => !(name in READ_INSTALL_SCRIPTS))).toEqual([]);
  });

  it('takes onnxruntime-node 1.17.0, the last release whose install downloads nothing, and nothing newer', () => {
    const onnxruntimeNode = Object.entries(lock.packages).filter(([path]) => packageName(path) === 'onnxruntime-node');
    expect(onnxruntimeNode.map(([, entry]) => entry.version)).toEqual(['1.17.0']);
    const installed = JSON.parse(readFileSync(`${root}node_modules/onnxruntime-node/package.json`, 'utf8')) as {
      version: string;
      scripts?: Record<string, string>;
    };
    expect(installed.version).toBe('1.17.0');
    expect(Object.keys(installed.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
  });

  it('needs no project npm config to install', () => {
    expect(readFileSync(`${root}.npmrc`, 'utf8')).not.toMatch(/onnxruntime/);
  });
});
