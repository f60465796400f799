// `piopiy-ai dev`: a browser softphone on the local Piopiy simulator. Like the demo it starts the simulator and
// points an agent file at it through the environment (the file is unchanged user code); instead of a scripted
// caller, the caller is you: a page served on http://127.0.0.1:7860 places a call, streams your microphone to
// the agent (16 kHz PCM16, 20 ms frames over a WebSocket) and plays the agent's audio, and shows the call as it
// happens: transcript of both sides, tool calls, REST requests to the (simulated) platform, per-turn latency.
//
// One browser WebSocket drives one SimulatedCall. Browser -> server: binary = caller PCM16 at 16 kHz; text =
// `{ type: 'call' }` / `{ type: 'hangup' }`. Server -> browser: binary = agent PCM16 at the rate announced by the
// last `{ type: 'format', sampleRate }`; text = the JSON events of `DevServerMessage`.
//
// Access: loopback only by default (and then the Host header must name a loopback address and a WebSocket's
// Origin must be the page's own, so another web site open in the same browser cannot drive the softphone).
// Bound to any other address, every HTTP and WebSocket request must carry a random access token (printed in the
// URL as `?token=...`; the page passes it on in a cookie and in the WebSocket URL), else 401. Nothing from the
// environment reaches the page: known secrets are redacted from every message as a second line of defence.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { bytesToInt16, int16ToBytes } from '../audio/index.js';
import { startPiopiySimulator, type PiopiySimulator, type RestRequestEvent, type SimulatedCall, type TimedAudio } from '../testing/simulator/index.js';
import { VOICE_AGENT_CHANNEL, type VoiceAgentDiagnostic } from '../voice-agent/index.js';
import { importAgentFile } from './agent-file.js';
import { DEFAULT_DEV_HOST, DEFAULT_DEV_PORT } from './command-choices.js';
import { knownErrorMessage } from './errors.js';
import { diagnosticEvent, type AgentState, type DevCallEvent, type DevServerMessage } from './dev-messages.js';

export type { AgentState, DevServerMessage } from './dev-messages.js';
export { DEFAULT_DEV_HOST, DEFAULT_DEV_PORT } from './command-choices.js';
/** The caller's audio on the wire between page and server. */
export const DEV_CALLER_SAMPLE_RATE = 16000;
export const DEV_FRAME_MS = 20;

export interface DevServerOptions {
  /** The agent file to load, or null to serve the page with no agent (calls are refused; for tests). */
  agentFile: string | null;
  /** Default 7860; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any address other than a loopback one turns the access token on. */
  host?: string;
  /** Require the access token even on a loopback address (tests). Default: only off loopback. */
  requireToken?: boolean;
  /** Progress lines for the terminal. */
  progress?: (line: string) => void;
  /** How long the agent may take to connect to the simulator after its file is loaded. Default 30 s. */
  agentTimeoutMs?: number;
  /**
   * The call's media between the simulator and the agent (see SimulatorOptions.media). Default 'stream'. With
   * 'livekit' the call is a room on the LiveKit test server and the agent joins it over real WebRTC; the page still
   * talks to this server over its WebSocket, and this server is the caller in the room (an rtc-node participant
   * that publishes the page's microphone and hands back what the agent plays). The browser does not join the room.
   */
  media?: 'stream' | 'livekit';
}

export interface DevServer {
  /** The page's URL, with `?token=...` when the token is required. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The access token, when required. */
  readonly token: string | undefined;
  /** The simulator the agent is connected to. */
  readonly simulator: PiopiySimulator;
  /** Resolves once the agent has connected to the simulator (rejects if it could not be loaded). */
  readonly agentReady: Promise<void>;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** RMS above which a 20 ms frame counts as speech (about -40 dBFS), for the speaking indicators and latency. */
const SPEECH_RMS = 300;
/** Silence after the last speech frame before a side counts as having stopped speaking. */
const SPEECH_HANGOVER_MS = 300;
/** Agent audio is dropped (not queued without bound) while the page's socket is this far behind. */
const MAX_SOCKET_BACKLOG = 512 * 1024;
/** The largest caller audio message accepted: half a second. */
const MAX_CALLER_MESSAGE_BYTES = DEV_CALLER_SAMPLE_RATE;

/** Whether `host` is a loopback address (or localhost), where the softphone is open without a token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** Constant-time comparison of a presented token with the expected one (hashes first, so lengths may differ). */
export function tokensMatch(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The hostname part of a Host header ("127.0.0.1:7860" -> "127.0.0.1", "[::1]:7860" -> "::1"). */
function hostHeaderName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/** Whether a WebSocket request comes from the softphone's own page (or from no page: a non-browser client). */
function fromOwnPage(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Values of environment variables that look like secrets, longest first, to redact from what the page sees. */
function secretValues(extra: readonly string[]): string[] {
  const values = Object.entries(process.env)
    .filter(([name, value]) => /KEY|TOKEN|SECRET|PASS|AUTH|CREDENTIAL/i.test(name) && value !== undefined && value.length >= 6)
    .map(([, value]) => value!);
  return [...new Set([...values, ...extra.filter((v) => v.length >= 6)])].sort((a, b) => b.length - a.length);
}

/** The address to print for a server bound to `host` (a wildcard is not a place a browser can go). */
function displayHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external !== undefined) return external.address;
  }
  return '127.0.0.1';
}

