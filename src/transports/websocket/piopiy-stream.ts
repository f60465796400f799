// Piopiy WebSocket streaming (spec §8, the pre-LiveKit path): a PCMO `stream` action makes the platform connect
// to OUR WebSocket server and send the caller's audio as binary frames of raw PCM16 little-endian mono at the
// action's `voice_quality` (8000 or 16000); we answer with text frames: `streamAudio` messages carrying base64 PCM,
// controls `pause` / `resume` / `stop` / `break`, or a JSON array of PCMO actions to change the call flow.
//
// Where the spec says [unknown], the safe choice is made and said here:
// - Authentication: none is documented, so the server requires a secret `token` query parameter in the ws_url we
//   give the platform (it connects with exactly that URL) and refuses everything else (HTTP 401).
// - Frame size and cadence of incoming audio: anything is accepted; an odd byte count is carried over to the
//   next frame rather than dropped.
// - Text frames from the platform: parsed as JSON when possible and reported as `message` events; an object with
//   a DTMF digit (`{ "event"|"type": "dtmf", "digit"|"dtmf": "5" }`) is also reported as DTMF. Garbage is logged.
// - Agent audio is sent paced in real time (one message per chunk), so an interruption (`break`) cuts the
//   caller off at once instead of after a large pre-sent buffer.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { runInSession, type CallSession } from '../base/call-session.js';
import { int16ToBytes } from '../../audio/index.js';
import { isDtmfDigit } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { BaseInputTransport } from '../base/input-transport.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../base/output-transport.js';
import { TransportEventEmitter, type CallTransport, type TransportAudioFormats } from '../base/transport.js';

export type StreamSampleRate = 8000 | 16000;

/** Legacy PCMO actions sent to change the call flow (e.g. a `bridge` to a human). */
export type StreamCallFlow = readonly Record<string, unknown>[];

class StreamOutputTransport extends BaseOutputTransport {
  constructor(
    private readonly stream: PiopiyStreamTransport,
    options: OutputTransportOptions,
  ) {
    super(options);
  }

  protected override writeAudio(chunk: Int16Array, sampleRate: number): void {
    this.stream.sendAudio(chunk, sampleRate);
  }

  protected override onInterrupted(): void {
    this.stream.break();
  }
}

export class PiopiyStreamTransport implements CallTransport {
  readonly input: BaseInputTransport;
  readonly output: BaseOutputTransport;
  readonly events = new TransportEventEmitter();
  /** Rate of the caller audio the platform sends (the stream action's voice_quality). */
  readonly sampleRate: StreamSampleRate;
  /** The stream's voice_quality both ways, PCM16 (base64) on the wire. */
  readonly audioFormats: TransportAudioFormats;
  private readonly socket: WebSocket;
  private readonly logger: Logger;
  private carry: number | undefined;
  private connected = true;
  private oddFramesReported = false;

  constructor(socket: WebSocket, options: { sampleRate: StreamSampleRate; logger?: Logger; chunkMs?: number }) {
    this.socket = socket;
    this.sampleRate = options.sampleRate;
    const format = { sampleRate: options.sampleRate, encoding: 'pcm16' } as const;
    this.audioFormats = { input: format, output: format };
    this.logger = options.logger ?? getDefaultLogger();
    this.input = new BaseInputTransport({ name: 'stream-input' });
    this.output = new StreamOutputTransport(this, { name: 'stream-output', chunkMs: options.chunkMs });
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.onClosed('the platform closed the stream'));
    socket.on('error', (error) => {
      this.logger.warn({ err: error }, 'stream socket error');
      this.onClosed('stream socket error');
    });
  }

  get callerConnected(): boolean {
    return this.connected;
  }

  /** Pauses playback of streamed audio on the platform. */
  pause(): void {
    this.send({ action: 'pause' });
  }

  resume(): void {
    this.send({ action: 'resume' });
  }

  /** Stops what the platform is playing now, keeping the call (used on interruption). */
  break(): void {
    this.send({ action: 'break' });
  }

  /** Closes the stream for good (the call itself goes on according to its PCMO). */
  stop(): void {
    this.send({ action: 'stop' });
  }

  /** Replaces the call flow, e.g. `[{ action: 'bridge', from, connect: [{ type: 'pstn', number }] }]`. */
  changeCallFlow(actions: StreamCallFlow): void {
    if (!Array.isArray(actions) || actions.length === 0) throw new TypeError('changeCallFlow: a non-empty array of actions');
    this.send(actions);
  }

  /** @internal Sends one chunk of agent audio. */
  sendAudio(chunk: Int16Array, sampleRate: number): void {
    this.send({
      type: 'streamAudio',
      data: { audioDataType: 'raw', sampleRate, audioData: int16ToBytes(chunk).toString('base64') },
    });
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) {
      this.stop();
      this.socket.close(1000);
    }
    this.onClosed('closed by the agent');
  }

  private send(message: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.onAudio(data);
      return;
    }
    const text = data.toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.logger.warn({ chars: text.length }, 'stream: a text frame that is not JSON was ignored');
      return;
    }
    const digit = dtmfDigit(message);
    if (digit !== undefined) {
      this.input.pushDTMF(digit);
      this.events.emit('dtmf', digit);
      return;
    }
    this.input.pushMessage(message);
    this.events.emit('message', message);
  }

  private onAudio(data: Buffer): void {
    let bytes: Buffer = data;
    if (this.carry !== undefined) {
      bytes = Buffer.concat([Buffer.from([this.carry]), data]);
      this.carry = undefined;
    }
    if (bytes.length % 2 !== 0) {
      if (!this.oddFramesReported) {
        this.oddFramesReported = true;
        this.logger.warn({ bytes: data.length }, 'stream: audio frames with an odd byte count; carrying the byte over');
      }
      this.carry = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    if (bytes.length === 0) return;
    // Copy into an aligned array: ws hands out slices of a shared buffer at any offset.
    const samples = new Int16Array(bytes.length / 2);
    Buffer.from(samples.buffer).set(bytes);
    this.input.pushAudio(samples, this.sampleRate);
  }

  private onClosed(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.events.emit('caller-left', reason);
  }
}

