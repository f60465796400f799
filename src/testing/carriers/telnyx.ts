// A faithful fake of Telnyx Call Control with media streaming, for testing agents offline (docs/carriers.md,
// "Telnyx"): it places a call the way Telnyx does (an Ed25519-signed `call.initiated` webhook; the agent answers
// through the API with a stream URL; the stream opens with `connected` then `start`), sends the caller's audio as
// Telnyx does (a `media` event of base64 PCMU every 20 ms), plays what the agent sends in real time, echoes each
// mark once the media before it has played (plus a network delay; at once when nothing is queued; the queued ones
// at `clear`), sends keys as `dtmf` events, and serves the Call Control actions answer, hangup and transfer. What
// our side sends is checked: not JSON, an unknown event or a bad payload ends the call (1008).
import { generateKeyPairSync, randomUUID, sign as signBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';
import { FakeStreamCall, isBase64Payload, readMarkOrClear, type FakeStreamRead } from './fake-stream-call.js';

export interface FakeTelnyxOptions {
  /** One-way network delay between the agent and Telnyx. Default 40 ms. */
  networkDelayMs?: number;
}

/** A Call Control command the fake received. */
export interface FakeTelnyxCommand {
  readonly action: string;
  readonly callControlId: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly status: number;
  /** Marks of the call sent and not yet echoed when the command came (0: all it sent was heard). */
  readonly unplayedMarks: number;
}

export interface PlaceTelnyxCallOptions {
  /** The Call Control application's webhook URL. */
  webhookUrl: string;
  from?: string;
  to?: string;
  /** Sign the webhook. Default true (false: to test that unsigned webhooks are refused). */
  sign?: boolean;
}

export class FakeTelnyxCall extends FakeStreamCall {
  readonly streamId = randomUUID().toUpperCase();
  readonly callSessionId = randomUUID();

  constructor(
    readonly callControlId: string,
    readonly from: string,
    readonly to: string,
    networkDelayMs: number,
  ) {
    const ids = { stream: '', session: '' };
    super(
      {
        sampleRate: 8000,
        packetMs: 20,
        opening: () => [
          { event: 'connected', version: '1.0.0' },
          {
            event: 'start',
            stream_id: ids.stream,
            start: {
              call_control_id: callControlId,
              call_session_id: ids.session,
              from,
              to,
              custom_parameters: {},
              media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
            },
          },
        ],
        media: (samples, tick) => ({
          event: 'media',
          stream_id: ids.stream,
          media: { track: 'inbound', chunk: String(tick + 1), timestamp: String(tick * 20), payload: Buffer.from(pcmToMulaw(samples)).toString('base64') },
        }),
        mark: (name) => ({ event: 'mark', stream_id: ids.stream, mark: { name } }),
        dtmf: (digit) => ({ event: 'dtmf', stream_id: ids.stream, dtmf: { digit } }),
        stop: () => ({ event: 'stop', stream_id: ids.stream, stop: { call_control_id: callControlId } }),
        sequenced: (message, n) => ({ ...message, sequence_number: String(n) }),
        read: (message) => readTelnyxMessage(message),
      },
      networkDelayMs,
    );
    ids.stream = this.streamId;
    ids.session = this.callSessionId;
  }

  /** @internal Opens the stream the answer named. */
  async open(url: string): Promise<void> {
    await this.connect(url, {});
  }
}

function readTelnyxMessage(message: Record<string, unknown>): FakeStreamRead {
  if (message.event !== 'media') return readMarkOrClear(message);
  const payload = (message.media as { payload?: unknown } | undefined)?.payload;
  if (!isBase64Payload(payload)) return 'a media event without a valid base64 payload';
  const bytes = Buffer.from(payload, 'base64');
  // RTP chunks of 20 ms to 30 s (160 bytes of PCMU at least).
  if (bytes.length < 160) return `a media chunk of ${bytes.length} bytes (under 20 ms)`;
  return { kind: 'media', samples: mulawToPcm(new Uint8Array(bytes)) };
}

export interface FakeTelnyx {
  /** The webhook signing key (base64 Ed25519 public key, as the portal shows it). */
  readonly publicKey: string;
  readonly apiKey: string;
  /** The API's base URL (give it as `apiBaseUrl`). */
  readonly apiBaseUrl: string;
  readonly calls: readonly FakeTelnyxCall[];
  readonly commands: readonly FakeTelnyxCommand[];
  /** Places an incoming call: the signed `call.initiated` webhook; resolves once the agent answered with a stream. */
  placeCall(options: PlaceTelnyxCallOptions): Promise<FakeTelnyxCall>;
  close(): Promise<void>;
}

/** Starts the fake Telnyx (the API on 127.0.0.1, an ephemeral port). */
export async function startFakeTelnyx(options: FakeTelnyxOptions = {}): Promise<FakeTelnyx> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rawPublicKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  const apiKey = `KEY${randomUUID().replace(/-/g, '')}`;
  const networkDelayMs = options.networkDelayMs ?? 40;
  const calls: FakeTelnyxCall[] = [];
  const commands: FakeTelnyxCommand[] = [];
  const answers = new Map<string, (streamUrl: string) => void>();
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
    const route = /^\/v2\/calls\/([^/]+)\/actions\/(\w+)$/.exec(new URL(request.url ?? '/', 'http://localhost').pathname);
    const callControlId = decodeURIComponent(route?.[1] ?? '');
    const action = route?.[2] ?? '';
    const call = calls.find((c) => c.callControlId === callControlId && !c.isEnded);
    const reply = (status: number, answer: Record<string, unknown>): void => {
      const unplayedMarks = call === undefined ? 0 : call.received.filter((m) => m.event === 'mark').length - call.marksAcknowledged;
      commands.push({ action, callControlId, body, status, unplayedMarks });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    };
    const error = (status: number, code: string, title: string): void => reply(status, { errors: [{ code, title, detail: title }] });
    if (request.method !== 'POST' || route === null) return error(404, '10005', 'Resource not found');
    if (request.headers.authorization !== `Bearer ${apiKey}`) return error(401, '10009', 'Authentication failed');
    const answer = answers.get(callControlId);
    if (action === 'answer' && answer !== undefined) {
      if (typeof body.stream_url !== 'string' || body.stream_bidirectional_mode !== 'rtp') return error(422, '10015', 'stream_url and stream_bidirectional_mode rtp are expected');
      if (body.stream_bidirectional_codec !== undefined && body.stream_bidirectional_codec !== 'PCMU') return error(422, '10015', 'the fake streams PCMU only');
      answers.delete(callControlId);
      reply(200, { data: { result: 'ok' } });
      answer(body.stream_url);
      return;
    }
    if (call === undefined) return error(422, '90018', 'Call has already ended');
    if (action === 'hangup') {
      reply(200, { data: { result: 'ok' } });
      call.end('hangup');
    } else if (action === 'transfer' && typeof body.to === 'string') {
      reply(200, { data: { result: 'ok' } });
      call.end('transferred', body.to);
    } else error(422, '10015', `the fake does not do ${action}`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    publicKey: rawPublicKey,
    apiKey,
    apiBaseUrl,
    calls,
    commands,
    async placeCall(place) {
      const from = place.from ?? '+15550100001';
      const to = place.to ?? '+15550100002';
      const callControlId = `v2:${randomUUID().replace(/-/g, '')}`;
      const answered = new Promise<string>((resolve, reject) => {
        answers.set(callControlId, resolve);
        setTimeout(() => reject(new Error('the agent did not answer the call within 5 s')), 5000).unref();
      });
      answered.catch(() => undefined); // awaited below only when the webhook was taken
      const body = JSON.stringify({
        data: {
          record_type: 'event',
          event_type: 'call.initiated',
          id: randomUUID(),
          occurred_at: new Date().toISOString(),
          payload: { call_control_id: callControlId, call_leg_id: randomUUID(), call_session_id: randomUUID(), direction: 'incoming', from, to, state: 'parked' },
        },
        meta: { attempt: 1, delivered_to: place.webhookUrl },
      });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = signBytes(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString('base64');
      const response = await fetch(place.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(place.sign !== false ? { 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': timestamp } : {}) },
        body,
      });
      if (!response.ok) {
        answers.delete(callControlId);
        throw new Error(`the webhook answered HTTP ${response.status}`);
      }
      const streamUrl = await answered;
      const call = new FakeTelnyxCall(callControlId, from, to, networkDelayMs);
      calls.push(call);
      await call.open(streamUrl);
      return call;
    },
    async close() {
      for (const call of calls) call.end('hangup');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
