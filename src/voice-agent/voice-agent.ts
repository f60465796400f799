// VoiceAgent: one conversation on one call. It holds the instructions, greeting and tools, assembles the
// pipeline around the chosen services —
//   transport.input → VAD → STT → user turns → LLM → TTS → transport.output → assistant turns → session monitor
// — and runs it until the call is over. Every VoiceAgent owns its context, tools and processors: nothing mutable
// is shared between calls.
import { channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { SileroVADAnalyzer } from '../audio/vad/index.js';
import { makeFrame, parseDtmfSequence, type Frame, type FrameDirection, type MetricsData } from '../frames/index.js';
import { CallFailedError, currentSession } from '../transports/base/call-session.js';
import { AssistantAggregator } from '../conversation/assistant-aggregator.js';
import { Conversation } from '../conversation/conversation.js';
import { DtmfAggregator, checkDtmfOptions } from '../conversation/dtmf-aggregator.js';
import { UserTurnAggregator } from '../conversation/user-turn-aggregator.js';
import { LLMContext } from '../llm/context.js';
import type { AgentTool } from '../llm/dtmf-tool.js';
import type { FunctionSchema } from '../llm/function-schema.js';
import { ToolRegistry, type ToolHandler, type ToolOptions, type ToolOutcome } from '../llm/tools.js';
import { McpToolSet, McpToolSource, type McpServerParams, type McpServerStatus } from '../llm/mcp/index.js';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { FrameProcessor, Pipeline, PipelineTask } from '../pipeline/index.js';
import { systemClock, type Clock, type ClockTimer } from '../runtime/clock.js';
import type { TTSService } from '../services/base/tts-service.js';
import type { CallTransport } from '../transports/base/transport.js';
import { checkVoicemailDetectionOptions, type VoicemailDetectionOptions } from '../voicemail/index.js';
import { VADProcessor, type VoiceActivityDetector } from '../turns/vad-processor.js';
import type { ActionOptions, CascadeActionOptions, VADOptions, VoiceAgentEvents, VoiceAgentOptions } from './options.js';
import { PlayoutTracker, type SpeechPlayout } from './playout.js';
import { checkActionServices, realtimeProcessors } from './realtime-pipeline.js';
import { createVoicemailProcessor } from './voicemail.js';

export type {
  ActionOptions,
  CascadeActionOptions,
  CommonActionOptions,
  RealtimeActionOptions,
  VADOptions,
  VoiceAgentEvents,
  VoiceAgentOptions,
} from './options.js';

/**
 * Every VoiceAgent also publishes its events on this diagnostics channel as `{ callId, event, ... }`, so tools
 * outside the user's code (the demo, the dev softphone, monitoring) can follow a call without being handed the
 * agent. Publishing costs nothing when nobody subscribes.
 */
export const VOICE_AGENT_CHANNEL = 'piopiy-ai:voice-agent';
const diagnostics = channel(VOICE_AGENT_CHANNEL);

export type VoiceAgentDiagnostic =
  | { callId: string | undefined; event: 'user-turn'; text: string; at: number }
  | { callId: string | undefined; event: 'assistant-turn'; text: string; interrupted: boolean; at: number }
  | {
      callId: string | undefined;
      event: 'tool-call';
      name: string;
      arguments: unknown;
      result: unknown;
      error?: string;
      /** When the tool was called (`at` is when it returned): what it caused (a REST request) lies in between. */
      startedAt: number;
      at: number;
    }
  | { callId: string | undefined; event: 'metrics'; data: MetricsData; at: number }
  | { callId: string | undefined; event: 'error'; message: string; fatal: boolean; at: number };

const DEFAULT_REPROMPT = 'Are you still there?';
const DEFAULT_GOODBYE = "I haven't heard from you, so I'll end the call now. Goodbye!";
const DEFAULT_ERROR_GOODBYE = "I'm sorry, something went wrong on my side and I have to end this call. Please call again.";
/** How long the goodbye of a failed call may take before the call is cut. */
const ERROR_GOODBYE_MAX_MS = 10_000;

/** Watches the end of the pipeline for metrics and tool calls starting, for listeners. */
class MetricsTap extends FrameProcessor {
  constructor(
    private readonly onMetrics: (data: MetricsData) => void,
    private readonly onToolStarted: (toolCallId: string) => void,
  ) {
    super({ name: 'metrics-tap' });
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream' && frame.type === 'metrics') for (const data of frame.data) this.onMetrics(data);
    if (direction === 'downstream' && frame.type === 'function-call-in-progress') this.onToolStarted(frame.toolCallId);
    return this.pushFrame(frame, direction);
  }
}

export class VoiceAgent {
  readonly context: LLMContext;
  readonly events = new EventEmitter<VoiceAgentEvents>();
  private readonly options: VoiceAgentOptions;
  private readonly tools = new ToolRegistry();
  private readonly mcp = new McpToolSet(this.tools, () => this.context.setTools(this.tools.definitions()), () => this.logger);
  private readonly logger: Logger;
  private settings: ActionOptions | undefined;
  private task: PipelineTask | undefined;
  private started = false;
  private idleTimer: ClockTimer | undefined;
  private clock: Clock = systemClock;
  private repromptsSaid = 0;
  private conversation: Conversation | undefined;
  private greeted = false;
  private playout: PlayoutTracker | undefined;
  private readonly over = new AbortController();
  /** The Agent session this conversation runs in, if any (its observers join the pipeline's). */
  private readonly session = currentSession();
  /** When each running tool call started, for the `tool-call` diagnostic (only kept while someone listens). */
  private readonly toolStartedAt = new Map<string, number>();

  constructor(options: VoiceAgentOptions) {
    if (typeof options.instructions !== 'string') throw new TypeError('VoiceAgent: instructions must be a string');
    if (options.dtmf !== undefined && options.dtmf !== false) checkDtmfOptions(options.dtmf);
    if (options.voicemailDetection !== undefined) checkVoicemailDetectionOptions(options.voicemailDetection);
    // Inside an Agent's createSession, the call and its transport come from the session.
    const session = currentSession();
    this.options = { call: session, transport: session?.transport, logger: session?.logger, ...options };
    options = this.options;
    this.context = new LLMContext([{ role: 'system', content: options.instructions }]);
    // The session's logger already carries the call id; binding it again would write it twice in every JSON line.
    const logger = options.logger ?? getDefaultLogger();
    const callId = options.call?.callId;
    this.logger = logger === session?.logger || callId === undefined ? logger : logger.child({ callId });
    this.publishDiagnostics();
  }

  private publishDiagnostics(): void {
    const callId = this.options.call?.callId;
    const publish = (message: VoiceAgentDiagnostic): void => {
      if (diagnostics.hasSubscribers) diagnostics.publish(message);
    };
    this.events.on('user-turn', (text) => publish({ callId, event: 'user-turn', text, at: this.clock.now() }));
    this.events.on('assistant-turn', (text, interrupted) =>
      publish({ callId, event: 'assistant-turn', text, interrupted, at: this.clock.now() }),
    );
    this.events.on('tool-call', (call) => {
      const at = this.clock.now();
      const startedAt = this.toolStartedAt.get(call.toolCallId) ?? at;
      this.toolStartedAt.delete(call.toolCallId);
      publish({ callId, event: 'tool-call', ...call, startedAt, at });
    });
    this.events.on('metrics', (data) => publish({ callId, event: 'metrics', data, at: this.clock.now() }));
    this.events.on('error', (frame) =>
      publish({ callId, event: 'error', message: frame.error.message, fatal: frame.fatal, at: this.clock.now() }),
    );
  }

  /**
   * Adds a tool the LLM may call; `handler(args, ctx)` returns the result the LLM reads. A ready-made tool (such as
   * `sendDtmfTool()`) is added by itself: `voice.addTool(sendDtmfTool())`.
   */
  addTool<TArgs>(tool: AgentTool<TArgs>): this;
  addTool<TArgs>(schema: FunctionSchema<TArgs>, handler: ToolHandler<TArgs>, options?: ToolOptions): this;
  addTool<TArgs>(schemaOrTool: FunctionSchema<TArgs> | AgentTool<TArgs>, handler?: ToolHandler<TArgs>, options?: ToolOptions): this {
    if ('schema' in schemaOrTool) this.tools.register(schemaOrTool.schema, schemaOrTool.handler, schemaOrTool.options);
    else this.tools.register(schemaOrTool, handler as ToolHandler<TArgs>, options);
    this.context.setTools(this.tools.definitions());
    return this;
  }

  /**
   * Adds the tools of an MCP server. Given parameters (`{ name, command, args }` or `{ name, url }`), the server is
   * this call's: connected now and closed when the call ends. Given an `McpToolSource`, it is shared: listed once
   * for all the calls that add it, and closed by its owner. Resolves once the tools are listed (await it to be sure
   * the first turn has them); never rejects: a server that fails is logged and the call goes on without it.
   */
  addMcpServer(server: McpServerParams | McpToolSource): Promise<McpServerStatus> {
    if (server instanceof McpToolSource) return this.mcp.add(server, false);
    return this.mcp.add(new McpToolSource({ logger: this.logger, ...server }), true);
  }

  /** Chooses the services and settings; the pipeline is built by `start()`. */
  async action(settings: ActionOptions): Promise<void> {
    if (this.started) throw new Error('VoiceAgent.action(): the agent has already started');
    checkActionServices(settings);
    if (this.options.voicemailDetection !== undefined) {
      if (settings.realtime !== undefined) throw new TypeError('VoiceAgent.action(): voicemailDetection is not available with a speech-to-speech model yet');
      if (settings.vad === undefined || settings.vad === false) throw new TypeError('VoiceAgent.action(): voicemailDetection needs `vad` (it hears the greeting through it)');
    }
    const noise = settings.noiseSuppression;
    if (noise !== undefined && noise !== 'gtcrn' && noise !== 'rnnoise') {
      throw new TypeError(`VoiceAgent.action(): noiseSuppression must be 'gtcrn' or 'rnnoise', got ${JSON.stringify(noise)}`);
    }
    const echo = settings.echoCancellation as unknown;
    if (echo !== undefined && typeof echo !== 'boolean') {
      throw new TypeError(`VoiceAgent.action(): echoCancellation must be true or false, got ${JSON.stringify(echo)}`);
    }
    this.settings = settings;
  }

  /** Runs the conversation; resolves when the call is over. */
  async start(): Promise<void> {
    const settings = this.settings;
    if (settings === undefined) {
      throw new Error('VoiceAgent.start() was called before action(): call `await voice.action({ stt, llm, tts })` first');
    }
    if (this.started) throw new Error('VoiceAgent.start(): already started');
    const transport = settings.transport ?? this.options.transport;
    if (transport === undefined) {
      throw new Error('VoiceAgent.start(): no transport: run it inside an Agent session, or pass `transport` to action()');
    }
    this.started = true;
    this.clock = settings.clock ?? systemClock;
    // The pipeline runs at the transport's own rates: the input transport then resamples nothing, and a TTS that
    // can produce the output rate does (see TransportAudioFormats).
    const audioInSampleRate = settings.audioInSampleRate ?? transport.audioFormats?.input.sampleRate ?? 16000;
    const audioOutSampleRate = settings.audioOutSampleRate ?? transport.audioFormats?.output.sampleRate ?? 8000;
    const conversation = new Conversation({
      context: this.context,
      allowInterruptions: settings.allowInterruptions ?? true,
      // A speech-to-speech model has no transcript to judge a barge-in by before the turn ends: its voice counts.
      interruptionStrategy: settings.realtime !== undefined && settings.interruptionStrategy === undefined ? null : settings.interruptionStrategy,
      clock: this.clock,
      logger: this.logger,
      onUserTurn: (text) => this.events.emit('user-turn', text),
      onAssistantTurn: (text, interrupted) => this.events.emit('assistant-turn', text, interrupted),
    });
    this.conversation = conversation;
    const offSpeaking = conversation.onSpeakingChange((change) => {
      if (change.who === 'user' && change.speaking) this.repromptsSaid = 0;
      this.armIdleTimer();
    });
    const onToolResult = (outcome: ToolOutcome): void => {
      this.events.emit('tool-call', {
        toolCallId: outcome.toolCallId,
        name: outcome.name,
        arguments: outcome.arguments,
        result: outcome.result,
        error: outcome.error,
      });
    };
    const vad = this.createVAD(settings.vad, audioInSampleRate);
    if (settings.noiseSuppression !== undefined) transport.input.noiseSuppression = settings.noiseSuppression;
    if (settings.echoCancellation === true) {
      transport.input.echoCancellation = true;
      transport.output.echoReference = (chunk, rate, playsAtMs) => transport.input.pushEchoReference(chunk, rate, playsAtMs);
    }
    const processors: FrameProcessor[] =
      settings.realtime !== undefined
        ? realtimeProcessors({
            realtime: settings.realtime,
            turnDetection: settings.turnDetection ?? 'server',
            transport,
            conversation,
            context: this.context,
            tools: this.tools,
            instructions: this.options.instructions,
            call: this.options.call,
            vad,
            onToolResult,
          })
        : this.cascadeProcessors(settings, transport, conversation, vad, onToolResult);
    processors.push(
      new MetricsTap(
        (data) => this.events.emit('metrics', data),
        (toolCallId) => {
          if (diagnostics.hasSubscribers) this.toolStartedAt.set(toolCallId, this.clock.now());
        },
      ),
    );
    const playout = new PlayoutTracker();
    this.playout = playout;
    processors.push(playout);

    const task = new PipelineTask(new Pipeline(processors), {
      audioInSampleRate,
      audioOutSampleRate,
      allowInterruptions: settings.allowInterruptions ?? true,
      enableMetrics: settings.enableMetrics ?? true,
      observers: [...(this.session?.observers ?? []), ...(settings.observers ?? [])],
      clock: this.clock,
      logger: this.logger,
      onError: (frame) => this.events.emit('error', frame),
    });
    this.task = task;
    conversation.bind({ interrupt: () => task.interrupt(), say: (text) => this.say(text) });

    const onJoined = (): void => this.onCallerJoined();
    const onLeft = (reason: string): void => task.cancel(reason);
    transport.events.on('caller-joined', onJoined);
    transport.events.on('caller-left', onLeft);
    // The session's signal (cancel_room, agent shutdown) ends the conversation too.
    const signal = (this.options.call as { signal?: AbortSignal } | undefined)?.signal;
    let failedTimer: ClockTimer | undefined;
    const onAbort = (): void => {
      if (!(signal?.reason instanceof CallFailedError)) {
        task.cancel('call cancelled');
        return;
      }
      // The Agent has logged the error; the caller hears why the call ends, then it ends.
      this.say(this.options.errorGoodbye ?? DEFAULT_ERROR_GOODBYE);
      task.stopWhenDone('the call failed');
      failedTimer = this.clock.setTimeout(() => task.cancel('the call failed'), ERROR_GOODBYE_MAX_MS);
    };
    if (signal?.aborted === true) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const running = task.run();
    try {
      await transport.connect?.();
    } catch (error) {
      this.logger.error({ err: error }, 'could not join the call media');
      task.cancel('media connection failed');
    }
    if (transport.callerConnected) this.onCallerJoined();
    try {
      await running;
    } finally {
      this.clock.clearTimeout(this.idleTimer);
      this.clock.clearTimeout(failedTimer);
      offSpeaking();
      conversation.close();
      playout.finish();
      this.over.abort();
      transport.events.off('caller-joined', onJoined);
      transport.events.off('caller-left', onLeft);
      signal?.removeEventListener('abort', onAbort);
      await this.mcp.close();
      await transport.close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing the transport failed'));
    }
  }

  /** Ends the call gracefully: what is queued is said first. */
  stop(reason = 'stopped'): void {
    this.task?.stopWhenDone(reason);
  }

  /** Ends the call now. */
  cancel(reason = 'cancelled'): void {
    this.task?.cancel(reason);
  }

  /** Aborted once the conversation is over (the call ended, was transferred away, or failed). */
  get signal(): AbortSignal {
    return this.over.signal;
  }

  /**
   * Resolves once what the bot has been given to say so far has been played to the caller: `played`;
   * `interrupted` if the caller barged in first; `ended` if the call ended first (or is not running). "So far"
   * is what has reached the TTS: in a tool handler, the words the model said before calling the tool and what
   * `ctx.say()` said (a `voice.say()` enters at the top of the pipeline and may come after). Safe to await in a
   * tool handler.
   */
  speechPlayed(): Promise<SpeechPlayout> {
    const { task, playout } = this;
    // The marker enters where the bot's speech is made: the TTS, or the speech-to-speech model.
    const tts = this.settings?.tts ?? this.settings?.realtime;
    if (task === undefined || playout === undefined || tts === undefined) return Promise.resolve('ended');
    if (task.state !== 'running' && task.state !== 'ending') return Promise.resolve('ended');
    const { marker, played } = playout.mark();
    void tts.queueFrame(marker, 'downstream');
    return played;
  }

  /**
   * Tells the model something the caller did not say (a transfer's outcome, an order update): `text` joins the
   * history as a system message the caller does not hear. With `respond: true` the model answers it now, unless
   * the caller is speaking (their turn then brings it to the model); otherwise it reads it at the next turn.
   */
  addNote(text: string, options: { respond?: boolean } = {}): void {
    const conversation = this.conversation;
    if (conversation === undefined) {
      this.context.addMessage({ role: 'system', content: text });
      return;
    }
    const context = conversation.addNote(text);
    if (options.respond === true && !conversation.userSpeaking) void this.task?.queueFrame(makeFrame('llm-context', { context }));
  }

  /** Says a text now (outside the LLM), e.g. from a tool or an external event. */
  say(text: string): void {
    void this.task?.queueFrame(makeFrame('speak', { text }));
  }

  /**
   * Presses keys on the call (DTMF) after the audio already queued: "1", "123#", "1w2" (`w` pauses half a second).
   * Throws a RangeError for other characters, and an Error before the call started or when its transport cannot
   * send tones. In a tool handler, prefer `ctx.sendDtmf`: it keeps the keys after what the bot says before them.
   */
  sendDtmf(digits: string): void {
    const keys = parseDtmfSequence(digits, { allowPauses: true });
    const transport = this.settings?.transport ?? this.options.transport;
    if (this.task === undefined || transport === undefined) throw new Error('VoiceAgent.sendDtmf(): the call has not started');
    if (!transport.output.canSendDTMF) throw new Error(`VoiceAgent.sendDtmf(): sending DTMF tones is not supported by this transport (${transport.output.name})`);
    for (const digit of keys) void transport.output.queueFrame(makeFrame('output-dtmf', { digit }));
  }

  private cascadeProcessors(
    settings: CascadeActionOptions,
    transport: CallTransport,
    conversation: Conversation,
    vad: VoiceActivityDetector | undefined,
    onToolResult: (outcome: ToolOutcome) => void,
  ): FrameProcessor[] {
    const completeTimeoutMs = settings.stt.transcriptionCompleteTimeoutMs;
    const user = new UserTurnAggregator({
      conversation,
      waitForTranscriptionComplete: settings.stt.reportsTranscriptionComplete,
      ...(completeTimeoutMs === undefined ? {} : { finalTranscriptTimeoutMs: completeTimeoutMs }),
    });
    settings.llm.setTools({
      registry: this.tools,
      conversation,
      call: this.options.call,
      filler: this.options.toolFiller,
      fillerAfterMs: this.options.toolFillerAfterMs,
      canSendDtmf: transport.output.canSendDTMF,
      onToolResult,
    });
    const processors: FrameProcessor[] = [transport.input];
    if (vad !== undefined) processors.push(new VADProcessor(vad));
    processors.push(settings.stt);
    if (this.options.voicemailDetection !== undefined) processors.push(this.voicemailProcessor(this.options.voicemailDetection, settings.tts));
    processors.push(user);
    if (this.options.dtmf !== false) processors.push(new DtmfAggregator({ ...this.options.dtmf, conversation }));
    processors.push(settings.llm, settings.tts, transport.output, new AssistantAggregator({ conversation }));
    return processors;
  }

  private voicemailProcessor(options: VoicemailDetectionOptions, tts: TTSService): FrameProcessor {
    const metadata = (this.options.call as { metadata?: Readonly<Record<string, unknown>> } | undefined)?.metadata;
    const fromCall = metadata?.AnsweredBy;
    return createVoicemailProcessor(options, options.answeredBy ?? (typeof fromCall === 'string' ? fromCall : undefined), {
      logger: this.logger,
      clock: this.clock,
      signal: this.over.signal,
      greet: () => this.sayGreeting(),
      sayAndWait: (text) => {
        // Straight to the TTS, so the playout marker after it follows it.
        void tts.queueFrame(makeFrame('speak', { text }), 'downstream');
        return this.speechPlayed();
      },
      end: (reason) => this.stop(reason),
      onHuman: (decision) => this.events.emit('human', decision),
      onVoicemail: (event) => this.events.emit('voicemail', event),
    });
  }

  private createVAD(vad: ActionOptions['vad'], inputRate: number): VoiceActivityDetector | undefined {
    if (vad === undefined || vad === false) return undefined;
    if (typeof vad === 'object' && 'analyze' in vad) return vad;
    const options: VADOptions = vad === true ? {} : vad;
    const { sampleRate, ...params } = options;
    return new SileroVADAnalyzer({ sampleRate: sampleRate ?? (inputRate === 8000 ? 8000 : 16000), params });
  }

  private onCallerJoined(): void {
    if (this.greeted) return;
    this.greeted = true;
    // With answering-machine detection the greeting waits for a person (sayGreeting, from the detection).
    if (this.options.voicemailDetection === undefined) this.sayGreeting();
    this.armIdleTimer();
  }

  private sayGreeting(): void {
    if (this.options.greeting !== undefined && this.options.greeting.trim() !== '') this.say(this.options.greeting);
  }

  /** (Re)starts the idle countdown; it only runs while neither side is speaking. */
  private armIdleTimer(): void {
    this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const seconds = this.options.idleTimeoutSecs ?? 60;
    const conversation = this.conversation;
    if (conversation === undefined || conversation.userSpeaking || conversation.botSpeaking) return;
    if (!(seconds > 0) || this.task === undefined) return;
    this.idleTimer = this.clock.setTimeout(() => this.onIdle(), seconds * 1000);
  }

  private onIdle(): void {
    const task = this.task;
    if (task === undefined || task.state !== 'running') return;
    if (this.repromptsSaid < (this.options.idleReprompts ?? 1)) {
      this.repromptsSaid++;
      this.say(this.options.idleReprompt ?? DEFAULT_REPROMPT);
      this.armIdleTimer();
      return;
    }
    this.logger.info('caller silent: ending the call');
    this.say(this.options.idleGoodbye ?? DEFAULT_GOODBYE);
    task.stopWhenDone('idle timeout');
  }
}
