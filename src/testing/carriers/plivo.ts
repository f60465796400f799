// A faithful fake of Plivo for testing agents offline (docs/carriers.md, "Plivo Audio Streams"): it places a call
// the way Plivo does (a V3-signed POST to the answer URL, the XML's bidirectional <Stream> opened as a WebSocket,
// then `start`), sends the caller's audio as Plivo does (a `media` event every 20 ms in the XML's contentType),
// plays what the agent sends (`playAudio`) in real time, answers each `checkpoint` with `playedStream` once the
// audio before it has played (plus a network delay; checkpoints dropped by `clearAudio` are never answered),
// answers `clearAudio` with `clearedAudio`, sends keys as `dtmf` events, and serves the REST API: DELETE a call
// hangs up, a transfer POSTs (signed) to the `aleg_url` and follows its <Dial>. What our side sends is checked: a
// message that is not JSON, an unknown event, a bad payload or a foreign streamId ends the call (1008).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';
import { pcm16Bytes } from '../../transports/media-stream/json-serializer.js';
import { plivoSignatureV3 } from '../../transports/plivo/signature.js';
import { FakeStreamCall, isBase64Payload, type FakeStreamRead } from './fake-stream-call.js';
import { unescapeXml } from './twilio-rest.js';

export interface FakePlivoOptions {
  /** One-way network delay between the agent and Plivo. Default 40 ms. */
  networkDelayMs?: number;
}

/** A REST request the fake received. */
export interface FakePlivoRestRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly status: number;
  /** Checkpoints of the call received and not yet answered when the request came (0: all it sent was heard). */
  readonly unplayedCheckpoints: number;
}

export interface PlacePlivoCallOptions {
  /** The application's Answer URL. */
  answerUrl: string;
  from?: string;
  to?: string;
  /** Sign the webhooks. Default true (false: to test that unsigned requests are refused). */
  sign?: boolean;
}

export class FakePlivoCall extends FakeStreamCall {
  readonly streamId = randomUUID();

  constructor(
    /** The CallUUID the answer webhook was given. */
    readonly callUuid: string,
    readonly from: string,
    readonly to: string,
    readonly authId: string,
    readonly contentType: string,
    extraHeaders: string,
    networkDelayMs: number,
  ) {
    const mulaw = contentType.startsWith('audio/x-mulaw');
    const sampleRate = contentType.endsWith('16000') ? 16000 : 8000;
    const mimeType = mulaw ? 'audio/x-mulaw' : 'audio/x-l16';
    const ids = { call: '', stream: '' };
    let chunk = 0;
    super(
      {
        sampleRate,
        packetMs: 20,
        opening: () => [
          {
            event: 'start',
            start: { callId: ids.call, streamId: ids.stream, accountId: authId, tracks: ['inbound'], mediaFormat: { encoding: mimeType, sampleRate } },
            extra_headers: extraHeaders,
          },
        ],
        media: (samples, tick) => ({
          event: 'media',
          streamId: ids.stream,
          media: {
            track: 'inbound',
            timestamp: String(1_700_000_000_000 + tick * 20),
            chunk: ++chunk,
            payload: (mulaw ? Buffer.from(pcmToMulaw(samples)) : pcm16Bytes(samples)).toString('base64'),
          },
          extra_headers: extraHeaders,
        }),
        mark: (name) => ({ event: 'playedStream', streamId: ids.stream, name }),
        dtmf: (digit) => ({ event: 'dtmf', streamId: ids.stream, dtmf: { digit, track: 'inbound' }, extra_headers: extraHeaders }),
        stop: () => undefined, // Plivo just closes the socket
        cleared: () => ({ event: 'clearedAudio', streamId: ids.stream }),
        clearEchoesMarks: false,
        sequenced: (message, n) => ({ ...message, sequenceNumber: n }),
        read: (message) => readPlivoMessage(message, ids.stream, mimeType, sampleRate),
      },
      networkDelayMs,
    );
    ids.call = this.callUuid;
    ids.stream = this.streamId;
  }

  /** @internal Opens the stream the XML named. */
  async open(url: string): Promise<void> {
    await this.connect(url, {});
  }
}

/** What Plivo makes of a message of ours, or why it refuses it. */
function readPlivoMessage(message: Record<string, unknown>, streamId: string, mimeType: string, sampleRate: number): FakeStreamRead {
  switch (message.event) {
    case 'playAudio': {
      const media = message.media as { contentType?: unknown; sampleRate?: unknown; payload?: unknown } | undefined;
      if (!isBase64Payload(media?.payload)) return 'a playAudio without a valid base64 payload';
      if (media.contentType !== mimeType || Number(media.sampleRate) !== sampleRate) return `a playAudio in ${String(media.contentType)} at ${String(media.sampleRate)} Hz`;
      const bytes = Buffer.from(media.payload, 'base64');
      if (mimeType === 'audio/x-mulaw') return { kind: 'media', samples: mulawToPcm(new Uint8Array(bytes)) };
      if (bytes.length % 2 !== 0) return 'an L16 payload of an odd number of bytes';
      const samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      return { kind: 'media', samples };
    }
    case 'checkpoint':
      if (message.streamId !== streamId) return 'a checkpoint for another streamId';
      return typeof message.name === 'string' ? { kind: 'mark', name: message.name } : 'a checkpoint without a name';
    case 'clearAudio':
      return message.streamId === streamId ? { kind: 'clear' } : 'a clearAudio for another streamId';
    default:
      return `an unknown event ${JSON.stringify(message.event)}`;
  }
}

