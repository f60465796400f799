// SimulatorMediaTransport: a call's media when the invite comes from the local Piopiy simulator (see
// protocol.ts). Same role as the LiveKit room transport on the platform, so user code cannot tell them apart.
import { systemClock, type Clock } from '../../runtime/clock.js';
import WebSocket from 'ws';
import { bytesToInt16, int16ToBytes } from '../../audio/index.js';
import { isDtmfDigit, type DtmfDigit } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { BaseInputTransport } from '../base/input-transport.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../base/output-transport.js';
import { TransportEventEmitter, type CallTransport, type TransportAudioFormats } from '../base/transport.js';
import { simulatorWebSocketUrl, type AgentMediaMessage, type CallerMediaMessage } from './protocol.js';

export interface SimulatorMediaTransportOptions extends Pick<OutputTransportOptions, 'chunkMs' | 'dtmfGapMs'> {
  url: string;
  token: string;
  roomName: string;
  logger?: Logger;
  /** How long connect() waits for the simulator. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** The clock of the connection timeout. Default: the system clock. */
  clock?: Clock;
}

class SocketOutputTransport extends BaseOutputTransport {
  constructor(
    private readonly send: (chunk: Int16Array) => void,
    private readonly sendKey: (digit: DtmfDigit) => void,
    options: OutputTransportOptions,
  ) {
    super(options);
  }

  override get canSendDTMF(): boolean {
    return true;
  }

  protected override writeAudio(chunk: Int16Array): void {
    this.send(chunk);
  }

  protected override writeDTMF(digit: DtmfDigit): void {
    this.sendKey(digit);
  }
}

export class SimulatorMediaTransport implements CallTransport {
  readonly input: BaseInputTransport;
  readonly output: BaseOutputTransport;
  readonly events = new TransportEventEmitter();
  /** As a Piopiy room: 16 kHz from the caller, 8 kHz to the caller (the simulator's caller may send another rate). */
  readonly audioFormats: TransportAudioFormats = {
    input: { sampleRate: 16000, encoding: 'pcm16' },
    output: { sampleRate: 8000, encoding: 'pcm16' },
  };
  private readonly options: SimulatorMediaTransportOptions;
  private readonly logger: Logger;
  private socket: WebSocket | undefined;
  private callerRate = 16000;
  private connected = false;
  private closed = false;

  constructor(options: SimulatorMediaTransportOptions) {
    this.options = options;
    this.logger = options.logger ?? getDefaultLogger();
    this.input = new BaseInputTransport({ name: 'sim-input' });
    this.output = new SocketOutputTransport(
      (chunk) => this.sendAudio(chunk),
      (digit) => {
        if (this.socket?.readyState !== WebSocket.OPEN) throw new Error('SimulatorMediaTransport: not connected; the key was not sent');
        this.sendJSON({ type: 'dtmf', digit });
      },
      { name: 'sim-output', chunkMs: options.chunkMs, dtmfGapMs: options.dtmfGapMs },
    );
  }

  get callerConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    if (this.socket !== undefined) return;
    if (this.closed) throw new Error('SimulatorMediaTransport: closed');
    const socket = new WebSocket(simulatorWebSocketUrl(this.options.url, this.options.roomName), {
      headers: { Authorization: `Bearer ${this.options.token}` },
    });
    this.socket = socket;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.onClosed('media connection closed'));
    socket.on('error', (error) => {
      this.logger.warn({ err: error }, 'simulator media connection error');
      this.events.emit('error', error);
    });
    const clock = this.options.clock ?? systemClock;
    await new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        socket.terminate();
        reject(new Error('SimulatorMediaTransport: the simulator did not answer in time'));
      }, this.options.connectTimeoutMs ?? 5000);
      socket.once('open', () => {
        clock.clearTimeout(timer);
        resolve();
      });
      socket.once('unexpected-response', (_req, res) => {
        clock.clearTimeout(timer);
        reject(new Error(`SimulatorMediaTransport: media connection refused (HTTP ${res.statusCode})`));
      });
      socket.once('error', (error) => {
        clock.clearTimeout(timer);
        reject(error);
      });
    });
    this.sendJSON({ type: 'hello', sampleRate: this.output.sampleRate });
  }

  /** Sends a JSON message to the other side (like a LiveKit data message). */
  sendMessage(data: unknown): void {
    this.sendJSON({ type: 'message', data });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket?.close(1000);
    this.onClosed('closed by the agent');
  }

  private sendAudio(chunk: Int16Array): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(int16ToBytes(chunk));
  }

  private sendJSON(message: AgentMediaMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (data.length % 2 !== 0) {
        this.logger.warn({ bytes: data.length }, 'odd-length audio frame from the simulator; dropped');
        return;
      }
      this.input.pushAudio(bytesToInt16(data), this.callerRate);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      this.logger.warn({ bytes: data.length }, 'malformed JSON from the simulator media; ignored');
      return;
    }
    // The JSON comes from the network: a message of the wrong shape is dropped with the field it got wrong, never
    // allowed to throw inside the socket's event handler (that would be an uncaught exception for the process).
    const message = checkCallerMessage(parsed);
    if (typeof message === 'string') {
      this.logger.warn({ field: message }, `malformed simulator media message (${message}); ignored`);
      return;
    }
    switch (message.type) {
      case 'caller-joined':
        this.callerRate = message.sampleRate;
        this.connected = true;
        this.events.emit('caller-joined');
        return;
      case 'caller-left':
        this.onClosed(message.reason);
        return;
      case 'dtmf':
        this.input.pushDTMF(message.digit);
        this.events.emit('dtmf', message.digit);
        return;
      case 'message':
        this.input.pushMessage(message.data);
        this.events.emit('message', message.data);
        return;
    }
  }

  private onClosed(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.events.emit('caller-left', reason);
  }
}

/** The message when it is a well-formed caller message, else the name of the first field that is wrong. */
function checkCallerMessage(value: unknown): CallerMediaMessage | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'message';
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'caller-joined': {
      const rate = message.sampleRate;
      return typeof rate === 'number' && Number.isInteger(rate) && rate >= 8000 && rate <= 48000
        ? { type: 'caller-joined', sampleRate: rate }
        : 'sampleRate';
    }
    case 'caller-left':
      return { type: 'caller-left', reason: typeof message.reason === 'string' ? message.reason.slice(0, 200) : 'caller left' };
    case 'dtmf':
      return isDtmfDigit(message.digit) ? { type: 'dtmf', digit: message.digit } : 'digit';
    case 'message':
      return 'data' in message ? { type: 'message', data: message.data } : 'data';
    default:
      return 'type';
  }
}