interface Hub {
  readonly simulator: PiopiySimulator;
  readonly agentId: string | undefined;
  agentState: AgentState;
  readonly agentName: string | null;
  redact(text: string): string;
}

/** One browser tab: its socket and at most one call at a time. */
class DevSession {
  private call: SimulatedCall | undefined;
  private offAudio: (() => void) | undefined;
  private sentRate = 0;
  private userSpeaking = false;
  private agentSpeaking = false;
  private lastUserSpeechAt = 0;
  private lastAgentSpeechAt = 0;
  private awaitingReply = false;
  private seq = 0;
  private readonly hangover: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly hub: Hub,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    this.hangover = setInterval(() => this.checkHangover(), 50);
    this.send({
      type: 'hello',
      agent: hub.agentName,
      agentState: hub.agentState,
      callerSampleRate: DEV_CALLER_SAMPLE_RATE,
      frameMs: DEV_FRAME_MS,
    });
  }

  get callId(): string | undefined {
    return this.call?.callId;
  }

  send(message: DevServerMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(this.hub.redact(JSON.stringify(message)));
  }

  /** Sends a call event stamped with the next `seq` (the page orders events by `t`, then `seq`). */
  sendEvent(event: DevCallEvent): void {
    this.send({ ...event, seq: this.seq++ });
  }

  /** Seconds since the call was answered (to 0.1 ms: a tool call and the request it made stay in order). */
  t(at: number = performance.now()): number {
    const origin = this.call?.answeredAt;
    return origin === undefined ? 0 : Math.round((at - origin) * 10) / 10_000;
  }

  onDiagnostic(event: VoiceAgentDiagnostic): void {
    this.sendEvent(diagnosticEvent(event, (at) => this.t(at)));
  }

  onRestRequest(request: RestRequestEvent): void {
    this.sendEvent({ type: 'rest', method: request.method, path: request.path, body: request.body, status: request.status, t: this.t(request.at) });
  }

  close(): void {
    clearInterval(this.hangover);
    this.offAudio?.();
    if (this.call !== undefined && !this.call.isEnded) this.call.hangUp();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.onCallerAudio(data);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (type === 'call') void this.placeCall();
    else if (type === 'hangup') this.hangUp();
  }

  private onCallerAudio(data: Buffer): void {
    const call = this.call;
    if (call === undefined || call.answeredAt === undefined || call.isEnded) return;
    if (data.length === 0 || data.length % 2 !== 0 || data.length > MAX_CALLER_MESSAGE_BYTES) return;
    const audio = bytesToInt16(data);
    call.feed(audio);
    if (rms(audio) >= SPEECH_RMS) {
      const now = performance.now();
      if (!this.userSpeaking) {
        this.userSpeaking = true;
        this.sendEvent({ type: 'speaking', who: 'user', speaking: true, t: this.t(now) });
      }
      this.lastUserSpeechAt = now;
      this.awaitingReply = true;
    }
  }

  private onAgentAudio(frame: TimedAudio, call: SimulatedCall): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (call.agentSampleRate !== this.sentRate) {
      this.sentRate = call.agentSampleRate;
      this.send({ type: 'format', sampleRate: this.sentRate });
    }
    if (this.socket.bufferedAmount < MAX_SOCKET_BACKLOG) this.socket.send(int16ToBytes(frame.audio));
    if (rms(frame.audio) >= SPEECH_RMS) {
      if (!this.agentSpeaking) {
        this.agentSpeaking = true;
        // Voice-to-voice latency: from the end of the caller's speech to the agent's first audible frame.
        const latency = this.awaitingReply ? Math.max(0, Math.round(frame.at - this.lastUserSpeechAt)) : undefined;
        this.sendEvent({ type: 'speaking', who: 'agent', speaking: true, t: this.t(frame.at), ...(latency === undefined ? {} : { latencyMs: latency }) });
        this.awaitingReply = false;
      }
      this.lastAgentSpeechAt = frame.at;
    }
  }

  private checkHangover(): void {
    const now = performance.now();
    if (this.userSpeaking && now - this.lastUserSpeechAt > SPEECH_HANGOVER_MS) {
      this.userSpeaking = false;
      this.sendEvent({ type: 'speaking', who: 'user', speaking: false, t: this.t(this.lastUserSpeechAt) });
    }
    if (this.agentSpeaking && now - this.lastAgentSpeechAt > SPEECH_HANGOVER_MS) {
      this.agentSpeaking = false;
      this.sendEvent({ type: 'speaking', who: 'agent', speaking: false, t: this.t(this.lastAgentSpeechAt) });
    }
  }

  private hangUp(): void {
    if (this.call !== undefined && !this.call.isEnded) this.call.hangUp();
  }

  private async placeCall(): Promise<void> {
    if (this.call !== undefined && !this.call.isEnded) {
      this.send({ type: 'error', message: 'a call is already in progress' });
      return;
    }
    const { agentId, simulator } = this.hub;
    if (agentId === undefined || this.hub.agentState !== 'ready') {
      this.send({ type: 'error', message: this.hub.agentState === 'loading' ? 'the agent is still loading' : 'no agent to call' });
      return;
    }
    let call: SimulatedCall;
    try {
      call = simulator.placeCall({
        agentId,
        from: '919876543210',
        to: '918012345678',
        metadata: { dev: true },
        sampleRate: DEV_CALLER_SAMPLE_RATE,
      });
    } catch (error) {
      this.send({ type: 'error', message: `could not place the call: ${(error as Error).message}` });
      return;
    }
    this.call = call;
    this.sentRate = 0;
    this.userSpeaking = this.agentSpeaking = this.awaitingReply = false;
    this.send({ type: 'state', state: 'ringing', callId: call.callId });
    this.offAudio?.();
    this.offAudio = call.onAgentAudio((frame) => this.onAgentAudio(frame, call));
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      call.answered.then(() => true),
      call.ended.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000))),
    ]);
    clearTimeout(timer);
    if (!answered) {
      if (!call.isEnded) {
        simulator.cancelCall(call.callId);
        call.hangUp();
      }
      this.send({ type: 'error', message: 'the agent did not answer' });
    } else {
      this.send({ type: 'state', state: 'answered', callId: call.callId });
    }
    const end = await call.ended;
    this.send({ type: 'state', state: 'ended', callId: call.callId, reason: end.reason, transferredTo: call.transferredTo });
  }
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const progress = options.progress ?? (() => undefined);
  const host = options.host ?? DEFAULT_DEV_HOST;
  const loopback = isLoopbackHost(host);
  const token = options.requireToken === true || !loopback ? randomBytes(24).toString('base64url') : undefined;
  const pageDir = new URL('./dev-page/', import.meta.url);
  if (!existsSync(pageDir)) {
    throw new Error(`the softphone's page is missing (${fileURLToPath(pageDir)}): the build must copy src/cli/dev-page next to dev.js`);
  }
  const pageFiles = new Set(readdirSync(pageDir).filter((name) => CONTENT_TYPES[extname(name)] !== undefined));

  // The page is the call's display; library logs only when something goes wrong (unless asked for).
  process.env.PIOPIY_LOG_LEVEL ??= 'warn';
  const media = options.media ?? 'stream';
  progress(`starting the local Piopiy simulator${media === 'livekit' ? ' (calls as LiveKit rooms over WebRTC)' : ''} ...`);
  const simulator = await startPiopiySimulator({ media });
  let agentId: string | undefined;
  let agentToken = '';
  if (options.agentFile !== null) {
    // The agent file reads its configuration from the environment, as it would on a server.
    const agentEnvironment = simulator.agentEnvironment();
    agentId = agentEnvironment.AGENT_ID;
    agentToken = agentEnvironment.AGENT_TOKEN;
    Object.assign(process.env, agentEnvironment, { DOTENV_CONFIG_QUIET: 'true' });
  }
  const secrets = secretValues([agentToken, simulator.restToken].filter((s) => s !== ''));
  const sessions = new Set<DevSession>();
  const hub: Hub = {
    simulator,
    agentId,
    agentState: options.agentFile === null ? 'none' : 'loading',
    agentName: options.agentFile === null ? null : basename(options.agentFile),
    redact(text) {
      let out = text;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      return out;
    },
  };

  const onDiagnostic = (message: unknown): void => {
    const event = message as VoiceAgentDiagnostic;
    for (const session of sessions) if (event.callId !== undefined && session.callId === event.callId) session.onDiagnostic(event);
  };
  subscribe(VOICE_AGENT_CHANNEL, onDiagnostic);
  const offRest = simulator.onRestRequest((request) => {
    // A request about a call goes to that call's page; one about no known call (an outbound call) to every page.
    const text = `${request.path} ${JSON.stringify(request.body) ?? ''}`;
    const owners = [...sessions].filter((s) => s.callId !== undefined && text.includes(s.callId));
    for (const session of owners.length > 0 ? owners : sessions) session.onRestRequest(request);
  });

  const cookieName = (port: number): string => `piopiy_dev_token_${port}`;
  let boundPort = 0;
  /** Whether the request may go on: the token rule, and on loopback the Host header (against DNS rebinding). */
  const authorize = (req: IncomingMessage): { ok: true } | { ok: false; status: 401 | 403; message: string } => {
    if (token !== undefined) {
      const url = new URL(req.url ?? '/', 'http://dev.invalid');
      const presented = url.searchParams.get('token') ?? cookieValue(req.headers.cookie, cookieName(boundPort));
      if (!tokensMatch(presented, token)) {
        return { ok: false, status: 401, message: 'Unauthorized: open the URL printed by `piopiy-ai dev` (it carries ?token=...).' };
      }
      return { ok: true };
    }
    const name = hostHeaderName(req.headers.host);
    if (name === undefined || !isLoopbackHost(name)) return { ok: false, status: 403, message: 'Forbidden: the softphone answers on loopback names only.' };
    return { ok: true };
  };

  const securityHeaders = {
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
  };

  const http = createServer((req, res) => {
    void handleHttp(req, res);
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const verdict = authorize(req);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8', ...securityHeaders }).end(`${verdict.message}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', ...securityHeaders }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://dev.invalid').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!pageFiles.has(name)) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...securityHeaders }).end('Not found\n');
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(new URL(name, pageDir));
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...securityHeaders }).end('Not found\n');
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[extname(name)]!,
      'Content-Length': String(body.length),
      ...securityHeaders,
    };
    if (name === 'index.html') {
      headers['Content-Security-Policy'] =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
      headers['Permissions-Policy'] = 'microphone=(self)';
      // The page's own requests (scripts, the audio worklet) carry the token in a cookie scoped to this server.
      if (token !== undefined) headers['Set-Cookie'] = `${cookieName(boundPort)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  };
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const verdict = authorize(req);
    if (!verdict.ok) {
      refuse(socket, verdict.status, verdict.status === 401 ? 'Unauthorized' : 'Forbidden');
      return;
    }
    if (new URL(req.url ?? '/', 'http://dev.invalid').pathname !== '/ws') {
      refuse(socket, 404, 'Not Found');
      return;
    }
    // A browser always says where a WebSocket comes from: only the softphone's own page may connect.
    if (!fromOwnPage(req)) {
      refuse(socket, 403, 'Forbidden');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new DevSession(ws, hub);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
    });
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? DEFAULT_DEV_PORT, host, () => {
        http.off('error', reject);
        resolveListen();
      });
    });
  } catch (error) {
    unsubscribe(VOICE_AGENT_CHANNEL, onDiagnostic);
    offRest();
    await simulator.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${options.port ?? DEFAULT_DEV_PORT} on ${host} is in use: choose another with --port`, { cause: error });
    throw error;
  }
  boundPort = (http.address() as AddressInfo).port;
  const url = `http://${displayHost(host)}:${boundPort}/${token === undefined ? '' : `?token=${token}`}`;

  const broadcastAgent = (state: AgentState, message?: string): void => {
    hub.agentState = state;
    for (const session of sessions) session.send({ type: 'agent', state, ...(message === undefined ? {} : { message }) });
  };
  let agentModule: { agent?: { shutdown(options?: { drainMs?: number }): Promise<void> } } = {};
  const agentReady =
    options.agentFile === null
      ? Promise.resolve()
      : (async () => {
          const file = options.agentFile!;
          progress(`loading ${file} and its models ...`);
          try {
            agentModule = (await importAgentFile(resolve(file), file)) as typeof agentModule;
            await simulator.waitForAgent(agentId!, options.agentTimeoutMs ?? 30_000);
          } catch (error) {
            progress(`the agent could not start: ${knownErrorMessage(error) ?? (error as Error).stack ?? String(error)}`);
            // The page only learns that it failed: the error text may hold configuration it must not see.
            broadcastAgent('failed', 'the agent could not start: see the terminal');
            throw error;
          }
          broadcastAgent('ready');
          progress('the agent is ready: press Call on the page');
        })();
  agentReady.catch(() => undefined);

  let closed = false;
  return {
    url,
    host,
    port: boundPort,
    token,
    simulator,
    agentReady,
    async close() {
      if (closed) return;
      closed = true;
      for (const session of sessions) session.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      unsubscribe(VOICE_AGENT_CHANNEL, onDiagnostic);
      offRest();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await agentReady.catch(() => undefined);
      await agentModule.agent?.shutdown({ drainMs: 1000 }).catch(() => undefined);
      await simulator.close();
    },
  };
}
