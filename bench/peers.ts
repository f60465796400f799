// The peer of the side-by-side figures: LiveKit Agents for Node, measured by the harness in
// ../shared/peers/livekit-agents (see its README: same fakes, same audio, same pass criteria as ours).
// Nothing of the peer is committed here: its three files are copied into .bench/ (git-ignored) and installed there
// from its own package-lock.json, so the shared folder stays as it is and a repeated run reuses the install.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PEER_FILES = ['bench.mjs', 'package.json', 'package-lock.json'] as const;

export const PEER_RESULTS_FILE = (root: string): string => join(root, '.bench', 'peer-results.jsonl');

export type PeerSetup = { ok: true; dir: string } | { ok: false; error: string };

/** Where the peer harness is: PIOPIY_PEER_LIVEKIT_DIR, else ../shared/peers/livekit-agents beside the repository. */
export function peerSourceDir(root: string): string {
  return resolve(process.env.PIOPIY_PEER_LIVEKIT_DIR ?? join(root, '..', 'shared', 'peers', 'livekit-agents'));
}

export async function preparePeer(root: string): Promise<PeerSetup> {
  const source = peerSourceDir(root);
  const missing = PEER_FILES.filter((f) => !existsSync(join(source, f)));
  if (missing.length > 0) {
    return {
      ok: false,
      error: `peer harness not found at ${source} (missing ${missing.join(', ')}); set PIOPIY_PEER_LIVEKIT_DIR`,
    };
  }
  if (spawnSync('flite', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    return { ok: false, error: 'the peer harness makes its caller speech with flite: apt-get install -y flite' };
  }
  const dir = join(root, '.bench', 'peer-livekit-agents');
  mkdirSync(dir, { recursive: true });
  for (const file of PEER_FILES) copyFileSync(join(source, file), join(dir, file));

  // Reinstall only when the peer's lock file changed since the last install.
  const stamp = createHash('sha256').update(readFileSync(join(dir, 'package-lock.json'))).digest('hex');
  const stampFile = join(dir, 'node_modules', '.piopiy-install-stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    process.stderr.write(`[bench] installing the peer harness (npm ci in ${dir}) ...\n`);
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      // onnxruntime-node's postinstall downloads GPU binaries from the network; its CPU binary ships in the package.
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_onnxruntime_node_install: 'skip' },
    });
    if (install.status !== 0) return { ok: false, error: `npm ci of the peer harness failed (exit ${install.status ?? install.signal})` };
    writeFileSync(stampFile, stamp);
  }
  return { ok: true, dir };
}

/**
 * The peer's arguments from ours: the measurement window (`--duration=S`, `--turns=N`, `--only=latency,...`) is the
 * same for both sides; `--peer-ns=` sets the peer's ladder of session counts (its default: 5,10,20,40,80,160).
 */
export function peerArguments(ours: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of ours) {
    if (/^--(duration|turns|only)=/.test(arg)) out.push(arg);
    const ladder = /^--peer-ns=(.+)$/.exec(arg);
    if (ladder !== null) out.push(`--ns=${ladder[1]}`);
  }
  return out;
}
