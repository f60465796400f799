// The local Piopiy simulator: the platform on 127.0.0.1, for offline tests and the demo. One HTTP server on an
// ephemeral port carries
// - signaling: Socket.IO, checking `{ agent_id, token }` like the platform, sending `join_room` / `cancel_room`;
// - the REST API under /v3, validating bodies like the platform and recording every request; a transfer or
//   hangup on a simulated call ends it the way the platform would (a warm transfer rings the human first and may
//   fail: see ./transfers.ts); an AI call (`/voice/ai/call`, or `/voice/pcmo/call` with agent endpoints, as
//   `ai.call` with failover sends it) rings the callee, who answers at once, and invites the agent to the call
//   (`join_room`) with the callee on the line;
// - the AI-agent management API under /v1 (create, list, delete agents; route a number to one): an agent created
//   there can connect to signaling with the id and token it was given;
// - call media: one WebSocket per call (see src/transports/simulator/protocol.ts); invites carry a
//   `piopiy-sim://` url, so an Agent picks the simulator's media by itself and user code is the same as on the
//   platform.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketIOServer, type Socket } from 'socket.io';
import { WebSocketServer } from 'ws';
import type { PipelineAction } from '../../piopiy/rest/index.js';
import { startLiveKitTestServer, type LiveKitTestServer } from '../livekit-server/index.js';
import type { SpeechSampleRate } from '../speech.js';
import { agentIdentity, joinCallerLine } from './livekit-line.js';
import { createSimulatorRestApi, type SimResult } from './rest-api.js';
import { SimulatedCall } from './simulated-call.js';
import { TransferDesk, type SimTransfer, type SimTransferOutcome } from './transfers.js';

export interface PlaceCallOptions {
  agentId: string;
  from?: string;
  to?: string;
  metadata?: unknown;
  callId?: string;
  /** Rate of the caller's audio. Default 16000 (Piopiy rooms). */
  sampleRate?: SpeechSampleRate;
}

export interface SimulatorOptions {
  /** Bearer tokens the REST API accepts. Default: one random token, `sim.restToken`. */
  restTokens?: string[];
  /**
   * Time from an accepted transfer to the agent being taken out of the call (the platform bridging the caller to
   * the human), during which the agent can still say "connecting you now". Default 4000 ms.
   */
  transferDelayMs?: number;
  /** How long the human's phone rings in a warm transfer before it answers or gives up. Default 3000 ms. */
  transferRingMs?: number;
  /** What `GET /v3/balance` answers as `balance`. Default 1000. */
  balance?: number;
  /** Caller frame length. Default 20 ms. */
  frameMs?: number;
  /**
   * Keep ended calls, with their recordings, in `calls`. Default true. False for long runs (a soak, a long dev
   * session): every call holds both sides' audio, so keeping them all would grow memory without bound.
   */
  keepEndedCalls?: boolean;
  /**
   * The calls' media. 'stream' (default): the simulator's own WebSocket media (`piopiy-sim://` invites).
   * 'livekit': the production path — each call is a room on a LiveKit test server, invites carry its ws:// url and
   * a LiveKit token, the agent joins with LiveKitTransport on @livekit/rtc-node, and the caller is a second rtc-node
   * participant (see docs/livekit-test-server.md).
   */
  media?: 'stream' | 'livekit';
}

/** Who placed a simulated call: `placeCall` (a caller dialling the agent) or the agent's REST `ai.call`. */
export type SimulatedCallDirection = 'inbound' | 'outbound';

