// A local stand-in for Google's Gemini Live API WebSocket (`BidiGenerateContent`), speaking its wire protocol over
// a real socket so that the production client is what gets tested. Facts: docs/vendors/gemini-live.md.
//
// Like Google's endpoint it upgrades any request at the Live API path and refuses afterwards, with close codes and
// reasons: a missing or refused `?key=` is closed 1007 "API key not valid..." once the setup arrives, an unknown
// model 1008, a malformed setup 1007. The per-socket protocol is ./gemini-live-session.ts. Every client message is
// recorded (audio without its bytes); keys are never stored, only whether one was present and accepted.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isAcceptedKey } from './auth.js';
import { FakeGeminiLiveSession, type FakeGeminiServerHooks, type FakeGeminiTurn } from './gemini-live-session.js';
import type { FakeGeminiLive, FakeGeminiLiveConnection, FakeGeminiLiveMessage, FakeGeminiLiveOptions, FakeGeminiLiveTurnFault } from './gemini-live-types.js';
import { isRecord, recordQuery, refuseUpgrade } from './http.js';
import { FakeWebSocketServer } from './websocket.js';

export const GEMINI_LIVE_PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';

class FakeGeminiLiveServer
  extends FakeWebSocketServer<FakeGeminiLiveConnection, FakeGeminiLiveMessage, never, FakeGeminiLiveTurnFault, FakeGeminiLiveSession>
  implements FakeGeminiLive, FakeGeminiServerHooks
{
  private turnsTaken = 0;
  private readonly handles = new Map<string, FakeGeminiTurn[]>();

  constructor(readonly script: FakeGeminiLiveOptions) {
    super('Gemini Live', { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
  }

  get url(): string {
    return `${this.baseUrl}${GEMINI_LIVE_PATH}`;
  }

  nextTranscript(connection: FakeGeminiLiveConnection): string {
    const { transcripts } = this.script;
    if (typeof transcripts === 'function') return transcripts({ connection: connection.index, turn: connection.turns });
    return transcripts?.[this.turnsTaken++] ?? '';
  }

  takeFault(text: string): FakeGeminiLiveTurnFault | undefined {
    return this.takeGenerationFault(text);
  }

  failTurn(...faults: FakeGeminiLiveTurnFault[]): void {
    this.failGeneration(...faults);
  }

  goAway(timeLeftMs: number): void {
    for (const session of this.sessions) session.goAway(timeLeftMs);
  }

  refuseSetup(connection: FakeGeminiLiveConnection, setup: unknown): { code: number; reason: string } | undefined {
    if (!connection.auth.valid) return { code: 1007, reason: 'API key not valid. Please pass a valid API key.' };
    if (!isRecord(setup)) return { code: 1007, reason: 'Request contains an invalid argument.' };
    const model = typeof setup.model === 'string' ? setup.model : '';
    const name = model.startsWith('models/') ? model.slice('models/'.length) : '';
    const served = this.script.models === undefined ? /live|native-audio/.test(name) : this.script.models.includes(name);
    if (!served) {
      return { code: 1008, reason: `models/${name} is not found for API version v1beta, or is not supported for bidiGenerateContent.` };
    }
    const generation = isRecord(setup.generationConfig) ? setup.generationConfig : {};
    const modalities = generation.responseModalities;
    if (modalities !== undefined && !(Array.isArray(modalities) && modalities.length === 1 && modalities[0] === 'AUDIO')) {
      return { code: 1007, reason: 'Request contains an invalid argument.' };
    }
    return undefined;
  }

  saveHandle(history: readonly FakeGeminiTurn[]): string {
    const handle = `handle-${this.handles.size + 1}`;
    this.handles.set(handle, [...history]);
    return handle;
  }

  resume(handle: string): FakeGeminiTurn[] | undefined {
    const history = this.handles.get(handle);
    return history === undefined ? undefined : [...history];
  }

  protected override onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = url.searchParams.get('key') ?? '';
    const connection: FakeGeminiLiveConnection = {
      index: this.connections.length,
      path: url.pathname,
      query: recordQuery(url.searchParams, ['key']),
      auth: { present: key !== '', valid: isAcceptedKey(key, this.script) },
      received: [],
      spoken: [],
      interruptions: [],
      toolResponses: [],
      turnEndedAt: [],
      turns: 0,
    };
    this.connections.push(connection);
    if (url.pathname !== GEMINI_LIVE_PATH) {
      connection.status = 404;
      const body = JSON.stringify({ error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
      return refuseUpgrade(socket, 404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }, body);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      connection.status = 101;
      this.sessions.add(new FakeGeminiLiveSession(this, ws, socket, connection));
    });
  }
}

/** Starts a fake Gemini Live server on 127.0.0.1 (a free port); pass its `url` to `GeminiLiveService`. */
export async function startFakeGeminiLive(options: FakeGeminiLiveOptions = {}): Promise<FakeGeminiLive> {
  const fake = new FakeGeminiLiveServer(options);
  await fake.start();
  return fake;
}

export type * from './gemini-live-types.js';
