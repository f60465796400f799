// LiveKitTransport: a Piopiy call's media. Each call is a LiveKit room; the agent joins it with the invite's url
// and token, hears every remote audio track (resampled to the pipeline's input rate) and publishes one audio
// track ('piopiy-audio', microphone source) with the agent's voice.
//
// The room itself is behind `LiveKitRoomDriver`, so the transport's logic (who joined, who left, when the call
// ends, data and DTMF, audio both ways) is tested with a fake driver; `rtcNodeRoomDriver()` is the real one on
// @livekit/rtc-node, tested against the LiveKit test server (piopiy-ai/testing, test/slow/livekit/rtc-*).
//
// Differences from the Python SDK, on purpose: the session also ends when the agent's own room connection drops
// (the Python transport only logged it and lingered until the idle timeout), and an interruption also clears
// the audio already handed to LiveKit's source queue.
//
// Keypad digits: a SIP caller's DTMF reaches the room as SIP DTMF data packets (rtc-node's `DtmfReceived`, with
// the RFC 4733 code and the digit), and the agent presses keys with `publishDtmf(code, digit)`, which the SIP
// side plays to the phone (docs/dtmf.md).
import { dtmfEventCode, isDtmfDigit, type DtmfDigit } from '../../frames/index.js';
import { sleep, systemClock, type Clock } from '../../runtime/clock.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { BaseInputTransport } from '../base/input-transport.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../base/output-transport.js';
import { TransportEventEmitter, type CallTransport, type TransportAudioFormats } from '../base/transport.js';
import { LIVEKIT_SOURCE_QUEUE_MS, rtcNodeRoomDriver } from './rtc-node-driver.js';

/** rtc-node's DisconnectReason names that mean the room was closed on purpose, not lost. */
const EXPECTED_DISCONNECT_REASONS: ReadonlySet<string> = new Set(['ROOM_DELETED', 'ROOM_CLOSED', 'CLIENT_INITIATED']);

/** What happens in the room, as the driver reports it. */
export interface LiveKitRoomEvents {
  participantJoined(identity: string): void;
  participantLeft(identity: string): void;
  audioFrame(samples: Int16Array, sampleRate: number, identity: string): void;
  data(payload: Uint8Array, identity: string | undefined): void;
  /** A SIP participant pressed a key (checked by the transport: anything but one keypad key is dropped). */
  dtmf(digit: string, identity: string | undefined): void;
  /** `reason`: rtc-node's DisconnectReason by name (ROOM_DELETED, SIGNAL_CLOSE, ...). */
  disconnected(reason: string): void;
}

/** The part of a LiveKit room the transport uses. */
export interface LiveKitRoomDriver {
  /** Joins the room; resolves with the identities of the remote participants already in it. */
  connect(url: string, token: string, events: LiveKitRoomEvents, options: { inputSampleRate: number }): Promise<string[]>;
  /** Publishes the agent's audio track at `sampleRate`. */
  publishAudio(sampleRate: number): Promise<void>;
  /** Hands one chunk to the published track's source. */
  writeAudio(chunk: Int16Array, sampleRate: number): void;
  /** Drops audio queued in the source (interruption). */
  clearAudio(): void;
  sendData(payload: Uint8Array): Promise<void>;
  /** Presses a key on the SIP side of the room: `code` is the key's RFC 4733 event code. */
  publishDtmf(code: number, digit: DtmfDigit): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Default lead of the agent's audio over real time, held in rtc-node's AudioSource queue. Without one, any
 * event-loop delay over a chunk starves the source and the caller hears gaps (seen on a shared CI machine: a clean
 * tone arrived at 3–6 dB SNR; 60 ms was still too little at load average 20 on 2 cores). An interruption clears
 * that queue, and what waits there counts as unheard, so the lead costs no barge-in latency and no accuracy.
 */
const LIVEKIT_DEFAULT_LEAD_MS = 200;


export interface LiveKitTransportOptions extends Pick<OutputTransportOptions, 'chunkMs' | 'dtmfGapMs' | 'leadMs'> {
  url: string;
  token: string;
  roomName: string;
  /** Default: the real room on @livekit/rtc-node. */
  driver?: LiveKitRoomDriver;
  /** Attempts to join the room before giving up. Default 3. */
  connectAttempts?: number;
  logger?: Logger;
  /** The clock of the join retries' backoff. Default: the system clock. */
  clock?: Clock;
}

class LiveKitOutputTransport extends BaseOutputTransport {
  constructor(
    private readonly driver: () => LiveKitRoomDriver | undefined,
    options: OutputTransportOptions,
  ) {
    super(options);
  }

  protected override writeAudio(chunk: Int16Array, sampleRate: number): void {
    this.driver()?.writeAudio(chunk, sampleRate);
  }

  protected override onInterrupted(): void {
    this.driver()?.clearAudio();
  }

  /** What was written ahead of real time waits in the source's queue: not heard yet. */
  protected override unplayedMs(): number {
    return this.writtenAheadMs;
  }

  override get canSendDTMF(): boolean {
    return true;
  }