export interface FakePlivo {
  readonly authId: string;
  readonly authToken: string;
  /** The REST API's base URL (give it as `apiBaseUrl`). */
  readonly apiBaseUrl: string;
  readonly calls: readonly FakePlivoCall[];
  readonly restRequests: readonly FakePlivoRestRequest[];
  /** Places an inbound call at the agent's answer URL and opens the stream its XML names. */
  placeCall(options: PlacePlivoCallOptions): Promise<FakePlivoCall>;
  close(): Promise<void>;
}

/** POSTs a form to `url` as Plivo does (V3-signed unless `sign` is false); resolves with the response text. */
async function postWebhook(url: string, params: Record<string, string>, authToken: string, sign: boolean): Promise<Response> {
  const nonce = randomBytes(10).toString('hex');
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(sign ? { 'x-plivo-signature-v3': plivoSignatureV3(authToken, url, nonce, params), 'x-plivo-signature-v3-nonce': nonce } : {}),
    },
    body: new URLSearchParams(params).toString(),
  });
}

/** Starts the fake Plivo (REST API on 127.0.0.1, an ephemeral port). */
export async function startFakePlivo(options: FakePlivoOptions = {}): Promise<FakePlivo> {
  const authId = `MA${randomBytes(9).toString('hex').toUpperCase()}`;
  const authToken = randomBytes(20).toString('base64url');
  const networkDelayMs = options.networkDelayMs ?? 40;
  const calls: FakePlivoCall[] = [];
  const restRequests: FakePlivoRestRequest[] = [];
  const server: Server = createServer((request, response) => {
    void serveRest(request, response).catch(() => response.writeHead(500).end());
  });

  async function serveRest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      body = {};
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = /^\/v1\/Account\/([^/]+)\/Call\/([^/]+)\/$/.exec(path);
    const call = route !== null && route[1] === authId ? calls.find((c) => c.callUuid === route[2] && !c.isEnded) : undefined;
    const reply = (status: number, answer?: Record<string, unknown>): void => {
      const checkpoints = call === undefined ? 0 : call.received.filter((m) => m.event === 'checkpoint').length - call.marksAcknowledged;
      restRequests.push({ method: request.method ?? '', path, body, status, unplayedCheckpoints: checkpoints });
      if (answer === undefined) response.writeHead(status).end();
      else response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ api_id: randomUUID(), ...answer }));
    };
    if (request.headers.authorization !== `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`) {
      reply(401, { error: 'authentication failed' });
      return;
    }
    if (call === undefined) {
      reply(404, { error: 'call not found' });
      return;
    }
    if (request.method === 'DELETE') {
      reply(204);
      call.end('hangup');
      return;
    }
    if (request.method !== 'POST' || body.legs !== 'aleg' || typeof body.aleg_url !== 'string') {
      reply(400, { error: 'legs must be aleg, with an aleg_url' });
      return;
    }
    reply(202, { message: 'call transferred' });
    // Plivo fetches the new XML and runs it: a <Dial> connects the caller to the number.
    const xml = await (await postWebhook(body.aleg_url, { CallUUID: call.callUuid, From: call.from, To: call.to, CallStatus: 'in-progress' }, authToken, true)).text();
    const dial = /<Dial\b[^>]*>\s*<(?:Number|User)>([^<]+)<\/(?:Number|User)>/.exec(xml);
    call.end('transferred', dial === null ? undefined : unescapeXml(dial[1]!.trim()));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authId,
    authToken,
    apiBaseUrl,
    calls,
    restRequests,
    async placeCall(place) {
      const from = place.from ?? '15550100001';
      const to = place.to ?? '15550100002';
      const uuid = randomUUID();
      const params = { CallUUID: uuid, From: from, To: to, Direction: 'inbound', CallStatus: 'ringing', Event: 'StartApp' };
      const response = await postWebhook(place.answerUrl, params, authToken, place.sign !== false);
      const xml = await response.text();
      if (!response.ok) throw new Error(`the answer webhook answered HTTP ${response.status}`);
      const stream = /<Stream\b([^>]*)>([^<]+)<\/Stream>/.exec(xml);
      if (stream === null) throw new Error(`the XML has no <Stream>: ${xml.slice(0, 200)}`);
      const attributes = Object.fromEntries([...stream[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, unescapeXml(m[2]!)]));
      if (attributes.bidirectional !== 'true') throw new Error('a <Stream> that is not bidirectional="true" (Plivo would not play our audio)');
      const extraHeaders = attributes.extraHeaders ?? '';
      if (!/^[A-Za-z0-9=,]*$/.test(extraHeaders) || extraHeaders.length > 512) throw new Error('extraHeaders beyond Plivo\'s limits');
      const call = new FakePlivoCall(uuid, from, to, authId, attributes.contentType ?? 'audio/x-l16;rate=8000', extraHeaders, networkDelayMs);
      calls.push(call);
      await call.open(unescapeXml(stream[2]!.trim()));
      return call;
    },
    async close() {
      for (const call of calls) call.end('hangup');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
