// A local stand-in for Speechmatics real-time transcription (`wss://eu2.rt.speechmatics.com/v2`), speaking the wire
// protocol over a real socket so that the production client is what gets tested. Facts and sources:
// docs/vendors/speechmatics.md (the protocol's AsyncAPI schema in speechmatics/speechmatics-js-sdk).
//
// Handshake: `Authorization: Bearer <key>` (or `?jwt=`); a refused key is an HTTP 401 to the upgrade. Then the first
// message must be `StartRecognition` (raw `pcm_s16le` / `pcm_f32le` / `mulaw`, an integer `sample_rate`,
// `transcription_config.language`, `max_delay` 0.7-4); the answer is `RecognitionStarted`. Audio before it, or
// any message out of order, is a `protocol_error`. Each binary frame is acknowledged with `AudioAdded {seq_no}`.
// Recognition follows the audio received (speech-tracker.ts): `AddPartialTranscript` while speech goes on (with
// `enable_partials`), `AddTranscript` once the speaker has paused `max_delay` or on `ForceEndOfUtterance`, which is
// always followed by `EndOfUtterance` (so is a pause of `conversation_config.end_of_utterance_silence_trigger`).
// `EndOfStream {last_seq_no}` finishes the open utterance and answers `EndOfTranscript`. Errors are in band
// (`{message: "Error", type, reason}`) and close the socket (1008 here; the schema documents 1008 for the
// timeouts). Scripted faults: 401 (HTTP 401), 429 (`quota_exceeded`), 500 (`job_error`). Keys are never stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { mulawToPcm } from '../../audio/index.js';
import { bearerCredentials, isAcceptedKey, type FakeKeyPolicy } from './auth.js';
import { refuseUpgrade } from './http.js';
import { SpeechTracker, UtteranceQueue, type TrackedWord } from './speech-tracker.js';
import { frameBytes, type FakeSTTSocketSession, type FakeStreamingSTTServer } from './websocket.js';
import { FakeJsonSTTSession, serveFakeSTTSockets } from './stt-socket.js';

export type FakeSpeechmaticsFault = 401 | 429 | 500;

export interface FakeSpeechmaticsOptions extends FakeKeyPolicy {
  speechThreshold?: number;
  msPerWord?: number;
  /** Audio time between two partials while speech goes on. Default 400 ms. */
  partialIntervalMs?: number;
  defaultTranscript?: string;
}

export interface FakeSpeechmaticsSession extends FakeSTTSocketSession {
  /** The `StartRecognition` message, once received. */
  readonly startRecognition: Readonly<Record<string, unknown>> | undefined;
  /** Client text messages (`message` values) in order; audio frames are counted in `audioFrames`. */
  readonly messages: readonly string[];
  readonly audioFrames: number;
}

export interface FakeSpeechmatics extends FakeStreamingSTTServer<FakeSpeechmaticsSession, FakeSpeechmaticsFault> {
  /** `ws://127.0.0.1:<port>`: the base of `/v2`. */
  readonly url: string;
}

const ENCODINGS: Readonly<Record<string, number>> = { pcm_s16le: 2, pcm_f32le: 4, mulaw: 1 };

class Session extends FakeJsonSTTSession implements FakeSpeechmaticsSession {
  startRecognition: Record<string, unknown> | undefined;
  readonly messages: string[] = [];
  audioFrames = 0;
  private tracker: SpeechTracker | undefined;
  private encoding = 'pcm_s16le';
  private rate = 16000;
  private maxDelayMs = 4000;
  private partials = false;
  private eouTriggerMs = 0;
  private lastPartialAt = 0;
  private ended = false;

