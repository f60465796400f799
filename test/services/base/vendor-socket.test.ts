// VendorSocket and Reconnector against a local server over real sockets. Time is a VirtualClock wherever the test is
// about a timer (keepalive, the bounded close, handshake and body limits, backoff), so nothing waits on the wall
// clock for those; only the sockets' own traffic is awaited, with generous bounds.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { ServiceError } from '../../../src/services/base/service-error.js';
import { messageText, Reconnector, refusedHandshakeError, VendorSocket, type VendorSocketOptions } from '../../../src/services/base/vendor-socket.js';
import { refuseUpgrade } from '../../../src/testing/fakes/http.js';
import { createSeededRandom } from '../../../src/testing/random.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { waitUntil } from '../../support/wait.js';

const SECRET = 'vendor-key-SECRET-0123456789';

/** What the server does with the next upgrades, one entry each; accepts when the list is empty. */
type Answer =
  | { kind: 'refuse'; status: number; headers?: Record<string, string | number>; body: string }
  /** Sends the head of a refusal and part of its body, then nothing. */
  | { kind: 'refuse-endless' }
  /** Never answers the upgrade. */
  | { kind: 'silent' }
  /** Completes the handshake by hand, then ignores everything, close frames included. */
  | { kind: 'deaf' };

interface Accepted {
  readonly request: IncomingMessage;
  readonly received: string[];
  closed?: { code: number };
  socket: ServerSocket;
}

let server: Server;
let wss: WebSocketServer;
let url: string;
let answers: Answer[];
let accepted: Accepted[];
let deafSockets: Socket[];
/** Every socket that asked for an upgrade: the server lets go of them, so the test destroys them. */
let upgraded: Socket[];
let upgrades: number;

