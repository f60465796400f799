// The server Telnyx's Call Control talks to for a call: the webhook (a `call.initiated` for an incoming call is
// answered through the API with a bidirectional stream to us) and the stream's WebSocket. Mount it in your own HTTP
// server (`handleRequest`, `handleUpgrade`) or let it listen (`listen`). Webhooks must carry a valid Ed25519
// signature (docs/carriers.md) unless `validateSignatures` is false. Telnyx does not sign the stream's WebSocket
// request, so our answer hands Telnyx a stream URL signed by us (../media-stream/stream-token.ts, keyed with the API
// key): a stream without a valid one is refused (403).
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { MediaStreamTransport, type MediaStreamJitterOptions } from '../media-stream/media-stream-transport.js';
import { field, stringField } from '../media-stream/serializer.js';
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
import { TelnyxCalls, type TelnyxCredentials } from './rest.js';
import { TelnyxSerializer } from './serializer.js';
import { isValidTelnyxSignature, telnyxPublicKey } from './signature.js';

/** One Telnyx call, as `onCall` receives it. */
export interface TelnyxCallSession extends MediaStreamSessionBase {
  /** Hangs up through Call Control, once the caller has heard what was sent (at most 2 s later). */
  hangUp(): Promise<void>;
  /** Transfers the caller to `to` (a number or `sip:` URI) through Call Control, after what was sent has played. */
  transfer(to: string, options?: { callerId?: string }): Promise<void>;
}

export interface TelnyxServerOptions extends TelnyxCredentials {
  /** The account's webhook public key (base64 Ed25519, from the portal). Required unless validateSignatures is false. */
  publicKey?: string;
  /** The URL Telnyx reaches this server at (`https://your.host`). Default: rebuilt from each request's Host. */
  publicUrl?: string;
  /** Default `/telnyx/webhook`: the Call Control application's webhook URL is publicUrl + this. */
  webhookPath?: string;
  /** Default `/telnyx/stream`. */
  streamPath?: string;
  /** Rejects unsigned webhooks and streams (403). Default true; false only for local experiments. */
  validateSignatures?: boolean;
  /** How far ahead of real time agent audio is sent. Default 80 ms. */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: TelnyxCallSession) => Promise<void> | void;
}

export class TelnyxServer {
  readonly calls: TelnyxCalls;
  private readonly options: TelnyxServerOptions;
  private readonly logger: Logger;
  private readonly webhookPath: string;
  private readonly streamPath: string;
  private readonly publicKey: KeyObject | undefined;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions: MediaStreamSessions;

  constructor(options: TelnyxServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? getDefaultLogger()).child({ component: 'telnyx' });
    this.calls = new TelnyxCalls(options, this.logger);
    this.sessions = new MediaStreamSessions('telnyx', this.logger);
    this.webhookPath = options.webhookPath ?? '/telnyx/webhook';
    this.streamPath = options.streamPath ?? '/telnyx/stream';
    if (options.validateSignatures !== false && options.publicKey === undefined) {
      throw new TypeError('TelnyxServer: publicKey (the webhook signing key) is required unless validateSignatures is false');
    }
    this.publicKey = options.publicKey === undefined ? undefined : telnyxPublicKey(options.publicKey);
    checkPublicOrigin('TelnyxServer', options.publicUrl);
  }

  /** Handles the Call Control webhook; false for any other request (for your own routes). */
  handleRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (pathOf(request) !== this.webhookPath) return false;
    return serveWebhook(request, response, { methods: ['POST'], logger: this.logger, what: 'telnyx: webhook' }, () => this.webhook(request, response));
  };

  /** Handles the stream's WebSocket upgrade; false for any other path. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== this.streamPath) return false;
    if (this.options.validateSignatures !== false && verifiedStreamFields(this.options.apiKey, request.url) === undefined) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'telnyx: stream refused (its URL is not one our answer signed)');
      refuseUpgrade(socket);
      return true;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.startStream(ws));
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

  private async webhook(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (this.publicKey !== undefined && this.options.validateSignatures !== false) {
      const header = (name: string): string | undefined => (typeof request.headers[name] === 'string' ? request.headers[name] : undefined);
      if (!isValidTelnyxSignature(this.publicKey, header('telnyx-signature-ed25519'), header('telnyx-timestamp'), body)) {
        this.logger.warn({ remote: request.socket.remoteAddress }, 'telnyx: webhook refused (no valid Ed25519 signature)');
        response.writeHead(403).end();
        return;
      }
    }
    const event = field(JSON.parse(body) as unknown, 'data');
    const payload = field(event, 'payload');
    // Telnyx wants a quick 200 (it retries otherwise); the answer goes through the API after it.
    response.writeHead(200).end();
    if (field(event, 'event_type') !== 'call.initiated' || field(payload, 'direction') !== 'incoming') return;
    const callControlId = stringField(payload, 'call_control_id');
    if (callControlId === undefined) return;
    const query = signedStreamQuery(this.options.apiKey, { call: callControlId });
    const origin = this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${request.headers.host ?? 'localhost'}`;
    await this.calls.answerWithStream(callControlId, `${origin.replace(/^http/, 'ws')}${this.streamPath}?${query.toString()}`);
  }

  private startStream(socket: WebSocket): void {
    const transport = new MediaStreamTransport(socket, new TelnyxSerializer(), {
      logger: this.logger,
      leadMs: this.options.leadMs,
      jitter: this.options.jitter,
    });
    this.sessions.serve(
      socket,
      transport,
      (base): TelnyxCallSession => ({
        ...base,
        hangUp: async () => {
          await transport.playedOut();
          await this.calls.hangUp(base.callId);
        },
        transfer: async (to, options) => {
          await transport.playedOut();
          await this.calls.transfer(base.callId, to, options);
        },
      }),
      this.options.onCall,
    );
  }
}

/** The server Telnyx's Call Control talks to; see TelnyxServer. */
export function createTelnyxServer(options: TelnyxServerOptions): TelnyxServer {
  return new TelnyxServer(options);
}
