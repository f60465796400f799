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
// - Playback acknowledgements: none, so the shared media-stream base (../media-stream/) sends agent audio at most
//   `leadMs` (80 ms) ahead of real time, counts what was sent ahead as unheard at an interruption and drops it from
//   the platform with `break`. Caller audio goes through its jitter buffer in arrival order (no positions given).
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { runInSession, type CallSession } from '../base/call-session.js';
import { int16ToBytes } from '../../audio/index.js';
import { isDtmfDigit } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import type { TransportAudioFormats } from '../base/transport.js';
import { MediaStreamTransport, type MediaStreamJitterOptions } from '../media-stream/media-stream-transport.js';
import {
  MediaStreamProtocolError,
  type MediaStreamEvent,
  type MediaStreamSerializer,
  type MediaStreamStart,
} from '../media-stream/serializer.js';

export type StreamSampleRate = 8000 | 16000;

/** Legacy PCMO actions sent to change the call flow (e.g. a `bridge` to a human). */
export type StreamCallFlow = readonly Record<string, unknown>[];

/** @internal The Piopiy stream's wire protocol (see the top of this file); one per connection (it carries odd bytes over). */
export class PiopiyStreamSerializer implements MediaStreamSerializer {
  readonly carrier = 'piopiy';
  readonly audioFormats: TransportAudioFormats;
  readonly acknowledgesPlayback = false;
  readonly startsImmediately = true;
  private carry: number | undefined;
  private oddFramesReported = false;

  constructor(
    private readonly sampleRate: StreamSampleRate,
    private readonly logger: Logger,
  ) {
    const format = { sampleRate, encoding: 'pcm16' } as const;
    this.audioFormats = { input: format, output: format };
  }

  decode(data: Buffer, isBinary: boolean): readonly MediaStreamEvent[] {
    if (isBinary) return this.decodeAudio(data);
    const text = data.toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      throw new MediaStreamProtocolError(`a text frame that is not JSON (${text.length} chars)`);
    }
    const digit = dtmfDigit(message);
    if (digit !== undefined) return [{ type: 'dtmf', digit }];
    return [{ type: 'message', message }];
  }

  encodeAudio(chunk: Int16Array): string {
    return JSON.stringify({
      type: 'streamAudio',
      data: { audioDataType: 'raw', sampleRate: this.sampleRate, audioData: int16ToBytes(chunk).toString('base64') },
    });
  }

  encodeMark(): undefined {
    return undefined;
  }

  encodeClear(): string {
    return JSON.stringify({ action: 'break' });
  }

  encodeEnd(): string {
    return JSON.stringify({ action: 'stop' });
  }

  private decodeAudio(data: Buffer): readonly MediaStreamEvent[] {
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
    if (bytes.length === 0) return [];
    // Copy into an aligned array: ws hands out slices of a shared buffer at any offset.
    const samples = new Int16Array(bytes.length / 2);
    Buffer.from(samples.buffer).set(bytes);
    return [{ type: 'audio', samples }];
  }
}

export interface PiopiyStreamTransportOptions {
  sampleRate: StreamSampleRate;
  logger?: Logger;
  chunkMs?: number;
  /** How far ahead of real time agent audio is sent. Default 80 ms (`MediaStreamTransportOptions.leadMs`). */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  /** The call the stream carries (from the ws_url's query). Default: a random call id. */
  start?: MediaStreamStart;
}

export class PiopiyStreamTransport extends MediaStreamTransport {
  /** Rate of the caller audio the platform sends (the stream action's voice_quality). */
  readonly sampleRate: StreamSampleRate;

  constructor(socket: WebSocket, options: PiopiyStreamTransportOptions) {
    const logger = options.logger ?? getDefaultLogger();
    super(socket, new PiopiyStreamSerializer(options.sampleRate, logger), {
      logger,
      chunkMs: options.chunkMs,
      leadMs: options.leadMs,
      jitter: options.jitter,
      start: options.start ?? { callId: randomUUID(), streamId: randomUUID(), customParameters: {} },
    });
    this.sampleRate = options.sampleRate;
  }

  /** Pauses playback of streamed audio on the platform. */
  pause(): void {
    this.sendJson({ action: 'pause' });
  }

  resume(): void {
    this.sendJson({ action: 'resume' });
  }

  /** Stops what the platform is playing now, keeping the call (used on interruption). */
  break(): void {
    this.clear();
  }

  /** Closes the stream for good (the call itself goes on according to its PCMO). */
  stop(): void {
    this.sendJson({ action: 'stop' });
  }

  /** Replaces the call flow, e.g. `[{ action: 'bridge', from, connect: [{ type: 'pstn', number }] }]`. */
  changeCallFlow(actions: StreamCallFlow): void {
    if (!Array.isArray(actions) || actions.length === 0) throw new TypeError('changeCallFlow: a non-empty array of actions');
    this.sendJson(actions);
  }

  private sendJson(message: unknown): void {
    this.send(JSON.stringify(message));
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
    const transport = new PiopiyStreamTransport(socket, {
      sampleRate: this.options.sampleRate ?? 8000,
      logger,
      start: { callId, streamId: callId, customParameters: {} },
    });
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
