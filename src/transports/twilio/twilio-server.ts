// The server Twilio talks to for a call: the answer webhook (TwiML pointing the call at our stream) and the stream's
// WebSocket. Mount it in your own HTTP server (`handleRequest`, `handleUpgrade`) or let it listen (`listen`).
// Both requests must carry a valid `X-Twilio-Signature` (docs/carriers.md) unless `validateSignatures` is false.
//
// The URL Twilio signs is the one it requested. Behind a TLS proxy our server sees another scheme, so `publicUrl`
// (https://your.host) names it; without it the URL is rebuilt from the Host header as http:// and ws://.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { MediaStreamTransport, type MediaStreamJitterOptions } from '../media-stream/media-stream-transport.js';
import type { MediaStreamStart } from '../media-stream/serializer.js';
import {
  checkPublicOrigin,
  MediaStreamSessions,
  pathOf,
  readBody,
  refuseUpgrade,
  serveWebhook,
  type MediaStreamSessionBase,
} from '../media-stream/stream-sessions.js';
import { TwilioCalls, type TwilioCredentials } from './rest.js';
import { TwilioSerializer } from './serializer.js';
import { isValidTwilioSignature } from './signature.js';
import { connectStreamTwiml } from './twiml.js';

/** One Twilio call, as `onCall` receives it. */
export interface TwilioCallSession extends MediaStreamSessionBase {
  /** The stream's start: CallSid, streamSid, the `<Parameter>`s (From and To among them). */
  readonly stream: MediaStreamStart;
  /** Hangs up through the REST API, once the caller has heard what was sent (at most 2 s later). */
  hangUp(): Promise<void>;
  /** Connects the caller to `to` (a number or `sip:` URI) through the REST API, after what was sent has played. */
  transfer(to: string, options?: { callerId?: string }): Promise<void>;
}

export interface TwilioServerOptions extends TwilioCredentials {
  /** The URL Twilio reaches this server at (`https://your.host`). Default: rebuilt from each request's Host. */
  publicUrl?: string;
  /** Default `/twilio/voice`: set the number's Voice URL (HTTP POST) to publicUrl + this. */
  answerPath?: string;
  /** Default `/twilio/stream`. */
  streamPath?: string;
  /** Rejects requests without a valid X-Twilio-Signature (403). Default true; false only for local experiments. */
  validateSignatures?: boolean;
  /** How far ahead of real time agent audio is sent. Default 80 ms. */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  logger?: Logger;
  /** One call: build a VoiceAgent (it finds the transport by itself) and resolve when the call is over. */
  onCall: (call: TwilioCallSession) => Promise<void> | void;
}

export class TwilioServer {
  readonly calls: TwilioCalls;
  private readonly options: TwilioServerOptions;
  private readonly logger: Logger;
  private readonly answerPath: string;
  private readonly streamPath: string;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions: MediaStreamSessions;

  constructor(options: TwilioServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? getDefaultLogger()).child({ component: 'twilio' });
    this.calls = new TwilioCalls(options, this.logger);
    this.sessions = new MediaStreamSessions('twilio', this.logger);
    this.answerPath = options.answerPath ?? '/twilio/voice';
    this.streamPath = options.streamPath ?? '/twilio/stream';
    checkPublicOrigin('TwilioServer', options.publicUrl);
  }

  /** Handles the answer webhook; false for any other request (for your own routes). */
  handleRequest = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (pathOf(request) !== this.answerPath) return false;
    return serveWebhook(request, response, { methods: ['POST'], logger: this.logger, what: 'twilio: answer webhook' }, () => this.answer(request, response));
  };

  /** Handles the stream's WebSocket upgrade; false for any other path. */
  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== this.streamPath) return false;
    const url = this.publicUrlOf(request, 'ws');
    if (!this.signed(request, url, {})) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'twilio: stream refused (no valid X-Twilio-Signature)');
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

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const params = Object.fromEntries(new URLSearchParams(await readBody(request)));
    if (!this.signed(request, this.publicUrlOf(request, 'http'), params)) {
      this.logger.warn({ remote: request.socket.remoteAddress }, 'twilio: answer webhook refused (no valid X-Twilio-Signature)');
      response.writeHead(403).end();
      return;
    }
    const parameters: Record<string, string> = {};
    // AnsweredBy: Answering Machine Detection's verdict on an outbound call created with MachineDetection
    // (VoiceAgent's voicemailDetection reads it from the call's metadata).
    for (const name of ['From', 'To', 'Direction', 'AnsweredBy'] as const) if (params[name] !== undefined) parameters[name] = params[name];
    const twiml = connectStreamTwiml(this.origin(request, 'ws') + this.streamPath, parameters);
    response.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
  }

  private startStream(socket: WebSocket): void {
    const transport = new MediaStreamTransport(socket, new TwilioSerializer(), {
      logger: this.logger,
      leadMs: this.options.leadMs,
      jitter: this.options.jitter,
    });
    this.sessions.serve(
      socket,
      transport,
      (base): TwilioCallSession => ({
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

  private signed(request: IncomingMessage, url: string, params: Record<string, string>): boolean {
    if (this.options.validateSignatures === false) return true;
    const header = request.headers['x-twilio-signature'];
    return isValidTwilioSignature(this.options.authToken, typeof header === 'string' ? header : undefined, url, params);
  }

  /** The URL Twilio requested (scheme `http` → http/https, `ws` → ws/wss). */
  private publicUrlOf(request: IncomingMessage, scheme: 'http' | 'ws'): string {
    return this.origin(request, scheme) + (request.url ?? '/');
  }

  private origin(request: IncomingMessage, scheme: 'http' | 'ws'): string {
    const base = this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${request.headers.host ?? 'localhost'}`;
    return scheme === 'http' ? base : base.replace(/^http/, 'ws');
  }
}

/** The server Twilio talks to; see TwilioServer. */
export function createTwilioServer(options: TwilioServerOptions): TwilioServer {
  return new TwilioServer(options);
}
