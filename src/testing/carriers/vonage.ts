// A faithful fake of Vonage's Voice API with a WebSocket endpoint, for testing agents offline (docs/carriers.md,
// "Vonage"): it places a call the way Vonage does (a GET to the answer URL with a signed HS256 JWT; the NCCO's
// `connect` to a `websocket` endpoint opened with `websocket:connected` first), sends the caller's audio as binary
// frames of 20 ms linear PCM at the NCCO's rate, plays the binary frames the agent sends in real time, sends keys as
// `websocket:dtmf`, and serves PUT /v1/calls/{uuid} (hangup, transfer to an NCCO connect) checking the
// application's RS256 JWT. What our side sends is checked: frames that are not whole 20 ms of 16-bit PCM, or text
// that is not an event Vonage knows, end the call (1008).
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pcm16Bytes } from '../../transports/media-stream/json-serializer.js';
import { vonageWebhookJwt } from '../../transports/vonage/jwt.js';
import { FakeStreamCall } from './fake-stream-call.js';

export interface FakeVonageOptions {
  /** One-way network delay between the agent and Vonage. Default 40 ms. */
  networkDelayMs?: number;
}

/** A Voice API request the fake received. */
export interface FakeVonageRestRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly status: number;
}

export interface PlaceVonageCallOptions {
  answerUrl: string;
  from?: string;
  to?: string;
  /** Sign the answer webhook. Default true. */
  sign?: boolean;
}

export class FakeVonageCall extends FakeStreamCall {
  constructor(
    readonly uuid: string,
    readonly from: string,
    readonly to: string,
    readonly sampleRate: number,
    networkDelayMs: number,
  ) {
    const frameBytes = (sampleRate / 50) * 2;
    super(
      {
        sampleRate,
        packetMs: 20,
        opening: () => [{ event: 'websocket:connected', 'content-type': `audio/l16;rate=${sampleRate}` }],
        media: (samples) => pcm16Bytes(samples),
        mark: () => ({}), // Vonage acknowledges nothing (the agent sends no marks)
        dtmf: (digit) => ({ event: 'websocket:dtmf', digit, duration: 100 }),
        stop: () => undefined,
        sequenced: (message) => message,
        read: (message) => `a text message Vonage does not take: ${JSON.stringify(message).slice(0, 60)}`,
        readBinary: (data) => {
          if (data.length !== frameBytes) return `an audio frame of ${data.length} bytes (Vonage takes ${frameBytes}: 20 ms)`;
          const samples = new Int16Array(data.length / 2);
          for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
          return { kind: 'media', samples };
        },
      },
      networkDelayMs,
    );
  }

  /** @internal */
  async open(url: string): Promise<void> {
    await this.connect(url, {});
  }
}

export interface FakeVonage {
  readonly applicationId: string;
  /** The application's private key (PEM), for the server's REST requests. */
  readonly privateKey: string;
  readonly signatureSecret: string;
  readonly apiBaseUrl: string;
  readonly calls: readonly FakeVonageCall[];
  readonly restRequests: readonly FakeVonageRestRequest[];
  placeCall(options: PlaceVonageCallOptions): Promise<FakeVonageCall>;
  close(): Promise<void>;
}

/** Whether `authorization` is an RS256 JWT of `applicationId` signed with its key (the fake's check). */
function isApplicationJwt(authorization: string | undefined, applicationId: string, publicKeyPem: string): boolean {
  const parts = /^Bearer (.+)$/.exec(authorization ?? '')?.[1]?.split('.');
  if (parts?.length !== 3) return false;
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey(publicKeyPem), Buffer.from(parts[2]!, 'base64url'));
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { application_id?: unknown; exp?: unknown };
  return ok && claims.application_id === applicationId && typeof claims.exp === 'number' && claims.exp > Date.now() / 1000;
}

export async function startFakeVonage(options: FakeVonageOptions = {}): Promise<FakeVonage> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const applicationId = randomUUID();
  const signatureSecret = randomBytes(24).toString('base64url');
  const networkDelayMs = options.networkDelayMs ?? 40;
  const calls: FakeVonageCall[] = [];
  const restRequests: FakeVonageRestRequest[] = [];
  const server: Server = createServer((request, response) => {
    void serveApi(request, response).catch(() => response.writeHead(500).end());
  });

  async function serveApi(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      body = {};
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const reply = (status: number, answer?: Record<string, unknown>): void => {
      restRequests.push({ method: request.method ?? '', path, body, status });
      if (answer === undefined) response.writeHead(status).end();
      else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    };
    if (!isApplicationJwt(request.headers.authorization, applicationId, publicKeyPem)) return reply(401, { title: 'Unauthorized', detail: 'invalid token' });
    const uuid = /^\/v1\/calls\/([^/]+)$/.exec(path)?.[1];
    const call = calls.find((c) => c.uuid === uuid && !c.isEnded);
    if (request.method !== 'PUT' || call === undefined) return reply(404, { title: 'Not Found', detail: 'call not found' });
    if (body.action === 'hangup') {
      reply(204);
      call.end('hangup');
      return;
    }
    const ncco = (body.destination as { type?: unknown; ncco?: unknown } | undefined)?.ncco;
    const endpoint = Array.isArray(ncco) ? (ncco[0] as { action?: unknown; endpoint?: { number?: unknown; uri?: unknown }[] }) : undefined;
    const target = endpoint?.action === 'connect' ? (endpoint.endpoint?.[0]?.number ?? endpoint.endpoint?.[0]?.uri) : undefined;
    if (body.action !== 'transfer' || typeof target !== 'string') return reply(400, { title: 'Bad Request', detail: 'the fake takes hangup, or transfer to an NCCO connect' });
    reply(204);
    call.end('transferred', target);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    applicationId,
    privateKey: privateKeyPem,
    signatureSecret,
    apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    restRequests,
    async placeCall(place) {
      const uuid = randomUUID();
      const from = place.from ?? '15550100001';
      const to = place.to ?? '15550100002';
      const url = new URL(place.answerUrl);
      for (const [key, value] of Object.entries({ uuid, conversation_uuid: `CON-${randomUUID()}`, from, to, region_url: 'https://api-us-3.vonage.com' })) url.searchParams.set(key, value);
      const headers: Record<string, string> = place.sign === false ? {} : { authorization: `Bearer ${vonageWebhookJwt(signatureSecret, '', { application_id: applicationId })}` };
      const response = await fetch(url, { headers });
      if (!response.ok) throw new Error(`the answer webhook answered HTTP ${response.status}`);
      const ncco = (await response.json()) as { action?: string; endpoint?: { type?: string; uri?: string; 'content-type'?: string }[] }[];
      const endpoint = ncco.find((action) => action.action === 'connect')?.endpoint?.find((e) => e.type === 'websocket');
      if (endpoint?.uri === undefined) throw new Error('the NCCO has no connect to a websocket endpoint');
      const rate = /^audio\/l16;rate=(8000|16000)$/.exec(endpoint['content-type'] ?? '')?.[1];
      if (rate === undefined) throw new Error(`a websocket content-type Vonage does not take: ${String(endpoint['content-type'])}`);
      const call = new FakeVonageCall(uuid, from, to, Number(rate), networkDelayMs);
      calls.push(call);
      await call.open(endpoint.uri);
      return call;
    },
    async close() {
      for (const call of calls) call.end('hangup');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
