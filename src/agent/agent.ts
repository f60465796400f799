// Agent: connects to Piopiy signaling (Socket.IO, auth `{ agent_id, token }`), and runs one session per
// `join_room` invite until the call ends. Sessions are independent: each has its own media connection, its own
// async context (see session-context.ts) and its own abort signal; a signaling drop does not touch them (the
// client reconnects with backoff), an exception in one `createSession`, or an error nothing catches in a call's code
// (call-errors.ts), ends that call only.
import { sleep, systemClock, type Clock, type ClockTimer } from '../runtime/clock.js';
import { channel } from 'node:diagnostics_channel';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import type { CallTransport } from '../transports/base/transport.js';
import { LiveKitTransport } from '../transports/livekit/index.js';
import { SimulatorMediaTransport } from '../transports/simulator/index.js';
import { MAX_METADATA_CHARS, parseInvite, type CallInvite } from './invite.js';
import { CallFailedError, runInSession, type CallSession } from '../transports/base/call-session.js';
import { claimCallErrors, installCallErrorGuard, type CallErrorOrigin } from './call-errors.js';
import { prewarmSileroVAD, type PrewarmFunction, type SileroPrewarmOptions } from './prewarm.js';
import { DEFAULT_SIGNALING_URL, resolveAgentSettings, type ResolvedAgentSettings } from './agent-options.js';
import type { InviteSource } from './invite-source.js';
import { SignalingInviteSource } from './signaling-invite-source.js';
import { ipcInviteSourceFromEnvironment } from './ipc-invite-source.js';
import {
  AgentOperations,
  AgentTracing,
  operationsFromEnvironment,
  type CallEndReason,
  type OperationsOptions,
  type TracingOptions,
} from '../operations/index.js';

export { DEFAULT_SIGNALING_URL };

/**
 * Every Agent publishes the life of its calls on this diagnostics channel, so monitoring and benchmarks can time a
 * call from its invite without wrapping user code. Publishing costs nothing when nobody subscribes.
 */
export const AGENT_CHANNEL = 'piopiy-ai:agent';
const diagnostics = channel(AGENT_CHANNEL);

/**
 * `connect()` announces itself here, process-wide (a channel is shared even by two copies of this package), so the
 * CLI can tell an agent file that never connects its Agent from one that is still starting.
 */
export const AGENT_CONNECT_CHANNEL = 'piopiy-ai:agent-connect';
export interface AgentConnectMessage {
  agentId: string;
}
const connectChannel = channel(AGENT_CONNECT_CHANNEL);

export type AgentDiagnostic =
  /** A `join_room` was accepted and its session is starting; `at` is when the invite was received. */
  | { event: 'join-room'; agentId: string; callId: string; roomName: string; at: number }
  /** The session has ended and its media is closed. */
  | { event: 'call-ended'; agentId: string; callId: string; roomName: string; at: number };

/** Makes the media transport of one call from its invite. */
export type TransportFactory = (invite: CallInvite, logger: Logger) => CallTransport;