  protected override writeDTMF(digit: DtmfDigit): Promise<void> {
    const driver = this.driver();
    if (driver === undefined) return Promise.reject(new Error('LiveKitTransport: not in the room; the key was not sent'));
    return driver.publishDtmf(dtmfEventCode(digit), digit);
  }
}

export class LiveKitTransport implements CallTransport {
  readonly input: BaseInputTransport;
  readonly output: BaseOutputTransport;
  readonly events = new TransportEventEmitter();
  readonly roomName: string;
  /**
   * The rates asked of @livekit/rtc-node, which converts to and from the room's 48 kHz Opus in native code: 16 kHz
   * from the caller (what VAD and most STTs want), 8 kHz to the caller (a phone leg is narrowband).
   */
  readonly audioFormats: TransportAudioFormats = {
    input: { sampleRate: 16000, encoding: 'pcm16' },
    output: { sampleRate: 8000, encoding: 'pcm16' },
  };
  private readonly options: LiveKitTransportOptions;
  private readonly logger: Logger;
  private driver: LiveKitRoomDriver | undefined;
  private readonly participants = new Set<string>();
  private callerJoined = false;
  private ended = false;
  private closed = false;

  constructor(options: LiveKitTransportOptions) {
    this.options = options;
    this.roomName = options.roomName;
    this.logger = options.logger ?? getDefaultLogger();
    this.input = new BaseInputTransport({ name: 'livekit-input' });
    this.output = new LiveKitOutputTransport(() => this.driver, {
      name: 'livekit-output',
      chunkMs: options.chunkMs,
      dtmfGapMs: options.dtmfGapMs,
      // Kept below the source's queue, so a capture never waits for room.
      leadMs: Math.min(options.leadMs ?? LIVEKIT_DEFAULT_LEAD_MS, LIVEKIT_SOURCE_QUEUE_MS - 2 * (options.chunkMs ?? 20)),
    });
  }

  get callerConnected(): boolean {
    return this.callerJoined;
  }

  /** Joins the room (retrying), publishes the agent's track, and reports a caller already in the room. */
  async connect(): Promise<void> {
    if (this.closed) throw new Error('LiveKitTransport: closed');
    if (this.driver !== undefined) return;
    const driver = this.options.driver ?? (await rtcNodeRoomDriver(this.logger));
    const events: LiveKitRoomEvents = {
      participantJoined: (identity) => this.onParticipantJoined(identity),
      participantLeft: (identity) => this.onParticipantLeft(identity),
      audioFrame: (samples, rate) => {
        if (samples.length > 0) this.input.pushAudio(samples, rate);
      },
      data: (payload, identity) => this.onData(payload, identity),
      dtmf: (digit, identity) => {
        if (!isDtmfDigit(digit)) {
          this.logger.warn({ from: identity }, 'a SIP DTMF packet that is not a keypad key was ignored');
          return;
        }
        this.input.pushDTMF(digit);
        this.events.emit('dtmf', digit);
      },
      disconnected: (reason) => this.onRoomDisconnected(reason),
    };
    const attempts = Math.max(1, this.options.connectAttempts ?? 3);
    let present: string[];
    for (let attempt = 1; ; attempt++) {
      try {
        present = await driver.connect(this.options.url, this.options.token, events, {
          inputSampleRate: this.input.sampleRate,
        });
        break;
      } catch (error) {
        if (attempt >= attempts || this.closed) {
          throw new Error(`LiveKitTransport: could not join room ${this.roomName}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        this.logger.warn({ err: error, attempt }, 'joining the LiveKit room failed; retrying');
        await sleep(this.options.clock ?? systemClock, 1000 * 2 ** (attempt - 1));
      }
    }
    this.driver = driver;
    await driver.publishAudio(this.output.sampleRate);
    for (const identity of present) this.onParticipantJoined(identity);
  }

  /** Sends a text/JSON message to the room (reliable data). */
  async sendMessage(message: unknown): Promise<void> {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    await this.driver?.sendData(new TextEncoder().encode(text));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const driver = this.driver;
    this.driver = undefined;
    this.endCall('the agent left the room');
    await driver?.disconnect();
  }

  private onParticipantJoined(identity: string): void {
    this.participants.add(identity);
    if (!this.callerJoined && !this.ended) {
      this.callerJoined = true;
      this.events.emit('caller-joined');
    }
  }

  private onParticipantLeft(identity: string): void {
    this.participants.delete(identity);
    // Any remote participant leaving ends the session (the caller hung up, or the platform took the agent out).
    this.endCall(`participant ${identity} left`);
  }

  private onRoomDisconnected(reason: string): void {
    if (this.closed) return;
    // The platform deleting the room (after a transfer or a hang-up) is how calls end; anything else is a loss.
    const expected = EXPECTED_DISCONNECT_REASONS.has(reason);
    this.logger[expected ? 'info' : 'warn']({ reason, room: this.roomName }, expected ? 'the LiveKit room was closed; ending the call' : 'disconnected from the LiveKit room; ending the call');
    this.endCall(`room disconnected: ${reason}`);
  }

  /** Reports the end of the call once, whatever ended it (caller left, room lost, agent closed). */
  private endCall(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.callerJoined = false;
    this.events.emit('caller-left', reason);
  }

  private onData(payload: Uint8Array, identity: string | undefined): void {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    } catch {
      this.logger.warn({ bytes: payload.length, from: identity }, 'non-UTF-8 data message ignored');
      return;
    }
    let message: unknown = text;
    try {
      message = JSON.parse(text);
    } catch {
      // Plain text messages are passed on as text.
    }
    this.input.pushMessage(message);
    this.events.emit('message', message);
  }
}
