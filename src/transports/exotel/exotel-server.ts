// The server Exotel's Voicebot applet streams a call to. Mount it in your own HTTP server (`handleUpgrade`) or let
// it listen (`listen`). Exotel has no answer webhook to serve here: the applet in the call flow holds the stream's
// URL (`streamUrl()` builds it). The stream's request must carry the Basic credentials written into that URL
// (Exotel sends them as an Authorization header, docs/carriers.md); without them it is refused (403) unless
// `requireAuth` is false. The alternative Exotel offers, allowing its IP ranges only, is the network's business.
//
// Hang-up and transfer: the applet ends when the stream closes and the call flow goes on to its next applet, so
// `leaveStream()` is both: a Connect applet after the Voicebot transfers the caller to your people, a Hangup ends.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { MediaStreamTransport, type MediaStreamJitterOptions } from '../media-stream/media-stream-transport.js';
import { MediaStreamSessions, pathOf, refuseUpgrade, type MediaStreamSessionBase } from '../media-stream/stream-sessions.js';
import { EXOTEL_SAMPLE_RATES, ExotelSerializer, type ExotelSampleRate } from './serializer.js';

/** One Exotel call, as `onCall` receives it. */
export interface ExotelCallSession extends MediaStreamSessionBase {
  /**
   * Closes the stream once the caller heard what was sent (at most 2 s later): the call flow continues at the
   * applet after the Voicebot (a Connect applet transfers the call, a Hangup applet or none ends it).
   */
  leaveStream(): Promise<void>;
}

export interface ExotelServerOptions {
  /** The Basic credentials in the applet's URL (`wss://user:password@host/...`). Required unless requireAuth is false. */
  streamAuth?: { username: string; password: string };
  /** Refuses streams without the credentials (403). Default true; false only behind Exotel-IP allow-listing. */
  requireAuth?: boolean;
  /** Default `/exotel/stream`. */
  streamPath?: string;
  /**
   * Agent audio per message. Default 3200 bytes, Exotel's minimum (200 ms at 8 kHz, 100 ms above); smaller chunks
   * (a multiple of 20 ms) acknowledge playback more finely but Exotel warns they may play with gaps.
   */
  chunkMs?: number;
  /** How far ahead of real time agent audio is sent. Default two chunks. */
  leadMs?: number;
  /** Default: a 120 ms start delay (Exotel sends a packet per 100 ms, so the window must span more than one). */
  jitter?: MediaStreamJitterOptions;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: ExotelCallSession) => Promise<void> | void;
}

/**
 * Exotel asks for chunks of at least 3200 bytes ("100 ms"), in multiples of 320 bytes (docs/carriers.md). At 8 kHz
 * 3200 bytes are 200 ms, not 100: the docs disagree with themselves there, and the safe reading is the byte count
 * (smaller chunks may play with gaps), so 200 ms at 8 kHz and 100 ms at 16 and 24 kHz (3200 and 4800 bytes).
 */
function chunkMsFor(sampleRate: ExotelSampleRate): number {
  return sampleRate === 8000 ? 200 : 100;
}
const DEFAULT_START_DELAY_MS = 120;

export class ExotelServer {
  private readonly options: ExotelServerOptions;
  private readonly logger: Logger;
  private readonly streamPath: string;
  private readonly expectedAuth: Buffer | undefined;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions: MediaStreamSessions;

  constructor(options: ExotelServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? getDefaultLogger()).child({ component: 'exotel' });
    this.sessions = new MediaStreamSessions('exotel', this.logger);
    this.streamPath = options.streamPath ?? '/exotel/stream';
    const auth = options.streamAuth;
    if (options.requireAuth !== false && (auth === undefined || auth.username === '' || auth.password === '')) {
      throw new TypeError('ExotelServer: streamAuth (the Basic credentials in the applet URL) is required unless requireAuth is false');
    }
    this.expectedAuth = auth === undefined ? undefined : Buffer.from(`Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`);
  }

  /**
   * The URL to give the Voicebot applet: `origin` is where Exotel reaches this server (`https://your.host`);
   * the credentials go in the URL as Exotel expects them.
   */
  streamUrl(origin: string, sampleRate: ExotelSampleRate = 8000): string {
    const url = new URL(this.streamPath, origin.replace(/^http/, 'ws'));
    const auth = this.options.streamAuth;
    if (auth !== undefined) {
      url.username = auth.username;
      url.password = auth.password;
    }
    if (sampleRate !== 8000) url.searchParams.set('sample-rate', String(sampleRate));
    return url.toString();
  }

  /** No HTTP routes of its own (the applet holds the URL): always false. For symmetry with the other carriers. */
  handleRequest = (_request: IncomingMessage, _response: ServerResponse): boolean => false;

  /** Handles the stream's WebSocket upgrade; false for any other path. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== this.streamPath) return false;
    if (!this.authorized(request)) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'exotel: stream refused (no valid Basic credentials)');
      refuseUpgrade(socket);
      return true;
    }
    const rate = Number(new URL(request.url ?? '/', 'http://localhost').searchParams.get('sample-rate') ?? 8000);
    if (!(EXOTEL_SAMPLE_RATES as readonly number[]).includes(rate)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.startStream(ws, rate as ExotelSampleRate));
    return true;
  };

  /** Listens on its own HTTP server; resolves with its local http:// origin. */
  async listen(options: { port?: number; host?: string } = {}): Promise<string> {
    return this.sessions.listen(this, options);
  }

  /** Ends the streams in progress, waits for their sessions, and stops listening (if `listen` was used). */
  async close(): Promise<void> {
    await this.sessions.close();
  }

  private startStream(socket: WebSocket, sampleRate: ExotelSampleRate): void {
    const transport = new MediaStreamTransport(socket, new ExotelSerializer(sampleRate), {
      logger: this.logger,
      chunkMs: this.options.chunkMs ?? chunkMsFor(sampleRate),
      leadMs: this.options.leadMs ?? 2 * (this.options.chunkMs ?? chunkMsFor(sampleRate)),
      jitter: { startDelayMs: DEFAULT_START_DELAY_MS, ...this.options.jitter },
    });
    this.sessions.serve(
      socket,
      transport,
      (base): ExotelCallSession => ({
        ...base,
        leaveStream: async () => {
          await transport.playedOut();
          await transport.close();
        },
      }),
      this.options.onCall,
    );
  }

  private authorized(request: IncomingMessage): boolean {
    if (this.options.requireAuth === false) return true;
    const given = Buffer.from(request.headers.authorization ?? '');
    const expected = this.expectedAuth!;
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The server Exotel's Voicebot applet streams to; see ExotelServer. */
export function createExotelServer(options: ExotelServerOptions): ExotelServer {
  return new ExotelServer(options);
}
