// One socket of the fake Gemini Live server: the protocol of docs/vendors/gemini-live.md over a real WebSocket.
// The setup must come first and be valid (else the socket is closed with Google's close code and reason); then
// caller audio (16-bit PCM at the rate its mimeType names) runs through an energy VAD standing in for Gemini's
// automatic activity detection, or turns follow the client's activityStart / activityEnd when that is disabled.
// A caller turn's words come from the script; replies follow its rules: the model's audio (a deterministic tone at
// 24 kHz) in paced `modelTurn` messages with `outputTranscription` pieces, then a `toolCall` (waiting for its
// `toolResponse`) or `generationComplete`, `turnComplete` and `usageMetadata`. Caller speech over a turn stops it
// with `interrupted`. With `sessionResumption` in the setup, each finished turn sends a resumable handle.
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { bytesToInt16 } from '../../audio/index.js';
import { encodeSamples, fakeVoiceTone, type FakeVoiceTimbre } from './audio.js';
import type { FakeGeminiLiveConnection, FakeGeminiLiveMessage, FakeGeminiLiveScript, FakeGeminiLiveTurnFault } from './gemini-live-types.js';
import { isRecord, pause } from './http.js';
import { FakeSocketSession, frameBytes } from './websocket.js';

const TIMBRE: FakeVoiceTimbre = {
  baseHz: 170, hzSpread: 80, amplitude: 7000, tremoloBase: 0.75, tremoloDepth: 0.2, tremoloHz: 5, rampStep: 5, rampPeriod: 53, rampOffset: 20,
};
const OUTPUT_RATE = 24000;
const SETUP_FIELDS = new Set([
  'model', 'generationConfig', 'systemInstruction', 'tools', 'realtimeInputConfig', 'sessionResumption', 'contextWindowCompression',
  'inputAudioTranscription', 'outputAudioTranscription', 'proactivity',
]);
export const GOOGLE_INVALID_ARGUMENT = 'Request contains an invalid argument.';

/** A turn of the session's history (kept by resumption handles). */
export interface FakeGeminiTurn {
  readonly role: 'user' | 'model' | 'tool';
  readonly text: string;
}

export interface FakeGeminiServerHooks {
  readonly script: FakeGeminiLiveScript;
  record(connection: FakeGeminiLiveConnection, message: FakeGeminiLiveMessage): void;
  nextTranscript(connection: FakeGeminiLiveConnection): string;
  takeFault(text: string): FakeGeminiLiveTurnFault | undefined;
  /** Why the setup is refused (a close code and reason), or undefined. */
  refuseSetup(connection: FakeGeminiLiveConnection, setup: unknown): { code: number; reason: string } | undefined;
  /** Stores the history under a new handle; `resume` gives a stored one back. */
  saveHandle(history: readonly FakeGeminiTurn[]): string;
  resume(handle: string): FakeGeminiTurn[] | undefined;
  forget(session: FakeGeminiLiveSession): void;
}

interface ModelTurn {
  readonly id: string;
  readonly text: string;
  audioMs: number;
  stopped: boolean;
}

interface PendingCall {
  readonly id: string;
  readonly name: string;
  readonly afterTool: string | ((response: Record<string, unknown>) => string) | undefined;
}

let lastId = 0;
const newId = (prefix: string): string => `${prefix}-${(++lastId).toString(36)}`;

export class FakeGeminiLiveSession extends FakeSocketSession<FakeGeminiLiveConnection> {
  private setup: Record<string, unknown> | undefined;
  private history: FakeGeminiTurn[] = [];
  private turn: ModelTurn | undefined;
  private pending: PendingCall[] = [];
  private manualActivity = false;
  private silenceLimitMs = 500;
  private resumable = false;
  private speaking = false;
  private silenceMs = 0;
  private window: number[] = [];
  /** The caller's words not yet transcribed, while the caller has a turn. */
  private callerWords: string[] | undefined;
  /** The caller's words of the current (or last) caller turn: what the reply answers. */
  private callerSaid = '';

  constructor(
    private readonly fake: FakeGeminiServerHooks,
    ws: WebSocket,
    socket: Socket,
    connection: FakeGeminiLiveConnection,
  ) {
    super(ws, socket, connection, fake);
  }

