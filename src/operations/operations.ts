// One Agent's operations: its metrics registry, its event-loop stall monitor and its HTTP endpoints. The Agent owns
// one when `operations` is configured (or PIOPIY_OPERATIONS_PORT is set, as `piopiy-ai start` does) and tells it
// when calls start and end; everything else it reads from the Agent's status when asked.
import type { Logger } from '../logging/index.js';
import type { FrameObserver } from '../pipeline/observer.js';
import { ConfigurationProblems } from '../runtime/configuration-error.js';
import { CallMetricsObserver } from './call-metrics-observer.js';
import { AgentMetrics, type CallEndReason } from './metrics.js';
import { OperationsServer, type Health, type Readiness, type WorkersHealth } from './server.js';
import { StallMonitor, type EventLoopStall } from './stall-monitor.js';
import { mergeWorkerMetrics, type WorkerMetricsSnapshot } from './worker-metrics.js';

export interface OperationsOptions {
  /** Port of the /healthz, /readyz and /metrics endpoints; 0 picks a free one (read it from `port`). */
  port: number;
  /**
   * Address to listen on. Default `127.0.0.1`: the endpoints say how busy the agent is, so they are not offered
   * to the network unless asked; in a container give `0.0.0.0` (`piopiy-ai start` does).
   */
  host?: string;
  /** An event-loop block longer than this is logged and counted as a stall. Default 100 ms. */
  stallThresholdMs?: number;
  /** /healthz fails while the event loop has been delayed this long in the last 10-20 s. Default 5000 ms. */
  unhealthyDelayMs?: number;
  /** Also export prom-client's process metrics (memory, CPU, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

/**
 * What the supervisor of `piopiy-ai start --workers N` adds to its operations, and what its workers leave out.
 * @internal
 */
export interface OperationsHooks {
  /** Serve the HTTP endpoints. Default true; a worker only keeps metrics for its supervisor to collect. */
  readonly serve?: boolean;
  /** The workers' registries, merged into /metrics. */
  workerMetrics?(): Promise<readonly WorkerMetricsSnapshot[]>;
  /** The workers' liveness: /healthz fails while no worker answers. */
  workersHealth?(): WorkersHealth;
}

/** What the Agent reports about itself when asked. */
export interface AgentStatus {
  readonly connected: boolean;
  readonly draining: boolean;
  readonly activeCallIds: readonly string[];
  readonly maxCalls: number | undefined;
}

/**
 * The operations options from the environment: PIOPIY_OPERATIONS_PORT (empty, unset or `off`: none) and
 * PIOPIY_OPERATIONS_HOST. Throws a ConfigurationError for a port that is not one.
 */
export function operationsFromEnvironment(env: NodeJS.ProcessEnv = process.env): OperationsOptions | undefined {
  const raw = env.PIOPIY_OPERATIONS_PORT?.trim();
  if (raw === undefined || raw === '' || raw === 'off') return undefined;
  const problems = new ConfigurationProblems('Agent');
  const port = /^\d+$/.test(raw) ? Number(raw) : raw;
  problems.number(port, { option: 'operations.port', variable: 'PIOPIY_OPERATIONS_PORT', purpose: 'the port of the operations endpoints' }, isPort, 'a port number (0 to 65535)');
  problems.throwIfAny();
  const host = env.PIOPIY_OPERATIONS_HOST?.trim();
  return { port: port as number, ...(host === undefined || host === '' ? {} : { host }) };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

export class AgentOperations {
  readonly metrics: AgentMetrics;
  readonly stallMonitor: StallMonitor;
  private readonly server: OperationsServer;
  private readonly stallListeners = new Set<(stall: EventLoopStall) => void>();

  constructor(
    private readonly options: OperationsOptions,
    private readonly status: () => AgentStatus,
    private readonly logger: Logger,
    private readonly hooks: OperationsHooks = {},
  ) {
    const problems = new ConfigurationProblems('Agent');
    problems.number(options.port, { option: 'operations.port', purpose: 'the port of the operations endpoints' }, isPort, 'a port number (0 to 65535)');
    problems.throwIfAny();
    this.metrics = new AgentMetrics(
      () => {
        const readiness = this.readiness();
        return { activeCalls: readiness.activeCalls, maxCalls: readiness.maxCalls, ready: readiness.ready };
      },
      { processMetrics: options.processMetrics },
    );
    this.stallMonitor = new StallMonitor({
      thresholdMs: options.stallThresholdMs,
      activeCallIds: () => this.status().activeCallIds,
      logger,
      onStall: (stall) => {
        this.metrics.stalls.inc();
        this.metrics.stallDuration.observe(stall.durationMs / 1000);
        for (const listener of this.stallListeners) listener(stall);
      },
    });
    this.server = new OperationsServer(
      {
        health: () => this.health(),
        readiness: () => this.readiness(),
        metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metricsText() }),
      },
      logger,
    );
  }

  /** Starts the stall monitor and the endpoints. */
  async start(): Promise<void> {
    this.stallMonitor.start();
    if (this.hooks.serve === false) return;
    const host = this.options.host ?? '127.0.0.1';
    await this.server.listen(this.options.port, host);
    this.logger.info({ port: this.server.port, host }, 'operations endpoints: /healthz /readyz /metrics');
  }

  /** The endpoints' port once started (the real one when 0 was asked). */
  get port(): number | undefined {
    return this.server.port;
  }

  /** Calls `listener` with every stall; returns the function that stops it. */
  onStall(listener: (stall: EventLoopStall) => void): () => void {
    this.stallListeners.add(listener);
    return () => this.stallListeners.delete(listener);
  }

  health(): Health {
    const eventLoopDelayMs = Math.round(this.stallMonitor.recentMaxDelayMs);
    const healthy = eventLoopDelayMs < (this.options.unhealthyDelayMs ?? 5000);
    const workers = this.hooks.workersHealth?.();
    if (workers === undefined) return { healthy, eventLoopDelayMs };
    // One hung worker is the supervisor's to replace (it kills it past the ping timeout), not a reason to restart
    // the whole pod and every call in it; a supervisor none of whose workers answers serves no call at all.
    return { healthy: healthy && workers.responsive > 0, eventLoopDelayMs, workers };
  }

  /** The Prometheus text of this process, with its workers' metrics merged in when it is a supervisor. */
  async metricsText(): Promise<string> {
    if (this.hooks.workerMetrics === undefined) return this.metrics.text();
    const merged = await mergeWorkerMetrics(this.metrics.registry, await this.hooks.workerMetrics());
    return merged.metrics();
  }

  readiness(): Readiness {
    const status = this.status();
    const activeCalls = status.activeCallIds.length;
    const belowCapacity = status.maxCalls === undefined || activeCalls < status.maxCalls;
    return {
      ready: status.connected && !status.draining && belowCapacity,
      connected: status.connected,
      draining: status.draining,
      activeCalls,
      maxCalls: status.maxCalls,
    };
  }

  /** The observers to give the call's pipeline. */
  callStarted(): readonly FrameObserver[] {
    return [new CallMetricsObserver(this.metrics)];
  }

  callEnded(reason: CallEndReason): void {
    this.metrics.calls.inc({ reason });
  }

  callRefused(reason: 'capacity' | 'draining'): void {
    this.metrics.refusedCalls.inc({ reason });
  }

  async close(): Promise<void> {
    this.stallMonitor.stop();
    await this.server.close();
  }
}
