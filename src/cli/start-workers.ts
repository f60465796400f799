// `piopiy-ai start --workers N`: the flags, and the supervisor's life in the CLI process (start, SIGTERM, exit).
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

export interface StartWorkerFlags {
  workers?: string;
  workerMemoryMb?: string;
}

export interface WorkerSettings {
  /** 1: no supervisor, the agent file runs in this process. */
  readonly workers: number;
  readonly workerMemoryMb: number | undefined;
}

export function parseWorkerFlags(flags: StartWorkerFlags): WorkerSettings {
  const workers = flags.workers === undefined ? availableParallelism() : Number(flags.workers);
  if (flags.workers !== undefined && (!/^\d+$/.test(flags.workers) || workers < 1 || workers > 256)) {
    throw new CliError(`--workers must be a number of processes (1 to 256), got ${flags.workers}`);
  }
  const memory = flags.workerMemoryMb;
  if (memory !== undefined && (!/^\d+$/.test(memory) || Number(memory) < 64)) {
    throw new CliError(`--worker-memory-mb must be a whole number of megabytes (at least 64), got ${memory}`);
  }
  return { workers, workerMemoryMb: memory === undefined ? undefined : Number(memory) };
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