  protected override endAll(): void {
    if (this.turn !== undefined) this.turn.stopped = true;
  }

  /** Ends the session the way Google does: a close frame with a code and a reason. */
  closeWith(code: number, reason: string): void {
    this.connection.close ??= { code, reason, by: 'server' };
    this.endAll();
    this.ws.close(code, reason);
  }

  goAway(timeLeftMs: number): void {
    this.send({ goAway: { timeLeft: `${(timeLeftMs / 1000).toFixed(3)}s` } });
    setTimeout(() => this.closeWith(1000, 'session time limit'), timeLeftMs);
  }

  protected override onMessage(data: RawData, isBinary: boolean): void {
    let json: unknown;
    try {
      json = isBinary ? undefined : JSON.parse(frameBytes(data).toString('utf8'));
    } catch {
      json = undefined;
    }
    const audio = isRecord(json) && isRecord(json.realtimeInput) && isRecord(json.realtimeInput.audio) ? json.realtimeInput.audio : undefined;
    const recorded = audio === undefined ? json : { realtimeInput: { audio: { mimeType: audio.mimeType, bytes: typeof audio.data === 'string' ? Buffer.byteLength(audio.data, 'base64') : 0 } } };
    this.fake.record(this.connection, { json: recorded });
    if (!isRecord(json)) return this.closeWith(1007, 'Invalid JSON payload received.');
    if (this.setup === undefined) return this.onSetup(json);
    if ('setup' in json) return this.closeWith(1007, GOOGLE_INVALID_ARGUMENT);
    if (isRecord(json.realtimeInput)) return this.onRealtimeInput(json.realtimeInput);
    if (isRecord(json.clientContent)) return this.onClientContent(json.clientContent);
    if (isRecord(json.toolResponse)) return this.onToolResponse(json.toolResponse);
    const name = Object.keys(json)[0] ?? '';
    this.closeWith(1007, `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`);
  }

  private onSetup(message: Record<string, unknown>): void {
    if (!isRecord(message.setup)) return this.closeWith(1007, GOOGLE_INVALID_ARGUMENT);
    const setup = message.setup;
    const unknown = Object.keys(setup).find((key) => !SETUP_FIELDS.has(key));
    if (unknown !== undefined) return this.closeWith(1007, `Invalid JSON payload received. Unknown name "${unknown}" at 'setup': Cannot find field.`);
    const refusal = this.fake.refuseSetup(this.connection, setup);
    if (refusal !== undefined) return this.closeWith(refusal.code, refusal.reason);
    const input = isRecord(setup.realtimeInputConfig) ? setup.realtimeInputConfig : {};
    const detection = isRecord(input.automaticActivityDetection) ? input.automaticActivityDetection : {};
    this.manualActivity = detection.disabled === true;
    if (typeof detection.silenceDurationMs === 'number') this.silenceLimitMs = detection.silenceDurationMs;
    else this.silenceLimitMs = this.fake.script.silenceMs ?? 500;
    if (isRecord(setup.sessionResumption)) {
      this.resumable = true;
      const handle = setup.sessionResumption.handle;
      if (typeof handle === 'string') {
        const history = this.fake.resume(handle);
        if (history === undefined) return this.closeWith(1007, GOOGLE_INVALID_ARGUMENT);
        this.history = history;
        this.connection.resumedFrom = handle;
      }
    }
    this.setup = setup;
    this.connection.setup = setup;
    this.send({ setupComplete: {} });
  }

  // ---- caller input -------------------------------------------------------------------------------------------

  private onRealtimeInput(input: Record<string, unknown>): void {
    if ('activityStart' in input || 'activityEnd' in input) {
      if (!this.manualActivity) return this.closeWith(1007, 'Explicit activity control is not supported when automatic activity detection is enabled.');
      if ('activityStart' in input) this.callerStarted();
      else this.callerTurn();
      return;
    }
    if (!isRecord(input.audio)) return;
    const mime = typeof input.audio.mimeType === 'string' ? input.audio.mimeType : '';
    const rate = Number(/^audio\/pcm(?:;rate=(\d+))?$/.exec(mime)?.[1] ?? (mime === 'audio/pcm' ? 16000 : Number.NaN));
    if (!Number.isFinite(rate) || typeof input.audio.data !== 'string') return this.closeWith(1007, GOOGLE_INVALID_ARGUMENT);
    if (!this.manualActivity) this.detect(bytesToInt16(Buffer.from(input.audio.data, 'base64')), rate);
  }

