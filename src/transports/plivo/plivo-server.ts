// The server Plivo talks to for a call: the answer webhook (XML pointing the call at our stream), the transfer XML
// and the stream's WebSocket. Mount it in your own HTTP server (`handleRequest`, `handleUpgrade`) or let it listen.
// Webhooks must carry a valid X-Plivo-Signature-V3 (docs/carriers.md) unless `validateSignatures` is false. Plivo
// does not document a signature on the stream's WebSocket request, so the signed answer hands Plivo a stream URL
// signed by us (./media-stream/stream-token.ts): a stream without a valid one is refused (403).
//
// The URL Plivo signs is the one it requested: behind a TLS proxy, `publicUrl` (https://your.host) names it.
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
import { PlivoCalls, type PlivoCredentials } from './rest.js';
import { PLIVO_CONTENT_TYPES, PlivoSerializer, type PlivoContentType } from './serializer.js';
import { isValidPlivoSignatureV3 } from './signature.js';
import { plivoDialXml, plivoStreamXml } from './xml.js';

/** One Plivo call, as `onCall` receives it. */
export interface PlivoCallSession extends MediaStreamSessionBase {
  /** Hangs up through the REST API, once the caller has heard what was sent (at most 2 s later). */
  hangUp(): Promise<void>;
  /** Connects the caller to `to` (a number or `sip:` URI) through the REST API, after what was sent has played. */
  transfer(to: string, options?: { callerId?: string }): Promise<void>;
}

export interface PlivoServerOptions extends PlivoCredentials {
  /** The URL Plivo reaches this server at (`https://your.host`). Default: rebuilt from each request's Host. */
  publicUrl?: string;
  /** Default `/plivo/answer`: set the application's Answer URL (POST) to publicUrl + this. */
  answerPath?: string;
  /** Default `/plivo/stream`. */
  streamPath?: string;
  /** Default `/plivo/transfer`: the XML a transfer moves the call to. */
  transferPath?: string;
  /** Default `audio/x-mulaw;rate=8000` (the phone network's own); `audio/x-l16;rate=16000` is wider band. */
  contentType?: PlivoContentType;
  /** Rejects requests without a valid signature (403). Default true; false only for local experiments. */
  validateSignatures?: boolean;
  /** How far ahead of real time agent audio is sent. Default 80 ms. */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: PlivoCallSession) => Promise<void> | void;
}

export class PlivoServer {
  readonly calls: PlivoCalls;
  private readonly options: PlivoServerOptions;
  private readonly logger: Logger;
  private readonly paths: { answer: string; stream: string; transfer: string };
  private readonly contentType: PlivoContentType;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions: MediaStreamSessions;

  constructor(options: PlivoServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? getDefaultLogger()).child({ component: 'plivo' });
    this.calls = new PlivoCalls(options, this.logger);
    this.sessions = new MediaStreamSessions('plivo', this.logger);
    this.paths = {
      answer: options.answerPath ?? '/plivo/answer',
      stream: options.streamPath ?? '/plivo/stream',
      transfer: options.transferPath ?? '/plivo/transfer',
    };
    this.contentType = options.contentType ?? 'audio/x-mulaw;rate=8000';
    if (!PLIVO_CONTENT_TYPES.includes(this.contentType)) throw new TypeError(`PlivoServer: contentType must be one of ${PLIVO_CONTENT_TYPES.join(', ')}`);
    checkPublicOrigin('PlivoServer', options.publicUrl);
  }

  /** Handles the answer and transfer webhooks; false for any other request (for your own routes). */
  handleRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = pathOf(request);
    if (path !== this.paths.answer && path !== this.paths.transfer) return false;
    return serveWebhook(request, response, { methods: ['POST'], logger: this.logger, what: 'plivo: webhook' }, () => this.webhook(request, response, path === this.paths.answer));
  };

  /** Handles the stream's WebSocket upgrade; false for any other path. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== this.paths.stream) return false;
    const fields = this.options.validateSignatures === false
      ? Object.fromEntries(new URL(request.url ?? '/', 'http://localhost').searchParams)
      : verifiedStreamFields(this.options.authToken, request.url);
    if (fields === undefined) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'plivo: stream refused (its URL is not one our answer signed)');
      refuseUpgrade(socket);
      return true;
    }
    const origin = this.origin(request);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.startStream(ws, fields, origin));
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

  private async webhook(request: IncomingMessage, response: ServerResponse, isAnswer: boolean): Promise<void> {
    const params = Object.fromEntries(new URLSearchParams(await readBody(request)));
    if (!this.signed(request, params)) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'plivo: webhook refused (no valid X-Plivo-Signature-V3)');
      response.writeHead(403).end();
      return;
    }
    let xml: string;
    if (isAnswer) {
      const call = params.CallUUID;
      if (call === undefined) throw new TypeError('an answer without CallUUID');
      const query = signedStreamQuery(this.options.authToken, { call, from: params.From ?? '', to: params.To ?? '' });
      xml = plivoStreamXml(`${this.origin(request).replace(/^http/, 'ws')}${this.paths.stream}?${query.toString()}`, this.contentType);
    } else {
      const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
      const to = query.get('to');
      if (to === null) throw new TypeError('a transfer without a number');
      xml = plivoDialXml(to, { callerId: query.get('callerId') ?? undefined });
    }
    response.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
  }

  private startStream(socket: WebSocket, fields: Record<string, string>, origin: string): void {
    const numbers = { fromNumber: fields.from || undefined, toNumber: fields.to || undefined };
    const transport = new MediaStreamTransport(socket, new PlivoSerializer(this.contentType, numbers), {
      logger: this.logger,
      leadMs: this.options.leadMs,
      jitter: this.options.jitter,
    });
    this.sessions.serve(
      socket,
      transport,
      (base): PlivoCallSession => ({
        ...base,
        hangUp: async () => {
          await transport.playedOut();
          await this.calls.hangUp(base.callId);
        },
        transfer: async (to, options) => {
          await transport.playedOut();
          const query = new URLSearchParams({ to, ...(options?.callerId === undefined ? {} : { callerId: options.callerId }) });
          await this.calls.transfer(base.callId, `${origin}${this.paths.transfer}?${query.toString()}`);
        },
      }),
      this.options.onCall,
    );
  }

  private signed(request: IncomingMessage, params: Record<string, string>): boolean {
    if (this.options.validateSignatures === false) return true;
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const url = this.origin(request) + (request.url ?? '/');
    return isValidPlivoSignatureV3(this.options.authToken, header('x-plivo-signature-v3'), header('x-plivo-signature-v3-nonce'), url, params);
  }

  /** Where Plivo reaches this server (http/https). */
  private origin(request: IncomingMessage): string {
    return this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${request.headers.host ?? 'localhost'}`;
  }
}

/** The server Plivo talks to; see PlivoServer. */
export function createPlivoServer(options: PlivoServerOptions): PlivoServer {
  return new PlivoServer(options);
}