export interface WaitForCallOptions {
  /** Only a call to this agent. Default: any agent. */
  agentId?: string;
  /** Default 'outbound': the calls an agent places (inbound ones are placed by the test itself). */
  direction?: SimulatedCallDirection;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

export interface RestRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

/** A REST request as it is recorded, with the status answered (when the response could be matched to it). */
export interface RestRequestEvent extends RestRequestRecord {
  readonly status: number | undefined;
  /** `performance.now()` when the response went out. */
  readonly at: number;
}

/** The variables an agent file reads, pointing at a simulator (see `PiopiySimulator.agentEnvironment`). */
export interface SimulatorAgentEnvironment {
  AGENT_ID: string;
  AGENT_TOKEN: string;
  PIOPIY_SIGNALING_URL: string;
  PIOPIY_API_URL: string;
  PIOPIY_TOKEN: string;
  PIOPIY_MANAGEMENT_API_URL: string;
}

export class PiopiySimulator {
  /** Socket.IO signaling URL: pass it as `signalingUrl` to an Agent. */
  readonly signalingUrl: string;
  /** REST base URL: pass it as `baseUrl` to a RestClient. */
  readonly restBaseUrl: string;
  /** The AI-agent management API: pass it as `managementBaseUrl` to a RestClient. */
  readonly managementBaseUrl: string;
  /** Numbers routed to agents through the management API: number (E.164) to agent id. */
  readonly numberRoutes = new Map<string, string>();
  /** A Bearer token the REST API accepts. */
  readonly restToken: string;
  /** Every REST request received, in order, as `{ method, path, body }`. */
  readonly restRequests: RestRequestRecord[];
  /** Every call, inbound and outbound, by call id, in the order they were placed (see `keepEndedCalls`). */
  readonly calls = new Map<string, SimulatedCall>();
  private readonly agents = new Map<string, string>();
  private readonly directions = new Map<string, SimulatedCallDirection>();
  private callListeners: ((call: SimulatedCall, direction: SimulatedCallDirection) => void)[] = [];
  private agentListeners: ((agentId: string) => void)[] = [];
  private readonly restTokens: Set<string>;
  private signalingAvailable = true;
  private restListeners: ((request: RestRequestEvent) => void)[] = [];
  private restNotified = 0;
  private readonly desk: TransferDesk;
  /** Agents created through the management API, by id. */
  private readonly managedAgents = new Map<string, { id: string; name: string; language?: string }>();
  /** The validated body of each outbound call request, by call id. */
  private readonly callRequests = new Map<string, Record<string, unknown>>();

  /** @internal use startPiopiySimulator() */
  constructor(
    private readonly http: HttpServer,
    private readonly io: SocketIOServer,
    private readonly media: WebSocketServer,
    private readonly port: number,
    private readonly options: SimulatorOptions,
    restRequests: RestRequestRecord[],
    restTokens: Set<string>,
    /** The LiveKit test server the calls' rooms are on, with `media: 'livekit'`. */
    readonly livekit?: LiveKitTestServer,
  ) {
    this.signalingUrl = `http://127.0.0.1:${port}`;
    this.restBaseUrl = `http://127.0.0.1:${port}/v3`;
    this.managementBaseUrl = `http://127.0.0.1:${port}/v1`;
    this.desk = new TransferDesk({ ringMs: options.transferRingMs, handoverMs: options.transferDelayMs });
    this.restRequests = restRequests;
    this.restTokens = restTokens;
    this.restToken = [...restTokens][0]!;
  }

  /**
   * Calls `listener` with each REST request once it has been answered (rejected ones included), in the order
   * they are recorded in `restRequests`; returns a function that removes the listener.
   */
  onRestRequest(listener: (request: RestRequestEvent) => void): () => void {
    this.restListeners.push(listener);
    return () => {
      this.restListeners = this.restListeners.filter((l) => l !== listener);
    };
  }

  /** @internal A REST response went out: tells listeners about the requests recorded since the last one. */
  restAnswered(status: number): void {
    const fresh = this.restRequests.slice(this.restNotified);
    this.restNotified = this.restRequests.length;
    const at = performance.now();
    for (const record of fresh) {
      // With one request in flight (the usual case) this response is its answer; otherwise the pairing is unknown.
      const event: RestRequestEvent = { ...record, status: fresh.length === 1 ? status : undefined, at };
      for (const listener of [...this.restListeners]) {
        try {
          listener(event);
        } catch {
          // A listener's bug must not break the platform's REST API.
        }
      }
    }
  }

  /**
   * What a warm transfer does (default `answer`): for every transfer to `target` (a number as sent, digits only,
   * or a SIP URI), or, with `{ callId }`, for every transfer of that call (which wins over the target's).
   */
  setTransferOutcome(target: string | { callId: string }, outcome: SimTransferOutcome): void {
    if (typeof target === 'string') this.desk.setOutcome(target, outcome);
    else this.desk.setCallOutcome(target.callId, outcome);
  }

  /** The transfers requested on a call, oldest first, with their status. */
  transfersOf(callId: string): readonly SimTransfer[] {
    return this.desk.of(callId);
  }

  /** The validated REST body that placed an outbound call (its `options`, `variables`, ...), if it was one. */
  callRequest(callId: string): Readonly<Record<string, unknown>> | undefined {
    return this.callRequests.get(callId);
  }