  private detect(samples: Int16Array, rate: number): void {
    const size = rate / 100;
    const threshold = this.fake.script.speechRms ?? 400;
    for (const sample of samples) {
      this.window.push(sample);
      if (this.window.length < size) continue;
      let sum = 0;
      for (const s of this.window) sum += s * s;
      this.window.length = 0;
      if (Math.sqrt(sum / size) > threshold) {
        this.silenceMs = 0;
        if (!this.speaking) {
          this.speaking = true;
          this.callerStarted();
        }
      } else if (this.speaking && (this.silenceMs += 10) >= this.silenceLimitMs) {
        this.speaking = false;
        this.silenceMs = 0;
        this.callerTurn();
      }
    }
  }

  /**
   * The caller started: their first word is transcribed at once (Gemini streams the caller's transcript while they
   * speak), and speech over a model turn stops it (activityHandling START_OF_ACTIVITY_INTERRUPTS).
   */
  private callerStarted(): void {
    if (this.callerWords === undefined) {
      const text = this.fake.nextTranscript(this.connection);
      this.connection.turns++;
      this.callerWords = text.split(/(?<=\s)/).filter((w) => w !== '');
      const first = this.callerWords.shift();
      if (first !== undefined) this.transcribe(first);
      this.history.push({ role: 'user', text });
      this.callerSaid = text;
    }
    const turn = this.turn;
    if (turn === undefined || turn.stopped) return;
    turn.stopped = true;
    this.connection.interruptions.push({ turnId: turn.id, text: turn.text, audioMs: turn.audioMs });
    this.send({ serverContent: { interrupted: true } });
  }

  private callerTurn(): void {
    this.connection.turnEndedAt.push(performance.now());
    if (this.callerWords === undefined) this.callerStarted();
    const rest = this.callerWords!.join('');
    this.callerWords = undefined;
    if (rest !== '') this.transcribe(rest);
    void this.respond(this.plan(this.callerSaid));
  }

  private transcribe(text: string): void {
    if (this.setup?.inputAudioTranscription !== undefined) this.send({ serverContent: { inputTranscription: { text } } });
  }

  private onClientContent(content: Record<string, unknown>): void {
    const turns = Array.isArray(content.turns) ? (content.turns as unknown[]) : [];
    for (const turn of turns) {
      if (!isRecord(turn) || (turn.role !== 'user' && turn.role !== 'model') || !Array.isArray(turn.parts)) return this.closeWith(1007, GOOGLE_INVALID_ARGUMENT);
      const text = (turn.parts as unknown[]).map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
      this.history.push({ role: turn.role, text });
    }
    if (content.turnComplete !== true) return;
    const said = this.history.at(-1)?.text ?? '';
    const verbatim = /^Say exactly(?: this)?:\s*([\s\S]*)$/.exec(said.trim())?.[1];
    void this.respond(verbatim === undefined ? this.plan(said) : { text: verbatim });
  }

  private onToolResponse(message: Record<string, unknown>): void {
    const responses = Array.isArray(message.functionResponses) ? (message.functionResponses as unknown[]) : [];
    let after: string | undefined;
    for (const response of responses) {
      const call = isRecord(response) ? this.pending.find((c) => c.id === response.id) : undefined;
      if (call === undefined || !isRecord(response) || !isRecord(response.response)) return this.closeWith(1008, 'Requested entity was not found.');
      this.pending = this.pending.filter((c) => c !== call);
      this.connection.toolResponses.push({ id: call.id, name: String(response.name), response: response.response });
      this.history.push({ role: 'tool', text: JSON.stringify(response.response) });
      const rule = call.afterTool;
      // Without an afterTool line the model's next turn says nothing (turnComplete alone).
      after = typeof rule === 'function' ? rule(response.response) : (rule ?? '').replace('{output}', JSON.stringify(response.response));
    }
    if (after !== undefined && this.pending.length === 0) void this.respond({ text: after });
  }

