// node-llama-cpp for the repository's own tests, demo and benchmarks (scripts/bootstrap.mjs calls this).
// It is an optional peer dependency of piopiy-ai, not a devDependency: `npm ci` would fetch its CUDA and Vulkan
// builds (~390 MB) as optional dependencies every time. Instead the CPU build alone is installed into a gitignored
// cache (.cache/node-llama-cpp) and node_modules/node-llama-cpp is linked to it, so `import('node-llama-cpp')`
// resolves by name exactly as in a user's install. Plain JavaScript with no dependencies (it runs before anything
// is installed); the decisions are pure functions, tested in test/scripts/llama-cpp-install.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const NODE_LLAMA_CPP_VERSION = '3.22.1';
/** The packages installed: the library and the prebuilt CPU binary of the one platform supported here. */
export const LLAMA_PACKAGES = [`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, `@node-llama-cpp/linux-x64@${NODE_LLAMA_CPP_VERSION}`];
const STAMP = LLAMA_PACKAGES.join(' ');

/**
 * Why this machine cannot use the prebuilt binary installed here, or undefined when it can.
 * `glibcVersion` is `process.report.getReport().header.glibcVersionRuntime` (undefined on musl and non-Linux).
 */
export function unsupportedReason({ platform, arch, glibcVersion }) {
  if (platform !== 'linux' || arch !== 'x64') return `${platform}-${arch} is not linux-x64`;
  if (glibcVersion === undefined) return 'this Linux has no glibc (musl?)';
  return undefined;
}

/** Whether the cache must be (re)installed: no stamp, another version, or the package directory gone. */
export function installNeeded({ stamp, packageDirExists }) {
  return stamp !== STAMP || !packageDirExists;
}

/**
 * What to do with node_modules/node-llama-cpp, given what is there:
 * 'keep' (a link to the cache already, or a real install the user made: never replaced), 'create', 'repair'
 * (a link dangling or pointing elsewhere: a fresh clone, a moved checkout).
 */
export function linkAction({ entry, linkTarget, targetExists, expectedTarget }) {
  if (entry === 'none') return 'create';
  if (entry === 'directory') return 'keep';
  if (resolve(linkTarget) === resolve(expectedTarget) && targetExists) return 'keep';
  return 'repair';
}

function describeEntry(path) {
  try {
    const stat = lstatSync(path);
    if (!stat.isSymbolicLink()) return { entry: 'directory', linkTarget: undefined };
    const target = readlinkSync(path);
    return { entry: 'link', linkTarget: resolve(dirname(path), target) };
  } catch {
    return { entry: 'none', linkTarget: undefined };
  }
}

/** Installs node-llama-cpp into `<root>/.cache/node-llama-cpp` when needed and links it; never fails the caller. */
export function ensureNodeLlamaCpp(root, log) {
  if (process.env.PIOPIY_SKIP_LLAMA_CPP === '1') return;
  const reason = unsupportedReason({
    platform: process.platform,
    arch: process.arch,
    glibcVersion: process.report?.getReport?.().header?.glibcVersionRuntime,
  });
  if (reason !== undefined) {
    log(`node-llama-cpp not installed: ${reason}; the LlamaCppLLMService tests are skipped`);
    return;
  }
  const cache = join(root, '.cache', 'node-llama-cpp');
  const packageDir = join(cache, 'node_modules', 'node-llama-cpp');
  const stampPath = join(cache, '.piopiy-installed');
  const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : undefined;
  if (installNeeded({ stamp, packageDirExists: existsSync(join(packageDir, 'package.json')) })) {
    log(`installing ${LLAMA_PACKAGES.join(' and ')} into .cache/node-llama-cpp (CPU build only) ...`);
    mkdirSync(cache, { recursive: true });
    // Its own package.json, so npm treats the cache as the project and never walks up to ours.
    writeFileSync(join(cache, 'package.json'), '{ "name": "piopiy-ai-node-llama-cpp-cache", "private": true }\n');
    const result = spawnSync(
      'npm',
      ['install', '--prefix', cache, '--omit=optional', '--no-save', '--no-audit', '--no-fund', ...LLAMA_PACKAGES],
      {
        cwd: root,
        // Its postinstall must neither download nor build llama.cpp: the prebuilt package is the binary.
        env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
        stdio: ['ignore', process.stderr, 'inherit'],
      },
    );
    if (result.status !== 0 || !existsSync(join(packageDir, 'package.json'))) {
      log('node-llama-cpp could not be installed (see above); the LlamaCppLLMService tests are skipped');
      return;
    }
    writeFileSync(stampPath, STAMP);
  }
  const linkPath = join(root, 'node_modules', 'node-llama-cpp');
  const { entry, linkTarget } = describeEntry(linkPath);
  const action = linkAction({ entry, linkTarget, targetExists: linkTarget !== undefined && existsSync(linkTarget), expectedTarget: packageDir });
  if (action === 'keep') return;
  try {
    if (action === 'repair') rmSync(linkPath, { force: true });
    symlinkSync(packageDir, linkPath, 'dir');
  } catch (error) {
    log(`could not link node_modules/node-llama-cpp to the cache: ${error.message}; the LlamaCppLLMService tests are skipped`);
  }
}