beforeEach(async () => {
  answers = [];
  accepted = [];
  deafSockets = [];
  upgraded = [];
  upgrades = 0;
  wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false });
  server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades++;
    upgraded.push(socket);
    const answer = answers.shift();
    if (answer === undefined) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const record: Accepted = { request: req, received: [], socket: ws };
        accepted.push(record);
        ws.on('message', (data) => record.received.push(messageText(data)));
        ws.on('close', (code) => (record.closed = { code }));
      });
    } else if (answer.kind === 'refuse') {
      refuseUpgrade(socket, answer.status, { 'Content-Type': 'application/json', ...answer.headers }, answer.body);
    } else if (answer.kind === 'refuse-endless') {
      socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n{"error": "partial');
    } else if (answer.kind === 'deaf') {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.on('data', () => {});
      socket.on('error', () => {});
      deafSockets.push(socket);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/stream`;
});

afterEach(async () => {
  for (const socket of upgraded) socket.destroy();
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function options(clock: VirtualClock, extra: Partial<VendorSocketOptions> = {}): VendorSocketOptions {
  return { vendor: 'Vendor', url, headers: { Authorization: `Token ${SECRET}` }, secrets: [SECRET], handshakeTimeoutMs: 5000, clock, ...extra };
}

async function refusal(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('VendorSocket: the handshake', () => {
  it('opens with the headers and subprotocol given, and hands messages and the close over', async () => {
    const clock = new VirtualClock();
    const messages: string[] = [];
    const closes: number[] = [];
    const socket = new VendorSocket(options(clock, { protocols: ['token', 'v1'] }), {
      onMessage: (data) => messages.push(messageText(data)),
      onClose: (code) => closes.push(code),
    });
    await socket.open();
    expect(socket.isOpen).toBe(true);
    const peer = accepted[0]!;
    expect(peer.request.headers.authorization).toBe(`Token ${SECRET}`);
    expect(peer.request.headers['sec-websocket-protocol']).toBe('token,v1');
    expect(socket.sendJSON({ type: 'Hello' })).toBe(true);
    await waitUntil(() => peer.received.length === 1, 5000);
    expect(peer.received).toEqual(['{"type":"Hello"}']);
    peer.socket.send('{"type":"Results"}');
    await waitUntil(() => messages.length === 1, 5000);
    peer.socket.close(1011, 'NET-0001');
    await waitUntil(() => closes.length === 1, 5000);
    expect(closes).toEqual([1011]);
    expect(socket.isOpen).toBe(false);
    expect(socket.sendJSON({ type: 'Late' })).toBe(false);
  });

  it('a refused handshake is a ServiceError with the status, its code, Retry-After and the body, without the key', async () => {
    const clock = new VirtualClock();
    answers.push(
      { kind: 'refuse', status: 401, body: `{"message":"invalid key ${SECRET}"}` },
      { kind: 'refuse', status: 429, headers: { 'Retry-After': 7 }, body: 'slow down' },
      { kind: 'refuse', status: 503, body: '' },
      { kind: 'refuse', status: 400, body: '{"err_code":"BAD","err_msg":"bad model"}' },
    );
    const auth = await refusal(new VendorSocket(options(clock)).open());
    expect(auth).toMatchObject({ service: 'Vendor', status: 401, code: 'auth', retryable: false });
    expect(auth.message).toBe('Vendor: 401 {"message":"invalid key [redacted]"}');
    const limited = await refusal(new VendorSocket(options(clock)).open());
    expect(limited).toMatchObject({ status: 429, code: 'rate-limited', retryable: true, retryAfterSecs: 7, message: 'Vendor: 429 slow down' });
    expect(await refusal(new VendorSocket(options(clock)).open())).toMatchObject({ status: 503, code: 'server', retryable: true });
    // The vendor's own reading of the body.
    const vendorReading = new VendorSocket(
      options(clock, {
        refusal: (failure) => {
          const body = JSON.parse(failure.body) as { err_code: string; err_msg: string };
          return refusedHandshakeError('Vendor', failure, [SECRET], { message: body.err_msg, vendorCode: body.err_code });
        },
      }),
    );
    expect(await refusal(vendorReading.open())).toMatchObject({ status: 400, code: 'bad-request', vendorCode: 'BAD', message: 'Vendor: 400 bad model' });
    expect(accepted).toHaveLength(0);
  });

  it('a refusal whose body never ends is read for 2 s of the clock, then reported', async () => {
    const clock = new VirtualClock();
    answers.push({ kind: 'refuse-endless' });
    let error: unknown;
    const opening = new VendorSocket(options(clock)).open().catch((err: unknown) => (error = err));
    // The answer's head has come when the body's 2 s bound replaces the handshake's 5 s one.
    await waitUntil(() => clock.nextTimerAt === 2000, 5000);
    await clock.advance(1999);
    expect(error).toBeUndefined();
    await clock.advance(1);
    await opening;
    expect(error).toMatchObject({ status: 503, code: 'server', message: 'Vendor: 503 {"error": "partial' });
  });

  it('no answer to the upgrade within handshakeTimeoutMs is a timeout; no server at all is connection-failed', async () => {
    const clock = new VirtualClock();
    answers.push({ kind: 'silent' });
    let error: unknown;
    const opening = new VendorSocket(options(clock, { handshakeTimeoutMs: 3000 })).open().catch((err: unknown) => (error = err));
    await waitUntil(() => upgrades === 1, 5000);
    await clock.advance(2999);
    expect(error).toBeUndefined();
    await clock.advance(1);
    await opening;
    expect(error).toMatchObject({ code: 'timeout', retryable: true, message: 'Vendor: no handshake within 3000 ms' });

    const nowhere = new VendorSocket(options(clock, { url: 'ws://127.0.0.1:1/' }));
    expect(await refusal(nowhere.open())).toMatchObject({ code: 'connection-failed', retryable: true });
  });

  it('an abort while connecting abandons the attempt with a closed error', async () => {
    const clock = new VirtualClock();
    answers.push({ kind: 'silent' });
    const controller = new AbortController();
    const opening = new VendorSocket(options(clock)).open(controller.signal);
    await waitUntil(() => upgrades === 1, 5000);
    controller.abort();
    expect(await refusal(opening)).toMatchObject({ code: 'closed', retryable: false });
  });
});

describe('VendorSocket: keepalive and close', () => {
  it('sends the keepalive after idleMs without sending, and only then', async () => {
    const clock = new VirtualClock();
    let asked = 0;
    const socket = new VendorSocket(
      options(clock, {
        keepAlive: {
          idleMs: 5000,
          message: () => {
            asked++;
            // Nothing to keep alive the first time it is asked.
            return asked === 1 ? undefined : '{"type":"KeepAlive"}';
          },
        },
      }),
    );
    await socket.open();
    const peer = accepted[0]!;
    await clock.advance(5000);
    expect(asked).toBe(1);
    await clock.advance(4999);
    expect(asked).toBe(1);
    await clock.advance(1);
    await waitUntil(() => peer.received.length === 1, 5000);
    expect(peer.received).toEqual(['{"type":"KeepAlive"}']);
    // Audio sent 3 s later pushes the next keepalive to 5 s after it.
    await clock.advance(3000);
    socket.send(Buffer.from([1, 2, 3, 4]));
    await clock.advance(4999);
    expect(asked).toBe(2);
    await clock.advance(1);
    expect(asked).toBe(3);
    await waitUntil(() => peer.received.length === 3, 5000);
    expect(clock.now()).toBe(18_000);
    await socket.close();
  });

  it('close sends the close message and closes; a server that answers closes it at once', async () => {
    const clock = new VirtualClock();
    const socket = new VendorSocket(options(clock, { closeMessage: '{"type":"CloseStream"}' }));
    await socket.open();
    expect(await socket.close()).toBe(true);
    const peer = accepted[0]!;
    await waitUntil(() => peer.closed !== undefined, 5000);
    expect(peer.received).toEqual(['{"type":"CloseStream"}']);
    expect(peer.closed).toEqual({ code: 1000 });
  });

  it('close is bounded: a server that never answers the close is cut off after closeTimeoutMs of the clock', async () => {
    const clock = new VirtualClock();
    answers.push({ kind: 'deaf' });
    const closes: number[] = [];
    const socket = new VendorSocket(options(clock, { closeMessage: '{"type":"CloseStream"}', closeTimeoutMs: 1500 }), {
      onClose: (code) => closes.push(code),
    });
    await socket.open();
    const peerGone = new Promise<void>((resolve) => deafSockets[0]!.once('end', () => resolve()));
    let closedInTime: boolean | undefined;
    const closing = socket.close().then((inTime) => (closedInTime = inTime));
    await clock.advance(1499);
    expect(closedInTime).toBeUndefined();
    await clock.advance(1);
    await closing;
    expect(closedInTime).toBe(false);
    await peerGone;
    await waitUntil(() => closes.length === 1, 5000);
    expect(closes).toEqual([1006]);
  });

  it('with serverCloses, close waits for the server to close by itself, within the limit', async () => {
    const clock = new VirtualClock();
    const socket = new VendorSocket(options(clock, { closeMessage: '{"type":"CloseStream"}' }));
    await socket.open();
    const peer = accepted[0]!;
    let closedInTime: boolean | undefined;
    const closing = socket.close({ serverCloses: true, timeoutMs: 3000 }).then((inTime) => (closedInTime = inTime));
    await waitUntil(() => peer.received.length === 1, 5000);
    // The server sends its last results, then closes.
    peer.socket.close(1000);
    await closing;
    expect(closedInTime).toBe(true);
    expect(clock.now()).toBe(0);
  });
});

describe('Reconnector', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 1000, attemptsBeforeError: 4, slowDelayMs: 5000 };
  const down = new ServiceError('Vendor', 'down', { status: 503 });

  it('waits longer after each failed attempt, reports once when the fast attempts are used up, then goes slow', async () => {
    const clock = new VirtualClock();
    const reconnector = new Reconnector(() => clock, backoff);
    const plans = [];
    let attempts = 0;
    // A drop of an open socket: the first attempt after the initial wait.
    plans.push(reconnector.schedule(new ServiceError('Vendor', 'dropped', { code: 'connection-lost' }), false, () => attempts++));
    for (let i = 0; i < 6; i++) plans.push(reconnector.schedule(down, true, () => attempts++));
    expect(plans.map((p) => p?.delayMs)).toEqual([100, 200, 400, 800, 5000, 5000, 5000]);
    expect(plans.map((p) => p?.report)).toEqual([false, false, false, false, true, false, false]);
    // Only the last schedule stands.
    await clock.advance(5000);
    expect(attempts).toBe(1);
    reconnector.succeeded();
    expect(reconnector.schedule(down, true, () => attempts++)?.delayMs).toBe(200);
    reconnector.cancel();
    await clock.advance(10_000);
    expect(attempts).toBe(1);
  });

  it("waits at least the vendor's Retry-After, and schedules nothing for a failure that cannot pass", () => {
    const clock = new VirtualClock();
    const reconnector = new Reconnector(() => clock, backoff);
    const limited = new ServiceError('Vendor', 'slow down', { status: 429, retryAfterSecs: 3 });
    expect(reconnector.schedule(limited, true, () => {})?.delayMs).toBe(3000);
    reconnector.cancel();
    expect(reconnector.schedule(new ServiceError('Vendor', 'bad key', { status: 401 }), true, () => {})).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('jitter, when asked for, is the same for the same seed', () => {
    const delays = (seed: number): (number | undefined)[] => {
      const reconnector = new Reconnector(() => new VirtualClock(), { ...backoff, jitter: 0.3, random: createSeededRandom(seed) });
      return [1, 2, 3].map(() => reconnector.schedule(down, true, () => {})?.delayMs);
    };
    expect(delays(42)).toEqual(delays(42));
    expect(delays(42)).not.toEqual([200, 400, 800]);
  });

  it('drives real attempts against a server that refuses three times, at the waits of the policy', async () => {
    const clock = new VirtualClock();
    answers.push(
      { kind: 'refuse', status: 503, body: '' },
      { kind: 'refuse', status: 503, body: '' },
      { kind: 'refuse', status: 429, headers: { 'Retry-After': 2 }, body: '' },
    );
    const reconnector = new Reconnector(() => clock, backoff);
    const waits: number[] = [];
    let open = false;
    const attempt = (): void => {
      const socket = new VendorSocket(options(clock));
      socket.open().then(
        () => {
          open = true;
          reconnector.succeeded();
        },
        (error: unknown) => {
          const plan = reconnector.schedule(error as ServiceError, true, attempt);
          if (plan !== undefined) waits.push(plan.delayMs);
        },
      );
    };
    attempt();
    for (let i = 0; i < 3; i++) {
      await waitUntil(() => waits.length === i + 1, 5000);
      expect(clock.nextTimerAt! - clock.now()).toBe(waits[i]);
      await clock.advance(waits[i]!);
    }
    await waitUntil(() => open, 5000);
    expect(waits).toEqual([200, 400, 2000]);
    expect(upgrades).toBe(4);
    expect(clock.now()).toBe(2600);
  });
});

