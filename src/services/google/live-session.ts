// One socket of the Gemini Live protocol (docs/vendors/gemini-live.md), reported to the shared realtime base as
// `RealtimeEvents`. Gemini has no response or item events, so this session makes them: a model turn starts at its
// first content (audio, transcript or tool call) and ends at `turnComplete`, `interrupted`, or a tool call (the model
// waits for the tool's response, then goes on in a new turn as far as the base is concerned). Each model turn is one
// item, `gemini-turn-N`. With the server's VAD Gemini never says when the caller starts or stops speaking: the first
// piece of the caller's transcript (or `interrupted`) is the start, the model's next turn the end, and the time of
// the last transcript piece stands for the end of the speech in the TTFB.
import { bytesToInt16, int16ToBytes, StreamingResampler } from '../../audio/index.js';
import type { Logger } from '../../logging/index.js';
import type { Clock } from '../../runtime/clock.js';
import { isRecord } from '../base/json.js';
import type { RealtimeAudioRates, RealtimeEvents, RealtimeUsage, RealtimeVendorSession } from '../base/realtime-service.js';
import { ServiceError } from '../base/service-error.js';
import { redactSecrets } from '../base/vendor-errors.js';
import { messageText, VendorSocket } from '../base/vendor-socket.js';

const SERVICE = 'gemini-live';
const INPUT_RATE = 16000;
const OUTPUT_RATE = 24000;

export interface GeminiLiveSessionOptions {
  url: string;
  apiKey: string;
  clock: Clock;
  logger: Logger;
  events: RealtimeEvents;
  rates: RealtimeAudioRates;
  connectTimeoutMs: number;
  serverInterrupts: boolean;
  resumptionHandle: string | undefined;
  onResumptionHandle: (handle: string) => void;
  setup: (handle: string | undefined) => Record<string, unknown>;
}

/**
 * What a close code and reason from Google mean. Google ends a session it refuses with a close frame: 1007 for a bad
 * request (an invalid or expired key among them: "API key not valid..."), 1008 for a policy refusal (an unknown
 * model, "Requested entity was not found"), 1011 for its own errors and spent quotas.
 */
export function geminiLiveCloseError(code: number, reason: string, secrets: readonly string[]): ServiceError {
  const text = redactSecrets(reason, secrets);
  const message = `socket closed (${code}${text === '' ? '' : ` ${text}`})`;
  let kind: ServiceError['code'] = 'connection-lost';
  if (/api key/i.test(reason)) kind = 'auth';
  else if (/quota|exceeded|resource.?exhausted/i.test(reason)) kind = 'rate-limited';
  else if (code === 1007 || code === 1008) kind = 'bad-request';
  else if (code === 1011) kind = 'server';
  return new ServiceError(SERVICE, message, { code: kind, vendorCode: String(code) });
}

export class GeminiLiveSession implements RealtimeVendorSession {
  readonly serverInterrupts: boolean;
  private readonly socket: VendorSocket;
  private inputResampler: StreamingResampler | undefined;
  private configured: ((error?: ServiceError) => void) | undefined;
  private closing = false;
  private turnCount = 0;
  /** The model turn being reported (the base's response and item), if any. */
  private turn: string | undefined;
  private usage: RealtimeUsage | undefined;
  /** The caller's words since the last model turn, and (server VAD) whether the caller is speaking. */
  private callerText = '';
  private callerSpeaking = false;
  private lastHeardAt = -1;
  private readonly callNames = new Map<string, string>();

  constructor(private readonly o: GeminiLiveSessionOptions) {
    this.serverInterrupts = o.serverInterrupts;
    this.socket = new VendorSocket(
      { vendor: SERVICE, url: o.url, secrets: [o.apiKey], handshakeTimeoutMs: o.connectTimeoutMs, clock: o.clock },
      {
        onMessage: (data) => this.onMessage(messageText(data)),
        onClose: (code, reason) => {
          if (this.closing) return;
          const error = geminiLiveCloseError(code, reason, [this.o.apiKey]);
          if (this.configured !== undefined) this.configured(error);
          else this.o.events.lost(error);
        },
      },
    );
  }