export interface AgentOptions {
  /** The AI agent's id from the Piopiy dashboard. Default: `process.env.AGENT_ID`. */
  agentId?: string | undefined;
  /** The AI agent's secret token from the Piopiy dashboard. Default: `process.env.AGENT_TOKEN`. */
  agentToken?: string | undefined;
  /** Runs one call; resolve when the call is over (`await voice.start()` does exactly that). */
  createSession: (call: CallSession) => Promise<void> | void;
  /**
   * The Piopiy signaling server. Default: `process.env.PIOPIY_SIGNALING_URL`, else `https://signaling.piopiy.com`.
   * The options above that read the environment use the variable only when the option is omitted.
   */
  signalingUrl?: string | undefined;
  /** Most calls served at once; invites beyond it are refused with a log line. Default: no limit. */
  maxSessions?: number;
  logger?: Logger;
  /** The clock of the agent's own timers (reconnection backoff, drain). Default: the system clock. */
  clock?: Clock;
  /** How long `connect()` waits for the signaling server. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Install SIGINT/SIGTERM handlers that shut the agent down gracefully. Default true. */
  handleSignals?: boolean;
  /** Default: LiveKit rooms for platform invites, the simulator's media for `piopiy-sim://` invites. */
  transportFactory?: TransportFactory;
  /**
   * Once-per-process work to finish before the agent takes calls — loading models, compiling engines, starting
   * worker threads — so the first caller does not wait for it (what a LiveKit worker's prewarm function is for).
   * `connect()` runs it before registering with signaling and resolves only once it is done; if it throws or
   * rejects, `connect()` rejects with "Agent: prewarm failed: ..." and the agent does not register. The engines
   * keep what they load in process-wide caches, so the warm-up returns nothing: e.g.
   * `prewarm: () => Promise.all([FliteTTSService.prewarm({ voice: 'slt' }), PocketsphinxSTTService.prewarm()])`.
   */
  prewarm?: PrewarmFunction;
  /**
   * Whether `connect()` also loads the Silero VAD model that `vad: true` uses (about 0.1 s, once per process).
   * Default: loaded, and a failure is only logged (an agent that never uses VAD still starts; its first call with
   * VAD reports the error); true, or options naming the model: a failure rejects `connect()`; false: not loaded
   * before the first call.
   */
  prewarmVAD?: boolean | SileroPrewarmOptions;
  /**
   * Whether an error that nothing catches in a call's code — a tool handler's floating promise, a throw from a timer
   * or a listener it set up — ends that call only (default true): it is logged once with the call's id, the caller
   * hears the VoiceAgent's `errorGoodbye`, and the process and every other call go on. Errors outside any call keep
   * Node's default (a crash, or your own `uncaughtException` / `unhandledRejection` handlers); those handlers do not
   * see the uncaught exceptions of calls (the Agent caught them). See docs/architecture.md, "Calls isolated from
   * each other's bugs". false: Node's default for every error.
   */
  isolateCallErrors?: boolean;
  /**
   * Serve /healthz, /readyz and /metrics (Prometheus) on this port, with an event-loop stall monitor; see
   * docs/deploy.md. Default: `PIOPIY_OPERATIONS_PORT` when set (`piopiy-ai start` sets it), else off; false: off.
   */
  operations?: OperationsOptions | false;
  /**
   * OpenTelemetry spans per call, turn, STT/LLM/TTS request and tool call (through @opentelemetry/api: no-ops until
   * the program registers an SDK, or gives `tracerProvider`). Transcripts only with `recordContent`. Default on;
   * false: none.
   */
  tracing?: TracingOptions | false;
  /**
   * How long `shutdown()` (and SIGTERM/SIGINT) lets calls in progress finish before ending them. Default:
   * `PIOPIY_DRAIN_SECS` seconds when set (the Kubernetes manifests in deploy/ set it below the grace period), else 10 000.
   */
  drainMs?: number;
  /**
   * Where invites come from. Default: Piopiy signaling (signalingUrl, agentId, agentToken) — or, in a worker
   * process of `piopiy-ai start --workers N`, its supervisor over IPC.
   */
  inviteSource?: InviteSource;
}

interface RunningSession {
  readonly session: CallSession;
  readonly controller: AbortController;
  readonly done: Promise<void>;
  /** Set when code of the call failed uncaught and the call is being ended for it. */
  failure?: { readonly error: unknown; readonly timer: ClockTimer };
  /** Why the call is ending, when something other than its own conversation ends it. */
  endReason?: CallEndReason;
}

/** How long a failed call may take to say its goodbye and end before its media is closed anyway. */
const FAILED_CALL_END_MS = 15_000;