  // ---- model turns --------------------------------------------------------------------------------------------

  private plan(said: string): { text: string; toolCall?: PendingCall & { args: Record<string, unknown> } } {
    const script = this.fake.script;
    const rule = script.rules?.find((r) => (typeof r.match === 'string' ? said.toLowerCase().includes(r.match.toLowerCase()) : r.match.test(said)));
    if (rule === undefined) return { text: script.fallback ?? "Sorry, I didn't catch that." };
    const toolCall = rule.toolCall === undefined ? undefined : { id: newId('call'), name: rule.toolCall.name, args: rule.toolCall.args ?? {}, afterTool: rule.afterTool };
    return { text: rule.reply ?? '', toolCall };
  }

  private async respond(plan: { text: string; toolCall?: PendingCall & { args: Record<string, unknown> } }): Promise<void> {
    if (this.turn !== undefined) this.turn.stopped = true;
    const script = this.fake.script;
    const turn: ModelTurn = { id: newId('turn'), text: plan.text, audioMs: 0, stopped: false };
    this.turn = turn;
    const fault = this.fake.takeFault(plan.text);
    if (plan.text.trim() !== '') {
      const samples = fakeVoiceTone(`${plan.text}`, Math.round((Math.max(script.chunkMs ?? 100, plan.text.trim().length * (script.msPerCharacter ?? 60)) * OUTPUT_RATE) / 1000), OUTPUT_RATE, TIMBRE);
      const words = plan.text.split(/(?<=\s)/);
      const chunkSamples = Math.round(((script.chunkMs ?? 100) * OUTPUT_RATE) / 1000);
      const chunks = Math.ceil(samples.length / chunkSamples);
      let wordsSent = 0;
      if ((script.firstAudioDelayMs ?? 0) > 0) await pause(script.firstAudioDelayMs!);
      for (let c = 0; c < chunks && !turn.stopped; c++) {
        if (fault !== undefined && c === (fault.afterChunks ?? 0)) {
          if ('drop' in fault) this.drop();
          else this.closeWith(fault.close.code, fault.close.reason);
          return;
        }
        const chunk = samples.subarray(c * chunkSamples, Math.min(samples.length, (c + 1) * chunkSamples));
        const data = Buffer.from(encodeSamples(chunk, 's16le')).toString('base64');
        this.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: `audio/pcm;rate=${OUTPUT_RATE}`, data } }] } } });
        // The transcript follows the audio a little, as Gemini's does.
        const wordsDue = Math.min(words.length, Math.ceil(((c + 1) * words.length) / chunks));
        if (wordsDue > wordsSent && this.setup?.outputAudioTranscription !== undefined) {
          this.send({ serverContent: { outputTranscription: { text: words.slice(wordsSent, wordsDue).join('') } } });
        }
        wordsSent = wordsDue;
        turn.audioMs += (chunk.length * 1000) / OUTPUT_RATE;
        await pause(script.chunkDelayMs ?? 20);
        if (!this.open) return;
      }
      this.connection.spoken.push({ turnId: turn.id, text: plan.text, audioMs: turn.audioMs, completed: !turn.stopped });
      this.history.push({ role: 'model', text: plan.text });
    }
    if (turn.stopped) return; // `interrupted` was the turn's end
    if (plan.toolCall !== undefined) {
      const { id, name, args } = plan.toolCall;
      this.pending.push(plan.toolCall);
      this.turn = undefined;
      this.send({ toolCall: { functionCalls: [{ id, name, args }] } });
      return;
    }
    this.turn = undefined;
    const promptTokenCount = this.history.reduce((n, t) => n + Math.ceil(t.text.length / 4), 0);
    const responseTokenCount = Math.ceil(turn.audioMs / 40);
    this.send({ serverContent: { generationComplete: true } });
    this.send({ serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount, responseTokenCount, totalTokenCount: promptTokenCount + responseTokenCount } });
    if (this.resumable) this.send({ sessionResumptionUpdate: { newHandle: this.fake.saveHandle(this.history), resumable: true } });
  }
}