  async open(history: readonly { role: 'user' | 'assistant'; text: string }[]): Promise<void> {
    await this.socket.open();
    const done = new Promise<void>((resolve, reject) => {
      const timer = this.o.clock.setTimeout(() => this.configured?.(new ServiceError(SERVICE, 'no setupComplete in time', { code: 'timeout' })), this.o.connectTimeoutMs);
      this.configured = (error) => {
        this.configured = undefined;
        this.o.clock.clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    const handle = this.o.resumptionHandle;
    this.socket.sendJSON({ setup: this.o.setup(handle) });
    try {
      await done;
    } catch (error) {
      await this.close();
      throw error;
    }
    // A resumed session remembers the conversation; a new one is told it as text turns (no answer asked for).
    if (handle === undefined && history.length > 0) {
      const turns = history.map(({ role, text }) => ({ role: role === 'user' ? 'user' : 'model', parts: [{ text }] }));
      this.socket.sendJSON({ clientContent: { turns, turnComplete: false } });
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.socket.close();
  }

  sendAudio(samples: Int16Array, sampleRate: number): void {
    if (sampleRate !== INPUT_RATE) {
      this.inputResampler ??= new StreamingResampler({ inputRate: sampleRate, outputRate: INPUT_RATE });
      samples = this.inputResampler.process(samples);
    }
    const bytes = int16ToBytes(samples);
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    this.socket.sendJSON({ realtimeInput: { audio: { data, mimeType: `audio/pcm;rate=${INPUT_RATE}` } } });
  }

  startInput(): void {
    // With activityHandling START_OF_ACTIVITY_INTERRUPTS this also stops the model's turn.
    this.socket.sendJSON({ realtimeInput: { activityStart: {} } });
  }

  commitInput(): void {
    this.socket.sendJSON({ realtimeInput: { activityEnd: {} } });
  }

  createResponse(instructions?: string): void {
    // Gemini answers by itself after the caller's turn and after a tool's response: only a line to say is sent.
    if (instructions === undefined) return;
    this.socket.sendJSON({ clientContent: { turns: [{ role: 'user', parts: [{ text: instructions }] }], turnComplete: true } });
  }

  cancelResponse(): void {
    // No cancel message exists: the server stops on the caller's speech (its VAD, or our activityStart).
  }

  truncate(itemId: string, audioEndMs: number): void {
    // No truncate message exists: Gemini keeps in its context all it generated. Our own history keeps only what was
    // played (the output transport's played text), which is what a reopened session without a handle is told.
    this.o.logger.debug({ itemId, audioEndMs }, 'gemini has no truncation: the model keeps its whole interrupted turn');
  }

  sendToolOutputs(outputs: readonly { callId: string; output: string }[]): void {
    const functionResponses = outputs.map(({ callId, output }) => ({ id: callId, name: this.callNames.get(callId) ?? '', response: responseOf(output) }));
    for (const { callId } of outputs) this.callNames.delete(callId);
    this.socket.sendJSON({ toolResponse: { functionResponses } });
  }

  private onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.o.events.error(new ServiceError(SERVICE, 'a server message was not JSON', { code: 'protocol' }));
      return;
    }
    if (!isRecord(message)) return;
    if ('setupComplete' in message) this.configured?.();
    if (isRecord(message.usageMetadata)) this.usage = usageOf(message.usageMetadata);
    if (isRecord(message.sessionResumptionUpdate)) {
      const update = message.sessionResumptionUpdate;
      if (update.resumable === true && typeof update.newHandle === 'string' && update.newHandle !== '') this.o.onResumptionHandle(update.newHandle);
    }
    if (isRecord(message.goAway)) this.o.logger.info({ timeLeft: message.goAway.timeLeft }, 'gemini will close the session soon; it resumes on a new socket');
    if (isRecord(message.serverContent)) this.onContent(message.serverContent);
    if (isRecord(message.toolCall)) this.onToolCall(message.toolCall);
    if (isRecord(message.toolCallCancellation)) this.o.logger.debug({ ids: message.toolCallCancellation.ids }, 'gemini cancelled tool calls');
  }

  private onContent(content: Record<string, unknown>): void {
    const events = this.o.events;
    if (isRecord(content.inputTranscription) && typeof content.inputTranscription.text === 'string') this.heard(content.inputTranscription.text);
    if (content.interrupted === true) {
      if (this.serverInterrupts && !this.callerSpeaking) {
        this.callerSpeaking = true;
        events.speechStarted();
      }
      this.endTurn();
    }
    const parts = isRecord(content.modelTurn) && Array.isArray(content.modelTurn.parts) ? (content.modelTurn.parts as unknown[]) : [];
    for (const part of parts) {
      if (!isRecord(part) || !isRecord(part.inlineData) || typeof part.inlineData.data !== 'string') continue;
      const mime = typeof part.inlineData.mimeType === 'string' ? part.inlineData.mimeType : '';
      const rate = Number(/rate=(\d+)/.exec(mime)?.[1] ?? OUTPUT_RATE);
      events.audio(this.beginTurn(), bytesToInt16(Buffer.from(part.inlineData.data, 'base64')), rate);
    }
    if (isRecord(content.outputTranscription) && typeof content.outputTranscription.text === 'string') {
      events.transcriptDelta(this.beginTurn(), content.outputTranscription.text);
    }
    if (content.turnComplete === true) this.endTurn();
  }

  private onToolCall(toolCall: Record<string, unknown>): void {
    const calls = Array.isArray(toolCall.functionCalls) ? (toolCall.functionCalls as unknown[]) : [];
    const itemId = this.beginTurn();
    for (const call of calls) {
      if (!isRecord(call) || typeof call.name !== 'string') continue;
      const id = typeof call.id === 'string' ? call.id : `${itemId}-call-${this.callNames.size}`;
      this.callNames.set(id, call.name);
      this.o.events.functionCall({ id, name: call.name, arguments: JSON.stringify(call.args ?? {}) });
    }
    // The model waits for the responses: the base runs the tools once the "response" is done.
    this.endTurn();
  }

  /** A piece of the caller's transcript. */
  private heard(text: string): void {
    this.callerText += text;
    this.lastHeardAt = this.o.clock.now();
    if (this.serverInterrupts && !this.callerSpeaking && text.trim() !== '') {
      this.callerSpeaking = true;
      this.o.events.speechStarted();
    }
  }

  private beginTurn(): string {
    if (this.turn !== undefined) return this.turn;
    const events = this.o.events;
    if (this.callerSpeaking) {
      this.callerSpeaking = false;
      events.speechStopped(this.lastHeardAt >= 0 ? this.lastHeardAt : undefined);
    }
    const said = this.callerText.trim();
    this.callerText = '';
    if (said !== '') events.userTranscript(said);
    this.turn = `gemini-turn-${++this.turnCount}`;
    events.responseStarted();
    return this.turn;
  }

  private endTurn(): void {
    const turn = this.turn;
    if (turn === undefined) return;
    this.turn = undefined;
    const usage = this.usage;
    this.usage = undefined;
    this.o.events.audioDone(turn);
    this.o.events.responseDone(usage);
  }
}

/** A tool's output as a FunctionResponse `response` (a JSON object): the object itself, else `{output}`. */
function responseOf(output: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(output);
    if (isRecord(parsed)) return parsed;
    return { output: parsed };
  } catch {
    return { output };
  }
}

function usageOf(usage: Record<string, unknown>): RealtimeUsage {
  const num = (name: string): number => (typeof usage[name] === 'number' ? usage[name] : 0);
  return {
    inputTokens: num('promptTokenCount'),
    outputTokens: num('responseTokenCount') || num('candidatesTokenCount'),
    ...(typeof usage.cachedContentTokenCount === 'number' ? { cachedTokens: usage.cachedContentTokenCount } : {}),
  };
}
