#!/usr/bin/env node
// Makes a fresh clone runnable: `npm test`, `npm run demo` and `npm run bench` call this first.
// 1. Node >= 20.
// 2. npm packages: `npm ci` when node_modules is missing or was installed from another package-lock.json.
// 3. Debian packages the offline engines and some tests use: installed with apt-get when running as root;
//    otherwise a clear message says which are missing (the tests that need them skip and say why).
// 4. node-llama-cpp (an optional peer dependency) into .cache/, linked into node_modules (llama-cpp-install.mjs).
// Plain JavaScript with no dependencies: it runs before anything is installed.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeLlamaCpp } from './llama-cpp-install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages, each with the binary or file whose presence tells it is installed. */
const DEBIAN_PACKAGES = [
  { name: 'sox', probe: '/usr/bin/sox', why: 'checks that written WAV files are readable' },
  { name: 'espeak-ng', probe: '/usr/bin/espeak-ng', why: 'EspeakTTSService and its tests' },
  { name: 'libsphinxbase3', probe: '/usr/share/doc/libsphinxbase3/copyright', why: 'needed by libpocketsphinx3' },
  { name: 'libpocketsphinx3', probe: '/usr/share/doc/libpocketsphinx3/copyright', why: 'PocketsphinxSTTService, the offline STT of the demo' },
  { name: 'pocketsphinx-en-us', probe: '/usr/share/pocketsphinx/model/en-us/en-us.lm.bin', why: 'the US English model of PocketsphinxSTTService' },
  { name: 'flite', probe: '/usr/bin/flite', why: 'caller speech of the side-by-side benchmarks (npm run bench -- --peers), made as the peer harness makes it' },
  { name: 'chromium', probe: '/usr/bin/chromium', why: 'the browser tests of the dev softphone (test/slow, driven by playwright-core)' },
];

function log(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    log(`Node ${process.versions.node} is too old: piopiy-ai needs Node 20 or newer.`);
    process.exit(1);
  }
}

function ensureNpmPackages() {
  const lockPath = join(root, 'package-lock.json');
  const stampPath = join(root, 'node_modules', '.piopiy-bootstrap');
  const lockHash = createHash('sha256').update(readFileSync(lockPath)).digest('hex');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === lockHash) return;
  log('installing npm packages (npm ci) ...');
  // Redirect npm's stdout to stderr so commands that print JSON on stdout (bench, demo --json) stay clean.
  const status = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', process.stderr, 'inherit'],
  }).status;
  if (status !== 0) {
    log('npm ci failed; see the output above.');
    process.exit(status ?? 1);
  }
  writeFileSync(stampPath, lockHash);
}

function ensureDebianPackages() {
  if (process.env.PIOPIY_SKIP_APT === '1') return;
  const missing = DEBIAN_PACKAGES.filter((p) => !existsSync(p.probe));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    log(`optional Debian packages missing: ${names.join(' ')}.`);
    for (const p of missing) log(`  ${p.name}: ${p.why}`);
    log(`install them with: sudo apt-get install -y ${names.join(' ')} (tests that need them are skipped)`);
    return;
  }
  log(`installing Debian packages: ${names.join(' ')} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { env, stdio: ['ignore', process.stderr, 'inherit'] };
  if (run('apt-get', ['update', '-qq'], quiet) !== 0 || run('apt-get', ['install', '-y', '-qq', ...names], quiet) !== 0) {
    log(`apt-get could not install ${names.join(' ')}; tests that need them are skipped.`);
  }
}

checkNode();
ensureNpmPackages();
ensureDebianPackages();
ensureNodeLlamaCpp(root, log);