  /** Registers agent credentials the signaling server accepts. */
  addAgent(credentials: { agentId: string; token: string }): void {
    this.agents.set(credentials.agentId, credentials.token);
  }

  /**
   * Registers a new agent (a UUID id, as on the platform, and a random token) and returns the environment an agent
   * file reads to run against this simulator instead of the platform: `Object.assign(process.env, sim.agentEnvironment())`
   * before importing it. The demo and `piopiy-ai dev` point agent files at the simulator this way.
   */
  agentEnvironment(): SimulatorAgentEnvironment {
    const agentId = randomUUID();
    const token = randomBytes(16).toString('hex');
    this.addAgent({ agentId, token });
    return {
      AGENT_ID: agentId,
      AGENT_TOKEN: token,
      PIOPIY_SIGNALING_URL: this.signalingUrl,
      PIOPIY_API_URL: this.restBaseUrl,
      PIOPIY_TOKEN: this.restToken,
      PIOPIY_MANAGEMENT_API_URL: this.managementBaseUrl,
    };
  }

  /** Agent ids connected to signaling now. */
  connectedAgents(): string[] {
    return [...new Set([...this.io.of('/').sockets.values()].map((s) => (s.data as { agentId: string }).agentId))];
  }

  /**
   * Calls `listener` with the agent id each time an agent's signaling connection is accepted — at the moment the
   * platform would first send it invites (its connection acknowledgement already sent); returns a function that
   * removes the listener.
   */
  onAgentConnected(listener: (agentId: string) => void): () => void {
    this.agentListeners.push(listener);
    return () => {
      this.agentListeners = this.agentListeners.filter((l) => l !== listener);
    };
  }

  /** @internal An agent's signaling connection was accepted. */
  agentConnected(agentId: string): void {
    for (const listener of [...this.agentListeners]) {
      try {
        listener(agentId);
      } catch {
        // A listener's bug must not break signaling.
      }
    }
  }

