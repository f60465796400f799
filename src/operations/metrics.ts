// The Prometheus metrics of one Agent. Each Agent owns its own prom-client Registry (never the global one), so two
// agents in one process — or one test file — count separately and never collide on a metric name.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Why a call ended, as the Agent saw it. */
export type CallEndReason =
  /** `createSession` returned: the conversation ended by itself (hang-up, transfer, idle, the agent ended it). */
  | 'completed'
  /** The platform cancelled it (`cancel_room`) or the program called `cancelSession`. */
  | 'cancelled'
  /** Code of the call failed with an error nothing caught; the call was ended for it. */
  | 'failed'
  /** `createSession` threw or rejected. */
  | 'session-error'
  /** The agent was shutting down and the call outlasted the drain. */
  | 'shutdown'
  /** Its worker process (`piopiy-ai start --workers N`) crashed or was stopped over its memory limit. */
  | 'worker-lost';

/** The latencies measured per turn, each a label value of `piopiy_stage_latency_seconds`. */
export type LatencyStage = 'vad_end_of_speech' | 'stt_final' | 'llm_ttfb' | 'tts_first_byte' | 'voice_to_voice';

// Voice latencies live between ~10 ms and a few seconds; these buckets resolve the range users tune (0.2-1.5 s).
const LATENCY_BUCKETS_SECS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
const STALL_BUCKETS_SECS = [0.1, 0.2, 0.5, 1, 2, 5, 10];

export interface AgentMetricsOptions {
  /** Also collect prom-client's process metrics (memory, CPU, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly activeCalls: Gauge;
  readonly maxCalls: Gauge;
  readonly ready: Gauge;
  readonly calls: Counter<'reason'>;
  readonly refusedCalls: Counter<'reason'>;
  readonly latency: Histogram<'stage'>;
  readonly interruptions: Counter;
  readonly toolCalls: Counter<'tool' | 'outcome'>;
  readonly errors: Counter<'vendor' | 'code'>;
  readonly stalls: Counter;
  readonly stallDuration: Histogram;

  constructor(status: () => { activeCalls: number; maxCalls: number | undefined; ready: boolean }, options: AgentMetricsOptions = {}) {
    const registers = [this.registry];
    // Gauges read the Agent when scraped, so they can never drift from the Agent's own state.
    this.activeCalls = new Gauge({
      name: 'piopiy_active_calls',
      help: 'Calls this agent is serving now.',
      registers,
      collect() {
        this.set(status().activeCalls);
      },
    });
    this.maxCalls = new Gauge({
      name: 'piopiy_max_calls',
      help: 'Most calls this agent serves at once (maxSessions); absent when unlimited.',
      registers,
      collect() {
        const max = status().maxCalls;
        if (max === undefined) this.reset();
        else this.set(max);
      },
    });
    this.ready = new Gauge({
      name: 'piopiy_ready',
      help: '1 when the agent takes new calls (connected, not draining, below capacity), else 0.',
      registers,
      collect() {
        this.set(status().ready ? 1 : 0);
      },
    });
    this.calls = new Counter({ name: 'piopiy_calls_total', help: 'Calls ended, by why they ended.', labelNames: ['reason'], registers });
    this.refusedCalls = new Counter({
      name: 'piopiy_calls_refused_total',
      help: 'Invites refused, by why (capacity, draining).',
      labelNames: ['reason'],
      registers,
    });
    this.latency = new Histogram({
      name: 'piopiy_stage_latency_seconds',
      help: 'Per-turn latency of each stage: VAD end-of-speech decision, STT final, LLM first token, TTS first audio, and voice-to-voice.',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS_SECS,
      registers,
    });
    this.interruptions = new Counter({ name: 'piopiy_interruptions_total', help: 'Times a caller interrupted the bot.', registers });
    this.toolCalls = new Counter({
      name: 'piopiy_tool_calls_total',
      help: 'Tool calls finished, by tool and outcome (ok, error).',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'piopiy_errors_total',
      help: 'Errors reported in calls, by the service that failed and the ServiceError code.',
      labelNames: ['vendor', 'code'],
      registers,
    });
    this.stalls = new Counter({
      name: 'piopiy_event_loop_stalls_total',
      help: 'Times the event loop was blocked longer than the stall threshold (100 ms by default).',
      registers,
    });
    this.stallDuration = new Histogram({
      name: 'piopiy_event_loop_stall_seconds',
      help: 'How long each event-loop stall lasted.',
      buckets: STALL_BUCKETS_SECS,
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  observeLatency(stage: LatencyStage, ms: number): void {
    if (ms >= 0 && Number.isFinite(ms)) this.latency.observe({ stage }, ms / 1000);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
