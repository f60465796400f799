// `piopiy-ai start --workers N`: the flags, and the supervisor's life in the CLI process (start, SIGTERM, exit).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolveAgentSettings } from '../agent/agent-options.js';
import { SignalingInviteSource } from '../agent/signaling-invite-source.js';
import type { InviteSource } from '../agent/invite-source.js';
import { getDefaultLogger } from '../logging/index.js';
import { operationsFromEnvironment } from '../operations/index.js';
import { systemClock } from '../runtime/clock.js';
import { agentFilePath } from './agent-file.js';
import { CliError } from './errors.js';
import { FirstWorkerFailed, Supervisor } from './supervisor/supervisor.js';
import { DEFAULT_WORKER_LIVENESS, type WorkerLivenessOptions } from './supervisor/worker-liveness.js';

export interface StartWorkerFlags {
  workers?: string;
  workerMemoryMb?: string;
  workerPingMs?: string;
  workerTimeoutMs?: string;
  workerStartTimeoutMs?: string;
}

export interface WorkerSettings {
  /** 1: no supervisor, the agent file runs in this process. */
  readonly workers: number;
  readonly workerMemoryMb: number | undefined;
  readonly liveness: WorkerLivenessOptions;
}

/** `--workers`, else PIOPIY_WORKERS, else one per core this process may use. */
export function parseWorkerFlags(flags: StartWorkerFlags, env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const typed = flags.workers ?? (env.PIOPIY_WORKERS?.trim() || undefined);
  const workers = typed === undefined ? usableCores() : Number(typed);
  if (typed !== undefined && (!/^\d+$/.test(typed) || workers < 1 || workers > 256)) {
    throw new CliError(`--workers (or PIOPIY_WORKERS) must be a number of processes (1 to 256), got ${typed}`);
  }
  const memory = flags.workerMemoryMb;
  if (memory !== undefined && (!/^\d+$/.test(memory) || Number(memory) < 64)) {
    throw new CliError(`--worker-memory-mb must be a whole number of megabytes (at least 64), got ${memory}`);
  }
  if (memory !== undefined && workers === 1) {
    throw new CliError('--worker-memory-mb needs worker processes to replace: give --workers 2 or more (one process cannot restart itself)');
  }
  return { workers, workerMemoryMb: memory === undefined ? undefined : Number(memory), liveness: parseLiveness(flags) };
}

function parseLiveness(flags: StartWorkerFlags): WorkerLivenessOptions {
  const ms = (typed: string | undefined, flag: string, fallback: number): number => {
    if (typed === undefined) return fallback;
    if (!/^\d+$/.test(typed) || Number(typed) < 50) throw new CliError(`${flag} must be a whole number of milliseconds (at least 50), got ${typed}`);
    return Number(typed);
  };
  const intervalMs = ms(flags.workerPingMs, '--worker-ping-ms', DEFAULT_WORKER_LIVENESS.intervalMs);
  const timeoutMs = ms(flags.workerTimeoutMs, '--worker-timeout-ms', Math.max(DEFAULT_WORKER_LIVENESS.timeoutMs, intervalMs * 2));
  if (timeoutMs < intervalMs * 2) {
    // One late answer must not kill a worker: the timeout spans at least two pings.
    throw new CliError(`--worker-timeout-ms (${timeoutMs}) must be at least twice --worker-ping-ms (${intervalMs})`);
  }
  const startTimeoutMs = ms(flags.workerStartTimeoutMs, '--worker-start-timeout-ms', DEFAULT_WORKER_LIVENESS.startTimeoutMs);
  return { intervalMs, timeoutMs, startTimeoutMs };
}

/**
 * The cores this process may use: `os.availableParallelism()` (CPU affinity), capped by a cgroup v2 CPU quota
 * (`cpu.max`, what a container's CPU limit sets), which Node 20 does not apply: a pod limited to one core on a
 * 32-core node must not fork 32 workers of ~110 MB each.
 */
export function usableCores(cpuMax: string | undefined = readCpuMax()): number {
  const cores = availableParallelism();
  const [quota, period] = (cpuMax ?? '').trim().split(/\s+/).map(Number);
  if (quota === undefined || period === undefined || !Number.isFinite(quota) || !Number.isFinite(period) || period <= 0) return cores;
  return Math.max(1, Math.min(cores, Math.ceil(quota / period)));
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8'); // "max 100000" when unlimited: NaN quota, ignored
  } catch {
    return undefined;
  }
}

/** Runs the supervisor until SIGTERM/SIGINT has drained every worker, then exits the process with 0. */
export async function runSupervisor(file: string, flags: WorkerSettings): Promise<void> {
  const path = agentFilePath(file);
  // Missing AGENT_ID / AGENT_TOKEN: the first worker's Agent says so first, as one process would.
  let agent: ReturnType<typeof resolveAgentSettings> | undefined;
  const settings = (): ReturnType<typeof resolveAgentSettings> => (agent ??= resolveAgentSettings({ createSession: () => undefined }));
  const logger = getDefaultLogger().child({ component: 'supervisor' });
  const secs = Number(process.env.PIOPIY_DRAIN_SECS ?? '');
  const drainMs = process.env.PIOPIY_DRAIN_SECS?.trim() && Number.isFinite(secs) && secs >= 0 ? secs * 1000 : 10_000;
  const supervisor = new Supervisor({
    agentFile: path,
    workers: flags.workers,
    workerMemoryMb: flags.workerMemoryMb,
    liveness: flags.liveness,
    drainMs,
    commandLine: ['piopiy-ai', ...process.argv.slice(2)].join(' '),
    inviteSource: lazySignaling(() => {
      const { agentId, agentToken, signalingUrl } = settings();
      return new SignalingInviteSource({ agentId, agentToken, url: signalingUrl, connectTimeoutMs: 10_000, clock: systemClock, logger });
    }),
    operations: operationsFromEnvironment(),
    clock: systemClock,
    logger,
  });
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'draining every worker');
    void supervisor.shutdown().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await supervisor.start();
  } catch (error) {
    // The worker printed the agent file's error; the supervisor only passes its exit code on.
    if (error instanceof FirstWorkerFailed) process.exit(error.exitCode);
    throw error;
  }
}

/** A signaling source made when first opened: its settings are read only once the first worker is ready. */
function lazySignaling(make: () => InviteSource): InviteSource {
  let source: InviteSource | undefined;
  return {
    get connected() {
      return source?.connected ?? false;
    },
    open(handlers) {
      source ??= make();
      return source.open(handlers);
    },
    close() {
      source?.close();
    },
  };
}