  /** Resolves once the agent is connected to signaling. */
  async waitForAgent(agentId: string, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.connectedAgents().includes(agentId)) {
      if (performance.now() > deadline) throw new Error(`simulator: agent ${agentId} did not connect in time`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Places an inbound call to an agent: sends it `join_room` and returns the caller's side. */
  placeCall(options: PlaceCallOptions): SimulatedCall {
    const sockets = this.agentSockets(options.agentId);
    if (sockets.length === 0) throw new Error(`simulator: agent ${options.agentId} is not connected`);
    const call = this.createCall(
      {
        agentId: options.agentId,
        from: options.from ?? '919876543210',
        to: options.to ?? '918012345678',
        metadata: options.metadata ?? null,
        callId: options.callId,
        sampleRate: options.sampleRate,
      },
      'inbound',
    );
    this.sendInvite(call);
    return call;
  }

  /** Whether a call was placed by `placeCall` (inbound) or by the agent through the REST API (outbound). */
  callDirection(callId: string): SimulatedCallDirection | undefined {
    return this.directions.get(callId);
  }

  /** Calls `listener` with every new call, inbound or outbound; returns a function that removes it. */
  onCall(listener: (call: SimulatedCall, direction: SimulatedCallDirection) => void): () => void {
    this.callListeners.push(listener);
    return () => {
      this.callListeners = this.callListeners.filter((l) => l !== listener);
    };
  }

  /**
   * The first call matching `options` — already placed, or the next one — e.g. the callee's side of the call an
   * agent placed with `ai.call`: say lines on it like on an inbound call. Rejects after `timeoutMs`.
   */
  waitForCall(options: WaitForCallOptions = {}): Promise<SimulatedCall> {
    const direction = options.direction ?? 'outbound';
    const matches = (call: SimulatedCall, d: SimulatedCallDirection): boolean =>
      d === direction && (options.agentId === undefined || call.agentId === options.agentId);
    const placed = [...this.calls.values()].find((call) => matches(call, this.directions.get(call.callId)!));
    if (placed !== undefined) return Promise.resolve(placed);
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        const who = options.agentId === undefined ? '' : ` for agent ${options.agentId}`;
        reject(new Error(`simulator: no ${direction} call${who} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onCall((call, d) => {
        if (!matches(call, d)) return;
        clearTimeout(timer);
        off();
        resolve(call);
      });
    });
  }

  /** Sends the call's `join_room` again (as a platform may after a signaling reconnect). */
  sendInvite(call: SimulatedCall): void {
    for (const socket of this.agentSockets(call.agentId)) {
      const media =
        this.livekit === undefined
          ? { token: call.mediaToken, url: `piopiy-sim://127.0.0.1:${this.port}/media` }
          : { token: this.livekit.createTokenSync({ identity: agentIdentity(call), roomName: call.roomName }), url: this.livekit.url };
      socket.emit('join_room', {
        room_name: call.roomName,
        ...media,
        call_id: call.callId,
        agent_id: call.agentId,
        from_number: call.from,
        to_number: call.to,
        // The platform sends metadata as a JSON string.
        metadata: call.metadata === null ? null : JSON.stringify(call.metadata),
      });
    }
  }

  /** Sends any event and payload to an agent, for tests of malformed signaling. */
  emitToAgent(agentId: string, event: string, payload: unknown): void {
    for (const socket of this.agentSockets(agentId)) socket.emit(event, payload);
  }

  /** Ends a call from the platform side with `cancel_room`. */
  cancelCall(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) throw new Error(`simulator: no call ${callId}`);
    this.emitToAgent(call.agentId, 'cancel_room', { room_name: call.roomName });
  }

  /**
   * Cuts every signaling connection (as a network failure would) and refuses new ones for `outageMs`; calls in
   * progress keep their media.
   */
  async dropSignaling(outageMs = 0): Promise<void> {
    this.signalingAvailable = false;
    for (const socket of this.io.of('/').sockets.values()) socket.conn.close();
    if (outageMs > 0) await new Promise((r) => setTimeout(r, outageMs));
    this.signalingAvailable = true;
  }

  async close(): Promise<void> {
    for (const call of this.calls.values()) call.end('cancelled');
    for (const client of this.media.clients) client.terminate();
    this.media.close();
    await new Promise<void>((resolve) => {
      void this.io.close(() => resolve());
    });
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.livekit?.close();
  }

  /** @internal Whether signaling accepts connections now (false during dropSignaling's outage). */
  get signalingUp(): boolean {
    return this.signalingAvailable;
  }

  /** @internal */
  authorizeAgent(auth: unknown): string | undefined {
    if (typeof auth !== 'object' || auth === null) return undefined;
    const { agent_id: agentId, token } = auth as Record<string, unknown>;
    if (typeof agentId !== 'string' || typeof token !== 'string') return undefined;
    return this.agents.get(agentId) === token ? agentId : undefined;
  }

  /** @internal */
  attachMedia(request: IncomingMessage): SimulatedCall | undefined {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const room = url.searchParams.get('room');
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const call = [...this.calls.values()].find((c) => c.roomName === room);
    return call !== undefined && token === call.mediaToken ? call : undefined;
  }

  /** @internal The platform side of the REST APIs. */
  restHandlers(): Omit<Parameters<typeof createSimulatorRestApi>[0], 'isValidToken'> {
    const notFound = (callId: string): SimResult => ({
      status: 404,
      body: { code: 'CALL_NOT_FOUND', message: `Call ${callId} was not found.` },
    });
    const live = (callId: string): SimulatedCall | undefined => {
      const call = this.calls.get(callId);
      return call === undefined || call.isEnded ? undefined : call;
    };
    return {
      transfer: (callId, pipeline) => {
        const call = live(callId);
        if (call === undefined) return notFound(callId);
        return this.desk.blind(call, transferTarget(pipeline) ?? 'pipeline', pipeline);
      },
      warmTransfer: (callId, body) => {
        const call = live(callId);
        if (call === undefined) return notFound(callId);
        return this.desk.warm(call, body.to_number ?? body.sip_uri ?? '', body.timeout_sec, body);
      },
      transferStatus: (requestId) => this.desk.status(requestId),
      callStatus: (callId) => {
        const call = live(callId);
        if (call === undefined) return notFound(callId);
        const transfer = this.desk.of(callId).find((t) => t.status === 'queued');
        return {
          status: 200,
          body: {
            call_id: call.callId,
            status: call.answeredAt === undefined ? 'ringing' : 'in-progress',
            direction: this.directions.get(callId),
            from: call.from,
            to: call.to,
            agent_id: call.agentId,
            ...(transfer === undefined ? {} : { transfer: { request_id: transfer.requestId, status: transfer.status } }),
          },
        };
      },
      hangup: (callId, cause, reason) => {
        const call = live(callId);
        if (call === undefined) return notFound(callId);
        call.hangupCause = reason === undefined ? { cause } : { cause, reason };
        setTimeout(() => call.end('hangup', `hung up by the API (${cause})`), 20).unref();
        return { status: 200, body: { message: 'queued', call_id: callId, request_id: randomUUID() } };
      },
      call: (kind, body) => {
        const callId = randomUUID();
        // The agent a call goes to: `/voice/ai/call` names it; `/voice/pcmo/call` (ai.call with failover) lists
        // agent endpoints in its connect, tried in order: the first one connected to signaling takes the call.
        const agentId = kind === 'ai' ? (body.agent_id as string) : kind === 'pcmo' ? this.connectedAgentOf(body) : undefined;
        if (agentId !== undefined) {
          // The platform rings `to_number` from `caller_id`; the callee answers and the agent is invited into
          // the call — the SimulatedCall is the callee's side. Metadata of the invite: the call's variables.
          this.callRequests.set(callId, body);
          const call = this.createCall(
            { callId, agentId, from: body.caller_id as string, to: body.to_number as string, metadata: body.variables ?? null },
            'outbound',
          );
          // After the REST answer, as on the platform (the invite follows the dialled call being answered).
          setTimeout(() => {
            if (!call.isEnded) this.sendInvite(call);
          }, 0).unref();
        }
        return { status: 200, body: { message: 'queued', call_id: callId, kind } };
      },
      // The platform's balance body is not documented; this one mirrors the legacy TeleCMI `{ balance }`.
      balance: () => ({ status: 200, body: { balance: this.options.balance ?? 1000 } }),
      createAgent: (body) => {
        const agent = { id: randomUUID(), name: body.name, ...(body.language === undefined ? {} : { language: body.language }) };
        const token = `agt_sim_${randomBytes(12).toString('hex')}`;
        this.managedAgents.set(agent.id, agent);
        this.addAgent({ agentId: agent.id, token });
        return { status: 200, body: { ...agent, status: 'active', agent_token: token } };
      },
      listAgents: () => ({
        status: 200,
        body: { agents: [...this.managedAgents.values()].map((agent) => ({ ...agent, status: 'active' })) },
      }),
      deleteAgent: (agentId) => {
        if (!this.managedAgents.delete(agentId)) return { status: 404, body: { error: 'not_found', message: `Agent ${agentId} was not found.` } };
        this.agents.delete(agentId);
        for (const [number, routed] of this.numberRoutes) if (routed === agentId) this.numberRoutes.delete(number);
        return { status: 200, body: { message: 'deleted', id: agentId } };
      },
      routeNumber: (body) => {
        if (!this.managedAgents.has(body.agent_id) && !this.agents.has(body.agent_id)) {
          return { status: 404, body: { error: 'not_found', message: `Agent ${body.agent_id} was not found.` } };
        }
        this.numberRoutes.set(body.phone_number, body.agent_id);
        return { status: 200, body: { ...body, status: 'connected' } };
      },
    };
  }

  /** The first agent endpoint of a pcmo call's connect whose agent is connected (the failover order). */
  private connectedAgentOf(body: Record<string, unknown>): string | undefined {
    const pipeline = body.pipeline as readonly PipelineAction[];
    const agentIds = pipeline.flatMap((action) =>
      action.action === 'connect' ? action.endpoints.filter((e) => e.type === 'agent').map((e) => e.id) : [],
    );
    if (agentIds.length === 0) return undefined;
    return agentIds.find((id) => this.agentSockets(id).length > 0) ?? agentIds[0];
  }

  private createCall(
    init: { agentId: string; from: string; to: string; metadata: unknown; callId?: string; sampleRate?: SpeechSampleRate },
    direction: SimulatedCallDirection,
  ): SimulatedCall {
    const callId = init.callId ?? randomUUID();
    const call = new SimulatedCall({
      callId,
      roomName: `tcmi_${callId}`,
      agentId: init.agentId,
      from: init.from,
      to: init.to,
      metadata: init.metadata,
      mediaToken: randomBytes(16).toString('hex'),
      sampleRate: init.sampleRate ?? 16000,
      frameMs: this.options.frameMs ?? 20,
    });
    this.calls.set(callId, call);
    this.directions.set(callId, direction);
    // The caller's SIP leg is in the room before the agent is invited (as on the platform).
    if (this.livekit !== undefined) void joinCallerLine(this.livekit, call).catch(() => call.end('cancelled'));
    if (this.options.keepEndedCalls === false) {
      void call.ended.then(() => {
        this.calls.delete(callId);
        this.directions.delete(callId);
      });
    }
    for (const listener of [...this.callListeners]) {
      try {
        listener(call, direction);
      } catch {
        // A listener's bug must not fail the platform's side of the call.
      }
    }
    return call;
  }

  private agentSockets(agentId: string): Socket[] {
    return [...this.io.of('/').sockets.values()].filter((s) => (s.data as { agentId: string }).agentId === agentId);
  }
}

/** The first destination of a connect action: what the caller was transferred to. */
function transferTarget(pipeline: readonly PipelineAction[]): string | undefined {
  for (const action of pipeline) {
    if (action.action !== 'connect') continue;
    const endpoint = action.endpoints[0];
    if (endpoint === undefined) continue;
    if (endpoint.type === 'pstn') return endpoint.number;
    if (endpoint.type === 'sip') return endpoint.uri;
    return endpoint.id;
  }
  return undefined;
}

type PlatformHandlers = ReturnType<PiopiySimulator['restHandlers']>;

/** Handlers that look up the simulator's at each request (the REST listener is made before the simulator). */
function lateHandlers(handlers: () => PlatformHandlers): PlatformHandlers {
  return {
    transfer: (...args) => handlers().transfer(...args),
    warmTransfer: (...args) => handlers().warmTransfer(...args),
    transferStatus: (...args) => handlers().transferStatus(...args),
    callStatus: (...args) => handlers().callStatus(...args),
    hangup: (...args) => handlers().hangup(...args),
    call: (...args) => handlers().call(...args),
    balance: () => handlers().balance(),
    createAgent: (...args) => handlers().createAgent(...args),
    listAgents: () => handlers().listAgents(),
    deleteAgent: (...args) => handlers().deleteAgent(...args),
    routeNumber: (...args) => handlers().routeNumber(...args),
  };
}

/** Starts a simulator on 127.0.0.1 with an ephemeral port. */
export async function startPiopiySimulator(options: SimulatorOptions = {}): Promise<PiopiySimulator> {
  const restTokens = new Set(options.restTokens ?? [`sim-${randomBytes(12).toString('hex')}`]);
  // The servers need the simulator and the simulator needs the servers: the servers reach it through this box.
  const box: { simulator?: PiopiySimulator } = {};
  const rest = createSimulatorRestApi({
    isValidToken: (token) => restTokens.has(token),
    ...lateHandlers(() => box.simulator!.restHandlers()),
  });
  const http = createServer((req, res) => {
    if ((req.url ?? '').startsWith('/v3/') || (req.url ?? '').startsWith('/v1/')) {
      res.once('close', () => box.simulator?.restAnswered(res.statusCode));
      rest(req, res);
      return;
    }
    if (!(req.url ?? '').startsWith('/socket.io')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Not found' }));
    }
  });
  const io = new SocketIOServer(http, {
    destroyUpgrade: false,
    serveClient: false,
    // During a simulated outage the transport itself is refused, as when the platform is unreachable (a refusal by
    // the auth middleware would mean "bad credentials", which clients do not retry).
    allowRequest: (_request, callback) => callback(null, box.simulator?.signalingUp ?? true),
  });
  const media = new WebSocketServer({ noServer: true });
  io.use((socket, next) => {
    const agentId = box.simulator?.authorizeAgent(socket.handshake.auth);
    if (agentId === undefined) {
      next(new Error('invalid agent credentials'));
      return;
    }
    (socket.data as { agentId: string }).agentId = agentId;
    next();
  });
  io.on('connection', (socket) => box.simulator?.agentConnected((socket.data as { agentId: string }).agentId));
  http.on('upgrade', (request, socket, head) => {
    if (!(request.url ?? '').startsWith('/media')) return; // socket.io handles its own upgrades
    const call = box.simulator?.attachMedia(request);
    if (call === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    media.handleUpgrade(request, socket, head, (ws) => call.attach(ws));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const livekit = options.media === 'livekit' ? await startLiveKitTestServer() : undefined;
  box.simulator = new PiopiySimulator(http, io, media, port, options, rest.requests, restTokens, livekit);
  return box.simulator;
}