export class Agent {
  private readonly options: AgentOptions & ResolvedAgentSettings;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sessions = new Map<string, RunningSession>();
  /** Health, readiness and metrics endpoints, when configured. */
  readonly operations: AgentOperations | undefined;
  private readonly tracing: AgentTracing | undefined;
  private readonly inviteSource: InviteSource;
  private opened = false;
  private accepting = false;
  private shutdownPromise: Promise<void> | undefined;
  private warming: Promise<void> | undefined;
  private warmedUp = false;
  private connecting = false;
  /** Releases the process-wide routing of calls' uncaught errors (installed with the first call). */
  private releaseCallErrors: (() => void) | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.logger.info({ signal }, 'shutting down');
    void this.shutdown();
  };

  /**
   * Throws a ConfigurationError listing every missing or invalid setting (AGENT_ID and AGENT_TOKEN unset, a
   * signalingUrl that is not a URL, ...) at once.
   */
  constructor(options: AgentOptions) {
    this.options = { ...options, ...resolveAgentSettings(options ?? {}) };
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? getDefaultLogger()).child({ agentId: this.options.agentId });
    const workerSource = options.inviteSource === undefined ? ipcInviteSourceFromEnvironment() : undefined;
    if (workerSource === undefined) {
      const operations = options.operations === false ? undefined : (options.operations ?? operationsFromEnvironment());
      this.operations = operations === undefined ? undefined : new AgentOperations(operations, () => this.status(), this.logger);
    } else {
      // A supervisor's worker serves no endpoints of its own, whatever the agent file asks: the supervisor serves
      // them for all workers (N workers binding one port would crash each other). It still counts its calls,
      // latencies and stalls, which the supervisor merges into its /metrics.
      const operations = options.operations === false ? undefined : { port: 0, ...options.operations };
      this.operations = operations === undefined ? undefined : new AgentOperations(operations, () => this.status(), this.logger, { serve: false });
      const registry = this.operations?.metrics.registry;
      if (registry !== undefined) workerSource.serveMetrics(() => registry.getMetricsAsJSON());
    }
    this.inviteSource =
      options.inviteSource ??
      workerSource ??
      new SignalingInviteSource({
        url: this.options.signalingUrl ?? DEFAULT_SIGNALING_URL,
        agentId: this.options.agentId,
        agentToken: this.options.agentToken,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
        clock: this.clock,
        logger: this.logger,
      });
    this.tracing = options.tracing === false ? undefined : new AgentTracing(options.tracing ?? {}, this.options.agentId);
  }

  private status(): { connected: boolean; draining: boolean; activeCallIds: string[]; maxCalls: number | undefined } {
    const activeCallIds = [...this.sessions.values()].map((r) => r.session.callId);
    return { connected: this.connected, draining: this.draining, activeCallIds, maxCalls: this.options.maxSessions };
  }

  /** Whether `shutdown()` has begun: no new calls are taken. */
  get draining(): boolean {
    return this.shutdownPromise !== undefined;
  }

  /** Calls in progress. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  get connected(): boolean {
    return this.opened && this.inviteSource.connected;
  }

  /** Whether the warm-up (`prewarm`, `prewarmVAD`) has completed. */
  get prewarmed(): boolean {
    return this.warmedUp;
  }

  /**
   * Runs the warm-up now: the Silero VAD model (unless `prewarmVAD: false`), then the `prewarm` function. Done once
   * per Agent; a failed warm-up is not remembered, so calling again retries it. `connect()` calls it first.
   */
  prewarm(): Promise<void> {
    if (this.warmedUp) return Promise.resolve();
    this.warming ??= this.runPrewarm().then(
      () => {
        this.warmedUp = true;
        this.warming = undefined;
      },
      (error: unknown) => {
        this.warming = undefined;
        throw error;
      },
    );
    return this.warming;
  }

  private async runPrewarm(): Promise<void> {
    const started = this.clock.now();
    const vad = this.options.prewarmVAD;
    if (vad !== false) {
      try {
        await prewarmSileroVAD(typeof vad === 'object' ? vad : {});
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (vad !== undefined) throw new Error(`Agent: prewarm failed: Silero VAD: ${message}`, { cause: error });
        this.logger.warn({ err: error }, 'could not preload the Silero VAD model; calls with VAD will load it');
      }
    }
    const prewarm = this.options.prewarm;
    if (prewarm !== undefined) {
      try {
        await prewarm();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`Agent: prewarm failed: ${message}`, { cause: error });
      }
    }
    this.logger.debug({ ms: Math.round(this.clock.now() - started) }, 'prewarmed');
  }

  /**
   * Warms up (see `prewarm`), then connects and authenticates; resolves once the agent is registered and serving
   * calls. Rejects with a clear error when the warm-up fails, on refused credentials or an unreachable server
   * (the initial connection is not retried).
   */
  async connect(): Promise<void> {
    if (this.opened || this.connecting) throw new Error('Agent.connect(): already connected');
    this.connecting = true;
    if (connectChannel.hasSubscribers) connectChannel.publish({ agentId: this.options.agentId } satisfies AgentConnectMessage);
    try {
      // Liveness is served during the warm-up too: a slow model load must not get the process restarted.
      await this.operations?.start();
      // Before registering: an invite must never wait for a model the agent could have loaded already.
      await this.prewarm();
      await this.connectSignaling();
    } catch (error) {
      await this.operations?.close();
      throw error;
    } finally {
      this.connecting = false;
    }
  }

  private async connectSignaling(): Promise<void> {
    // Accepting from before registration: the platform may send `join_room` along with its acknowledgement.
    this.accepting = true;
    try {
      await this.inviteSource.open({
        onInvite: (payload) => this.onJoinRoom(payload),
        onCancel: (payload) => this.onCancelRoom(payload),
        onFail: (roomName, reason) => this.failSession(roomName, reason),
      });
    } catch (error) {
      this.accepting = false;
      throw error;
    }
    this.opened = true;
    if (this.options.handleSignals ?? true) {
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
    }
  }

  /**
   * Stops taking calls, lets calls in progress finish for up to `drainMs`, then ends the rest. Idempotent;
   * resolves when every session has ended.
   */
  shutdown(options: { drainMs?: number } = {}): Promise<void> {
    this.shutdownPromise ??= this.drain(options.drainMs ?? this.options.drainMs ?? drainMsFromEnvironment() ?? 10_000);
    return this.shutdownPromise;
  }

  /** Ends one call now (what `cancel_room` does). Returns false when no such room is running. */
  cancelSession(roomName: string, reason = 'cancelled'): boolean {
    return this.endSession(roomName, reason, 'cancelled');
  }

  private endSession(roomName: string, reason: string, endReason: CallEndReason): boolean {
    const running = this.sessions.get(roomName);
    if (running === undefined) return false;
    running.endReason ??= endReason;
    running.controller.abort(new Error(reason));
    void running.session.transport.close().catch(() => undefined);
    return true;
  }

  private async drain(drainMs: number): Promise<void> {
    this.accepting = false;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    this.inviteSource.close();
    const running = [...this.sessions.values()];
    if (running.length > 0) {
      this.logger.info({ calls: running.length, drainMs }, 'waiting for calls in progress to finish');
      const drained = new AbortController();
      await Promise.race([
        Promise.allSettled(running.map((r) => r.done)),
        sleep(this.clock, drainMs, drained.signal),
      ]);
      drained.abort();
      for (const r of this.sessions.values()) this.endSession(r.session.roomName, 'agent shutting down', 'shutdown');
      await Promise.allSettled(running.map((r) => r.done));
    }
    await this.operations?.close();
    this.releaseCallErrors?.();
    this.releaseCallErrors = undefined;
    this.logger.info('agent stopped');
  }

  /** Returns whether a call was started for the invite. */
  private onJoinRoom(payload: unknown): boolean {
    const receivedAt = this.clock.now();
    const parsed = parseInvite(payload);
    if (!parsed.ok) {
      const room = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).room_name : undefined;
      this.logger.warn(
        { field: parsed.field, room: typeof room === 'string' ? room.slice(0, 256) : undefined },
        `join_room ignored: ${parsed.field} ${parsed.problem}`,
      );
      return false;
    }
    const invite = parsed.invite;
    const rawMetadata = (payload as Record<string, unknown>).metadata;
    if (typeof rawMetadata === 'string' && rawMetadata.length > MAX_METADATA_CHARS) {
      this.logger.warn({ callId: invite.callId, chars: rawMetadata.length }, 'join_room metadata too large; dropped');
    }
    if (!this.accepting) {
      this.operations?.callRefused('draining');
      this.logger.warn({ callId: invite.callId }, 'join_room ignored: the agent is shutting down');
      return false;
    }
    if (this.sessions.has(invite.roomName)) {
      this.logger.debug({ callId: invite.callId, room: invite.roomName }, 'join_room for a room already in progress; ignored');
      return false;
    }
    const max = this.options.maxSessions;
    if (max !== undefined && this.sessions.size >= max) {
      this.operations?.callRefused('capacity');
      this.logger.warn({ callId: invite.callId, maxSessions: max }, 'join_room refused: maxSessions calls already in progress');
      return false;
    }
    return this.startSession(invite, receivedAt);
  }

  private onCancelRoom(payload: unknown): void {
    const room = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).room_name : undefined;
    if (typeof room !== 'string' || room === '') {
      this.logger.warn('cancel_room ignored: room_name is missing');
      return;
    }
    if (this.cancelSession(room, 'cancel_room')) this.logger.info({ room }, 'call cancelled by the platform');
  }

  /**
   * Code running for `session` threw or rejected and nothing caught it (see call-errors.ts): the call ends, with the
   * VoiceAgent's goodbye (its signal's reason is a CallFailedError), and nothing else is touched.
   */
  private onCallError(session: CallSession, error: unknown, origin: CallErrorOrigin): void {
    const running = this.sessions.get(session.roomName);
    const log = { err: error, origin };
    if (running === undefined || running.session !== session) {
      session.logger.error(log, 'uncaught error in code of a call that has ended; ignored');
      return;
    }
    if (running.failure !== undefined) {
      if (running.failure.error !== error) session.logger.error(log, 'another uncaught error in this call, which is ending');
      return;
    }
    session.logger.error(log, 'uncaught error in this call: ending it (other calls go on)');
    this.endAsFailed(running, error);
  }

  private endAsFailed(running: RunningSession, error: unknown): void {
    const { session } = running;
    // A session that does not end by itself (no VoiceAgent, or one stuck) has its media closed after a while.
    const timer = this.clock.setTimeout(() => this.cancelSession(session.roomName, 'the call failed'), FAILED_CALL_END_MS);
    timer.unref();
    running.failure = { error, timer };
    running.endReason ??= 'failed';
    running.controller.abort(new CallFailedError(error));
  }

  /** Ends a call as failed (its caller hears the error goodbye): what a retiring worker does with its calls. */
  private failSession(roomName: string, reason: string): void {
    const running = this.sessions.get(roomName);
    if (running === undefined || running.failure !== undefined) return;
    running.session.logger.warn({ reason }, 'ending this call as failed');
    this.endAsFailed(running, new Error(reason));
  }

  private startSession(invite: CallInvite, receivedAt: number): boolean {
    const logger = this.logger.child({ callId: invite.callId });
    const controller = new AbortController();
    let transport: CallTransport;
    try {
      transport = (this.options.transportFactory ?? defaultTransportFactory)(invite, logger);
    } catch (error) {
      logger.error({ err: error }, 'could not create the call media transport; call refused');
      return false;
    }
    const callTrace = this.tracing?.callStarted(invite);
    const session: CallSession = {
      callId: invite.callId,
      agentId: invite.agentId,
      fromNumber: invite.fromNumber,
      toNumber: invite.toNumber,
      metadata: invite.metadata,
      roomName: invite.roomName,
      transport,
      signal: controller.signal,
      logger,
      observers: [...(this.operations?.callStarted() ?? []), ...(callTrace?.observer === undefined ? [] : [callTrace.observer])],
    };
    if (this.options.isolateCallErrors ?? true) {
      this.releaseCallErrors ??= installCallErrorGuard();
      claimCallErrors(session, (error, origin) => this.onCallError(session, error, origin));
    }
    logger.info({ from: invite.fromNumber, to: invite.toNumber, room: invite.roomName }, 'call started');
    const ids = { agentId: this.options.agentId, callId: invite.callId, roomName: invite.roomName };
    if (diagnostics.hasSubscribers) diagnostics.publish({ event: 'join-room', ...ids, at: receivedAt } satisfies AgentDiagnostic);
    let threw = false;
    const done = (async () => {
      try {
        await runInSession(session, () => this.options.createSession(session));
      } catch (error) {
        threw = true;
        logger.error({ err: error }, 'createSession failed; this call ends');
      } finally {
        const running = this.sessions.get(invite.roomName);
        const endReason = running?.endReason ?? (threw ? 'session-error' : 'completed');
        this.clock.clearTimeout(running?.failure?.timer);
        await transport.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the call media failed'));
        this.sessions.delete(invite.roomName);
        this.inviteSource.callEnded?.(invite.roomName);
        this.operations?.callEnded(endReason);
        callTrace?.end(endReason);
        logger.info('call ended');
        if (diagnostics.hasSubscribers) {
          diagnostics.publish({ event: 'call-ended', ...ids, at: this.clock.now() } satisfies AgentDiagnostic);
        }
      }
    })();
    this.sessions.set(invite.roomName, { session, controller, done });
    return true;
  }
}

/** PIOPIY_DRAIN_SECS as milliseconds; undefined when unset or not a number of seconds >= 0 (then the default holds). */
function drainMsFromEnvironment(): number | undefined {
  const secs = Number(process.env.PIOPIY_DRAIN_SECS ?? '');
  return process.env.PIOPIY_DRAIN_SECS?.trim() && Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
}

/** Platform invites get a LiveKit room; the local simulator's invites (`piopiy-sim://`) its own media. */
export function defaultTransportFactory(invite: CallInvite, logger: Logger): CallTransport {
  const options = { url: invite.url, token: invite.token, roomName: invite.roomName, logger };
  return invite.url.startsWith('piopiy-sim://') ? new SimulatorMediaTransport(options) : new LiveKitTransport(options);
}
