// A local stand-in for OpenAI's Realtime WebSocket (`/v1/realtime?model=…`, GA protocol), speaking its wire protocol
// over a real socket so that the production client is what gets tested. Facts: docs/vendors/openai-realtime.md.
//
// Handshake: `Authorization: Bearer <key>` and a `model` query are required (401 / 400 as plain HTTP answers
// before the upgrade, with OpenAI's `{error:{message,type,code}}` body). Then `session.created`, and per socket the
// protocol of ./openai-realtime-session.ts: session.update validation, a stand-in server VAD, scripted replies and
// tool calls in the vendor's event order, paced audio, truncation checks. Every client event is recorded (audio
// appends without their bytes); keys are never stored, only whether one was present and accepted.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { bearerKey, isAcceptedKey } from './auth.js';
import { recordQuery, refuseUpgrade } from './http.js';
import { FakeRealtimeSession, type FakeRealtimeServerHooks } from './openai-realtime-session.js';
import type {
  FakeOpenAIRealtime,
  FakeOpenAIRealtimeConnection,
  FakeOpenAIRealtimeHandshakeFault,
  FakeOpenAIRealtimeMessage,
  FakeOpenAIRealtimeOptions,
  FakeOpenAIRealtimeResponseFault,
} from './openai-realtime-types.js';
import { recordHeaders } from './sse.js';
import { FakeWebSocketServer } from './websocket.js';

class FakeOpenAIRealtimeServer
  extends FakeWebSocketServer<
    FakeOpenAIRealtimeConnection,
    FakeOpenAIRealtimeMessage,
    FakeOpenAIRealtimeHandshakeFault,
    FakeOpenAIRealtimeResponseFault,
    FakeRealtimeSession
  >
  implements FakeOpenAIRealtime, FakeRealtimeServerHooks
{
  private turnsTaken = 0;

  constructor(readonly script: FakeOpenAIRealtimeOptions) {
    super('OpenAI Realtime', { error: { message: 'Not found', type: 'invalid_request_error' } });
  }

  get url(): string {
    return `${this.baseUrl}/v1/realtime`;
  }

  nextTranscript(connection: FakeOpenAIRealtimeConnection): string {
    const turn = connection.turns++;
    const { transcripts } = this.script;
    if (typeof transcripts === 'function') return transcripts({ connection: connection.index, turn });
    return transcripts?.[this.turnsTaken++] ?? '';
  }

  takeFault(text: string): { drop?: true; error?: string; afterChunks?: number } | undefined {
    return this.takeGenerationFault(text);
  }

  failResponse(...faults: FakeOpenAIRealtimeResponseFault[]): void {
    this.failGeneration(...faults);
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = bearerKey(req.headers.authorization);
    const valid = isAcceptedKey(key, this.script);
    const connection: FakeOpenAIRealtimeConnection = {
      index: this.connections.length,
      path: url.pathname,
      query: recordQuery(url.searchParams, []),
      headers: recordHeaders(req, ['authorization']),
      auth: { present: key !== '', valid },
      received: [],
      sessionConfigs: [],
      truncations: [],
      spoken: [],
      speechStoppedAt: [],
      turns: 0,
    };
    this.connections.push(connection);
    const reject = (status: number, message: string, type: string, code: string | null): void => {
      connection.status = status;
      const body = JSON.stringify({ error: { message, type, code, param: null } });
      refuseUpgrade(socket, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }, body);
    };
    if (url.pathname !== '/v1/realtime') return reject(404, `Invalid URL (GET ${url.pathname})`, 'invalid_request_error', null);
    const fault = this.handshakeFaults.shift();
    if (fault !== undefined) {
      const type = fault.status === 429 ? 'rate_limit_exceeded' : fault.status >= 500 ? 'server_error' : 'invalid_request_error';
      return reject(fault.status, fault.message ?? `Scripted ${fault.status}.`, type, fault.status === 401 ? 'invalid_api_key' : null);
    }
    if (!valid) return reject(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    if (!url.searchParams.get('model')) return reject(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      connection.status = 101;
      this.sessions.add(new FakeRealtimeSession(this, ws, socket, connection));
    });
  }
}

/** Starts a fake OpenAI Realtime server on 127.0.0.1 (a free port); pass its `url` to `OpenAIRealtimeService`. */
export async function startFakeOpenAIRealtime(options: FakeOpenAIRealtimeOptions = {}): Promise<FakeOpenAIRealtime> {
  const fake = new FakeOpenAIRealtimeServer(options);
  await fake.start();
  return fake;
}

export type * from './openai-realtime-types.js';
export { FAKE_REALTIME_VOICES, type FakeRealtimeSessionConfig, type FakeRealtimeFormat } from './openai-realtime-config.js';