  constructor(
    ws: WebSocket,
    private readonly queue: UtteranceQueue,
    private readonly options: FakeSpeechmaticsOptions,
    private readonly fault: FakeSpeechmaticsFault | undefined,
  ) {
    super(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  protected override onClosed(): void {
    this.tracker?.abandon();
  }

  private fail(type: string, reason: string): void {
    this.send({ message: 'Error', type, reason });
    this.ended = true;
    this.closed ??= { code: 1008, reason: type, by: 'server' };
    this.ws.close(1008, type);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.ended) return;
    const bytes = frameBytes(data);
    if (isBinary) {
      if (this.tracker === undefined) return this.fail('protocol_error', 'AddAudio before RecognitionStarted');
      this.audioFrames++;
      this.send({ message: 'AudioAdded', seq_no: this.audioFrames });
      this.onAudio(bytes);
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.fail('invalid_message', 'message is not valid JSON');
    }
    const name = String(message.message);
    this.messages.push(name);
    if (name === 'StartRecognition') return this.start(message);
    if (this.tracker === undefined) return this.fail('protocol_error', `${name} before StartRecognition`);
    switch (name) {
      case 'ForceEndOfUtterance':
        this.finalize();
        this.send({ message: 'EndOfUtterance', metadata: { start_time: this.tracker.positionSecs, end_time: this.tracker.positionSecs } });
        return;
      case 'EndOfStream':
        if (message.last_seq_no !== this.audioFrames) return this.fail('protocol_error', `last_seq_no ${String(message.last_seq_no)} is not ${this.audioFrames}`);
        this.finalize();
        this.ended = true;
        this.send({ message: 'EndOfTranscript' });
        return;
      case 'SetRecognitionConfig':
      case 'GetSpeakers':
        return;
      default:
        this.fail('invalid_message', `unknown message ${JSON.stringify(name)}`);
    }
  }

  private start(message: Record<string, unknown>): void {
    if (this.tracker !== undefined) return this.fail('protocol_error', 'StartRecognition sent twice');
    if (this.fault === 429) return this.fail('quota_exceeded', 'Concurrent Quota Exceeded');
    if (this.fault === 500) return this.fail('job_error', 'Unable to do any work on this job');
    const format = message.audio_format as Record<string, unknown> | undefined;
    const config = message.transcription_config as Record<string, unknown> | undefined;
    if (format?.type !== 'raw' || typeof format.encoding !== 'string' || !(format.encoding in ENCODINGS)) return this.fail('invalid_audio_type', 'unsupported audio_format');
    if (!Number.isInteger(format.sample_rate) || (format.sample_rate as number) <= 0) return this.fail('invalid_audio_type', 'sample_rate must be a positive integer');
    if (typeof config?.language !== 'string' || config.language === '') return this.fail('invalid_model', 'transcription_config.language is required');
    const maxDelay = config.max_delay ?? 4;
    if (typeof maxDelay !== 'number' || maxDelay < 0.7 || maxDelay > 4) return this.fail('invalid_config', 'max_delay must be within 0.7 and 4');
    this.startRecognition = message;
    this.encoding = format.encoding;
    this.rate = format.sample_rate as number;
    this.maxDelayMs = maxDelay * 1000;
    this.partials = config.enable_partials === true;
    const trigger = (config.conversation_config as { end_of_utterance_silence_trigger?: unknown } | undefined)?.end_of_utterance_silence_trigger;
    this.eouTriggerMs = typeof trigger === 'number' ? trigger * 1000 : 0;
    this.tracker = new SpeechTracker(this.queue, {
      sampleRate: this.rate,
      speechThreshold: this.options.speechThreshold,
      msPerWord: this.options.msPerWord,
      defaultTranscript: this.options.defaultTranscript,
    });
    this.send({ message: 'RecognitionStarted', id: randomUUID(), language_pack_info: { word_delimiter: ' ', writing_direction: 'left-to-right', itn: true, adapted: false } });
  }

  private onAudio(bytes: Buffer): void {
    const width = ENCODINGS[this.encoding]!;
    if (bytes.length % width !== 0) return this.fail('data_error', 'audio is not a whole number of samples');
    let pcm: Int16Array;
    if (this.encoding === 'mulaw') pcm = mulawToPcm(bytes);
    else if (this.encoding === 'pcm_f32le') {
      pcm = new Int16Array(bytes.length / 4);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(bytes.readFloatLE(i * 4) * 32767);
    } else pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const tracker = this.tracker!;
    tracker.push(pcm, () => {
      if (!tracker.inSpeech || this.ended) return;
      if (tracker.pauseMs >= this.maxDelayMs) {
        this.finalize();
        if (this.eouTriggerMs > 0 && this.eouTriggerMs <= this.maxDelayMs) this.send({ message: 'EndOfUtterance', metadata: { start_time: tracker.positionSecs, end_time: tracker.positionSecs } });
      } else if (this.partials && tracker.speechMs - this.lastPartialAt >= (this.options.partialIntervalMs ?? 400)) {
        this.lastPartialAt = tracker.speechMs;
        this.sendTranscript('AddPartialTranscript', tracker.revealed());
      }
    });
  }

  private finalize(): void {
    const tracker = this.tracker!;
    if (!tracker.inSpeech) return;
    this.lastPartialAt = 0;
    this.sendTranscript('AddTranscript', tracker.complete());
  }

  private sendTranscript(message: string, words: readonly TrackedWord[]): void {
    const language = (this.startRecognition?.transcription_config as { language?: string } | undefined)?.language;
    const results: Record<string, unknown>[] = [];
    for (const w of words) {
      // Trailing punctuation is its own result, attached to the word before it.
      const match = /^(.*?)([.,!?]?)$/u.exec(w.text)!;
      results.push({ type: 'word', start_time: w.startSecs, end_time: w.endSecs, alternatives: [{ content: match[1], confidence: 0.95, language }] });
      if (match[2] !== '') results.push({ type: 'punctuation', start_time: w.endSecs, end_time: w.endSecs, attaches_to: 'previous', is_eos: match[2] !== ',', alternatives: [{ content: match[2], confidence: 1, language }] });
    }
    const start = words[0]?.startSecs ?? this.tracker!.positionSecs;
    const end = words.at(-1)?.endSecs ?? start;
    this.send({ message, format: '2.9', metadata: { start_time: start, end_time: end, transcript: words.map((w) => w.text).join(' ') }, results });
  }
}

export async function startFakeSpeechmatics(options: FakeSpeechmaticsOptions = {}): Promise<FakeSpeechmatics> {
  const sessions: Session[] = [];
  const queue = new UtteranceQueue();
  const faults: FakeSpeechmaticsFault[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!/^\/v2(\/[a-z]{2,3})?\/?$/.test(url.pathname)) {
      refuseUpgrade(socket, 404, { 'Content-Type': 'text/plain' }, 'Not Found');
      return;
    }
    const key = bearerCredentials(req.headers.authorization ?? '') ?? url.searchParams.get('jwt') ?? undefined;
    if (!isAcceptedKey(key, options) || faults[0] === 401) {
      if (faults[0] === 401) faults.shift();
      refuseUpgrade(socket, 401, { 'Content-Type': 'text/plain' }, 'Unauthorized');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => sessions.push(new Session(ws, queue, options, faults.shift())));
  };
  const controls = await serveFakeSTTSockets({ wss, onUpgrade, queue, faults, open: () => sessions.filter((s) => s.closed === undefined) });
  return {
    ...controls,
    sessions,
  };
}
