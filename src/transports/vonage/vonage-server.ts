// The server Vonage talks to for a call: the answer webhook (an NCCO connecting the call to our WebSocket) and the
// stream's WebSocket. Mount it in your own HTTP server (`handleRequest`, `handleUpgrade`) or let it listen.
// Answer webhooks must carry Vonage's signed JWT (docs/carriers.md; turn on signed webhooks in the application)
// unless `validateSignatures` is false. The WebSocket request is not signed, so the signed answer hands Vonage a
// stream URL signed by us (../media-stream/stream-token.ts, keyed with the signature secret), carrying the call's
// uuid and numbers: a stream without a valid one is refused (403).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { MediaStreamTransport, type MediaStreamJitterOptions } from '../media-stream/media-stream-transport.js';
import {
  checkPublicOrigin,
  MediaStreamSessions,
  pathOf,
  readBody,
  refuseUpgrade,
  serveWebhook,
  type MediaStreamSessionBase,
} from '../media-stream/stream-sessions.js';
import { signedStreamQuery, verifiedStreamFields } from '../media-stream/stream-token.js';
import { isValidVonageWebhook } from './jwt.js';
import { VonageCalls, type VonageCredentials } from './rest.js';
import { VONAGE_SAMPLE_RATES, VonageSerializer, type VonageSampleRate } from './serializer.js';

/** One Vonage call, as `onCall` receives it. */
export interface VonageCallSession extends MediaStreamSessionBase {
  /** Hangs up through the Voice API, once what was written has had time to play (the lead, 80 ms by default). */
  hangUp(): Promise<void>;
  /** Transfers the caller to `to` (a number or `sip:` URI) through the Voice API, after what was written played. */
  transfer(to: string, options?: { callerId?: string }): Promise<void>;
}

export interface VonageServerOptions extends VonageCredentials {
  /** The URL Vonage reaches this server at (`https://your.host`). Default: rebuilt from each request's Host. */
  publicUrl?: string;
  /** Default `/vonage/answer`: the application's answer URL (GET or POST) is publicUrl + this. */
  answerPath?: string;
  /** Default `/vonage/stream`. */
  streamPath?: string;
  /** Default 16000 (linear PCM 16 kHz, twice the phone band); or 8000. */
  sampleRate?: VonageSampleRate;
  /** Rejects unsigned answers and streams (403). Default true; false only for local experiments. */
  validateSignatures?: boolean;
  /** How far ahead of real time agent audio is sent. Default 80 ms (also what an interruption lets through). */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: VonageCallSession) => Promise<void> | void;
}

export class VonageServer {
  readonly calls: VonageCalls;
  private readonly options: VonageServerOptions;
  private readonly logger: Logger;
  private readonly answerPath: string;
  private readonly streamPath: string;
  private readonly sampleRate: VonageSampleRate;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions: MediaStreamSessions;

  constructor(options: VonageServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? getDefaultLogger()).child({ component: 'vonage' });
    if (typeof options.signatureSecret !== 'string' || options.signatureSecret === '') throw new TypeError('VonageServer: signatureSecret is required');
    this.calls = new VonageCalls(options, this.logger);
    this.sessions = new MediaStreamSessions('vonage', this.logger);
    this.answerPath = options.answerPath ?? '/vonage/answer';
    this.streamPath = options.streamPath ?? '/vonage/stream';
    this.sampleRate = options.sampleRate ?? 16000;
    if (!VONAGE_SAMPLE_RATES.includes(this.sampleRate)) throw new TypeError('VonageServer: sampleRate must be 8000 or 16000');
    checkPublicOrigin('VonageServer', options.publicUrl);
  }

  /** Handles the answer webhook; false for any other request (for your own routes). */
  handleRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (pathOf(request) !== this.answerPath) return false;
    return serveWebhook(request, response, { methods: ['GET', 'POST'], logger: this.logger, what: 'vonage: answer webhook' }, () => this.answer(request, response));
  };

  /** Handles the stream's WebSocket upgrade; false for any other path. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== this.streamPath) return false;
    const fields = this.options.validateSignatures === false
      ? Object.fromEntries(new URL(request.url ?? '/', 'http://localhost').searchParams)
      : verifiedStreamFields(this.options.signatureSecret, request.url);
    if (fields?.call === undefined) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'vonage: stream refused (its URL is not one our answer signed)');
      refuseUpgrade(socket);
      return true;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.startStream(ws, fields));
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

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = request.method === 'POST' ? await readBody(request) : '';
    if (this.options.validateSignatures !== false && !isValidVonageWebhook(this.options.signatureSecret, request.headers.authorization, body)) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'vonage: answer webhook refused (no valid signed JWT)');
      response.writeHead(403).end();
      return;
    }
    const params: Record<string, unknown> = body === '' ? Object.fromEntries(new URL(request.url ?? '/', 'http://localhost').searchParams) : (JSON.parse(body) as Record<string, unknown>);
    const text = (key: string): string => (typeof params[key] === 'string' ? params[key] : '');
    if (text('uuid') === '') throw new TypeError('an answer without the call uuid');
    const query = signedStreamQuery(this.options.signatureSecret, { call: text('uuid'), from: text('from'), to: text('to') });
    const origin = (this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${request.headers.host ?? 'localhost'}`).replace(/^http/, 'ws');
    const ncco = [
      {
        action: 'connect',
        endpoint: [{ type: 'websocket', uri: `${origin}${this.streamPath}?${query.toString()}`, 'content-type': `audio/l16;rate=${this.sampleRate}`, headers: {} }],
      },
    ];
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ncco));
  }

  private startStream(socket: WebSocket, fields: Record<string, string>): void {
    const start = { callId: fields.call!, streamId: fields.call!, fromNumber: fields.from || undefined, toNumber: fields.to || undefined, customParameters: {} };
    const transport = new MediaStreamTransport(socket, new VonageSerializer(this.sampleRate), {
      logger: this.logger,
      leadMs: this.options.leadMs,
      jitter: this.options.jitter,
      start,
    });
    // No acknowledgements: once our queue is out, what was written ahead (the lead) still has to play at Vonage.
    const playedOut = async (): Promise<void> => {
      await transport.playedOut();
      await new Promise((resolve) => setTimeout(resolve, (this.options.leadMs ?? 80) + 20));
    };
    this.sessions.serve(
      socket,
      transport,
      (base): VonageCallSession => ({
        ...base,
        hangUp: async () => {
          await playedOut();
          await this.calls.hangUp(base.callId);
        },
        transfer: async (to, options) => {
          await playedOut();
          await this.calls.transfer(base.callId, to, options);
        },
      }),
      this.options.onCall,
    );
  }
}

/** The server Vonage talks to; see VonageServer. */
export function createVonageServer(options: VonageServerOptions): VonageServer {
  return new VonageServer(options);
}