function dtmfDigit(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.event !== 'dtmf' && m.type !== 'dtmf') return undefined;
  const digit = m.digit ?? m.dtmf;
  return isDtmfDigit(digit) ? digit : undefined;
}

export interface PiopiyStreamServerOptions {
  /** Secret the platform must present as `?token=` (put it in the stream action's ws_url). Required. */
  authToken: string;
  /** The stream action's voice_quality. Default 8000. */
  sampleRate?: StreamSampleRate;
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  path?: string;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: CallSession) => Promise<void> | void;
}

/** The server the platform's stream action connects to; one session per connection. */
export class PiopiyStreamServer {
  private readonly options: PiopiyStreamServerOptions;
  private readonly logger: Logger;
  private readonly http: HttpServer;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Set<Promise<void>>();

  constructor(options: PiopiyStreamServerOptions) {
    if (typeof options.authToken !== 'string' || options.authToken.length < 16) {
      throw new TypeError('PiopiyStreamServer: authToken must be a secret of at least 16 characters');
    }
    this.options = options;
    this.logger = options.logger ?? getDefaultLogger();
    this.http = createServer((_req, res) => res.writeHead(426).end());
    this.http.on('upgrade', (request, socket, head) => {
      if (!this.authorized(request)) {
        this.logger.warn({ remote: request.socket.remoteAddress }, 'stream: connection refused (bad path or token)');
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.startCall(ws, request));
    });
  }

  /** Starts listening; resolves with the ws:// URL (token included) to put in the stream action. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    const { port } = this.http.address() as AddressInfo;
    return `ws://${this.options.host ?? '127.0.0.1'}:${port}${this.options.path ?? '/stream'}?token=${encodeURIComponent(this.options.authToken)}`;
  }

  /** Stops accepting streams, ends the calls in progress and waits for their sessions. */
  async close(): Promise<void> {
    for (const client of this.wss.clients) client.close(1001);
    await Promise.allSettled([...this.sessions]);
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private authorized(request: IncomingMessage): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== (this.options.path ?? '/stream')) return false;
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const expected = Buffer.from(this.options.authToken);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private startCall(socket: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const callId = url.searchParams.get('call_id') ?? randomUUID();
    const logger = this.logger.child({ callId });
    const transport = new PiopiyStreamTransport(socket, { sampleRate: this.options.sampleRate ?? 8000, logger });
    const controller = new AbortController();
    transport.events.on('caller-left', () => controller.abort());
    const session: CallSession = {
      callId,
      agentId: undefined,
      fromNumber: url.searchParams.get('from') ?? undefined,
      toNumber: url.searchParams.get('to') ?? undefined,
      metadata: null,
      roomName: callId,
      transport,
      signal: controller.signal,
      logger,
    };
    const done = (async () => {
      try {
        await runInSession(session, () => this.options.onCall(session));
      } catch (error) {
        logger.error({ err: error }, 'stream session failed; this call ends');
      } finally {
        await transport.close();
      }
    })();
    this.sessions.add(done);
    void done.finally(() => this.sessions.delete(done));
  }
}
