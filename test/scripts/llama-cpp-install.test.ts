// The decisions of scripts/llama-cpp-install.mjs (run by the bootstrap before npm test, demo and bench): where the
// prebuilt binary can run, when the cache is installed again, and what happens to node_modules/node-llama-cpp.
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LLAMA_PACKAGES, ensureNodeLlamaCpp, installNeeded, linkAction, unsupportedReason } from '../../scripts/llama-cpp-install.mjs';

const expectedTarget = '/repo/.cache/node-llama-cpp/node_modules/node-llama-cpp';

describe('llama-cpp-install', () => {
  it('installs the library and the linux-x64 CPU binary of one pinned version', () => {
    expect(LLAMA_PACKAGES).toEqual(['node-llama-cpp@3.22.1', '@node-llama-cpp/linux-x64@3.22.1']);
  });

  it('runs only on glibc linux-x64, and says why not elsewhere', () => {
    expect(unsupportedReason({ platform: 'linux', arch: 'x64', glibcVersion: '2.36' })).toBeUndefined();
    expect(unsupportedReason({ platform: 'linux', arch: 'arm64', glibcVersion: '2.36' })).toBe('linux-arm64 is not linux-x64');
    expect(unsupportedReason({ platform: 'darwin', arch: 'x64', glibcVersion: undefined })).toBe('darwin-x64 is not linux-x64');
    expect(unsupportedReason({ platform: 'linux', arch: 'x64', glibcVersion: undefined })).toMatch(/no glibc/);
  });

  it('installs when the stamp is missing or of another version, or the package is gone', () => {
    const stamp = LLAMA_PACKAGES.join(' ');
    expect(installNeeded({ stamp, packageDirExists: true })).toBe(false);
    expect(installNeeded({ stamp: undefined, packageDirExists: true })).toBe(true);
    expect(installNeeded({ stamp: 'node-llama-cpp@3.21.0 @node-llama-cpp/linux-x64@3.21.0', packageDirExists: true })).toBe(true);
    expect(installNeeded({ stamp, packageDirExists: false })).toBe(true);
  });

  it('links when missing, repairs a dangling link or one to another checkout, never touches a real install', () => {
    expect(linkAction({ entry: 'none', linkTarget: undefined, targetExists: false, expectedTarget })).toBe('create');
    expect(linkAction({ entry: 'link', linkTarget: expectedTarget, targetExists: true, expectedTarget })).toBe('keep');
    expect(linkAction({ entry: 'link', linkTarget: '/repo/./.cache/node-llama-cpp/node_modules/node-llama-cpp/', targetExists: true, expectedTarget })).toBe('keep');
    expect(linkAction({ entry: 'link', linkTarget: expectedTarget, targetExists: false, expectedTarget })).toBe('repair');
    expect(linkAction({ entry: 'link', linkTarget: '/old-clone/.cache/node-llama-cpp/node_modules/node-llama-cpp', targetExists: true, expectedTarget })).toBe('repair');
    expect(linkAction({ entry: 'directory', linkTarget: undefined, targetExists: true, expectedTarget })).toBe('keep');
  });
});

describe.skipIf(unsupportedReason({ platform: process.platform, arch: process.arch, glibcVersion: (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime }) !== undefined)(
  'ensureNodeLlamaCpp on a checkout whose cache is installed (skipped: not glibc linux-x64)',
  () => {
    it('repairs a link left by a moved checkout, then leaves it alone; logs nothing', () => {
      const root = mkdtempSync(join(tmpdir(), 'piopiy-llama-install-'));
      try {
        const cache = join(root, '.cache', 'node-llama-cpp');
        const packageDir = join(cache, 'node_modules', 'node-llama-cpp');
        mkdirSync(packageDir, { recursive: true });
        writeFileSync(join(packageDir, 'package.json'), '{}');
        writeFileSync(join(cache, '.piopiy-installed'), LLAMA_PACKAGES.join(' '));
        mkdirSync(join(root, 'node_modules'));
        const link = join(root, 'node_modules', 'node-llama-cpp');
        symlinkSync('/moved-away/.cache/node-llama-cpp/node_modules/node-llama-cpp', link, 'dir');
        const logged: string[] = [];
        ensureNodeLlamaCpp(root, (line) => logged.push(line));
        expect(readlinkSync(link)).toBe(packageDir);
        ensureNodeLlamaCpp(root, (line) => logged.push(line));
        expect(readlinkSync(link)).toBe(packageDir);
        expect(logged).toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  },
);
