// `piopiy-ai dev`'s server without an agent: the access rule (loopback open, anywhere else a token on every HTTP
// and WebSocket request), what it serves, and the two simulator additions the softphone rests on (live caller
// audio through SimulatedCall.feed, REST requests as they happen through onRestRequest).
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { bytesToInt16 } from '../../src/audio/index.js';
import { isLoopbackHost, startDevServer, tokensMatch, type DevServer } from '../../src/cli/dev.js';
import { SimulatedCall, startPiopiySimulator, type RestRequestEvent } from '../../src/testing/simulator/index.js';

const servers: DevServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function devServer(requireToken: boolean): Promise<DevServer> {
  const server = await startDevServer({ agentFile: null, port: 0, host: '127.0.0.1', requireToken });
  servers.push(server);
  return server;
}

/** GET with full control of the headers (fetch does not let a test set Host). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the softphone's WebSocket: the first message (hello), or the HTTP status it was refused with. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ status: number; hello?: { type: string }; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('message', (data) => resolve({ status: 101, hello: JSON.parse((data as Buffer).toString('utf8')) as { type: string }, socket }));
    socket.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('piopiy-ai dev: who may use the softphone', () => {
  it('tells loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('compares tokens whatever their lengths', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abd', 'abc')).toBe(false);
    expect(tokensMatch('ab', 'abc')).toBe(false);
    expect(tokensMatch(undefined, 'abc')).toBe(false);
  });

  it('on loopback needs no token, for the page and the socket', async () => {
    const server = await devServer(false);
    expect(server.token).toBeUndefined();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<button id="call"');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['set-cookie']).toBeUndefined();
    for (const asset of ['/app.js', '/audio-worklet.js', '/style.css']) expect((await get(server.port, asset)).status, asset).toBe(200);
    const { status, hello, socket } = await openSocket(`ws://127.0.0.1:${server.port}/ws`);
    expect(status).toBe(101);
    expect(hello).toEqual({ type: 'hello', agent: null, agentState: 'none', callerSampleRate: 16000, frameMs: 20 });
    socket?.close();
  });

  it('on loopback refuses other host names (DNS rebinding) and sockets opened by other sites', async () => {
    const server = await devServer(false);
    expect((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await openSocket(`ws://127.0.0.1:${server.port}/ws`, { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await openSocket(`ws://127.0.0.1:${server.port}/ws`, { Origin: 'http://evil.example' })).status).toBe(403);
    const own = await openSocket(`ws://127.0.0.1:${server.port}/ws`, { Origin: `http://127.0.0.1:${server.port}` });
    expect(own.status).toBe(101);
    own.socket?.close();
  });

  it('with the token required, refuses HTTP and WebSocket requests without it or with a wrong one (401), and serves those with it', async () => {
    const server = await devServer(true);
    const token = server.token!;
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${token}`);
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

    for (const path of ['/', '/app.js', '/audio-worklet.js', '/no-such-file', `/?token=${wrong}`, '/?token=', `/app.js?token=${token.slice(0, 8)}`]) {
      const res = await get(server.port, path);
      expect(res.status, path).toBe(401);
      expect(res.body, path).not.toContain(token);
    }
    const page = await get(server.port, `/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<button id="call"');
    // The page's own requests (scripts, the worklet) carry the token in an HttpOnly, same-site cookie.
    const cookie = String((page.headers['set-cookie'] as string[])[0]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    expect((await get(server.port, '/app.js', { Cookie: pair })).status).toBe(200);
    expect((await get(server.port, '/app.js', { Cookie: pair.replace(token, wrong) })).status).toBe(401);
    expect((await get(server.port, `/app.js?token=${token}`)).status).toBe(200);
    // Off loopback the Host header is whatever name the machine was reached by.
    expect((await get(server.port, `/?token=${token}`, { Host: `devbox.lan:${server.port}` })).status).toBe(200);

    const base = `ws://127.0.0.1:${server.port}/ws`;
    expect((await openSocket(base)).status).toBe(401);
    expect((await openSocket(`${base}?token=${wrong}`)).status).toBe(401);
    expect((await openSocket(`${base}?token=`)).status).toBe(401);
    const withQuery = await openSocket(`${base}?token=${token}`);
    expect(withQuery.status).toBe(101);
    expect(withQuery.hello?.type).toBe('hello');
    withQuery.socket?.close();
    const withCookie = await openSocket(base, { Cookie: pair });
    expect(withCookie.status).toBe(101);
    withCookie.socket?.close();
  });

  it('answers a call request without an agent with an error, and serves nothing outside its page folder', async () => {
    const server = await devServer(false);
    const { socket } = await openSocket(`ws://127.0.0.1:${server.port}/ws`);
    const reply = new Promise<unknown>((resolve) => socket!.once('message', (data) => resolve(JSON.parse((data as Buffer).toString('utf8')))));
    socket!.send(JSON.stringify({ type: 'call' }));
    expect(await reply).toEqual({ type: 'error', message: 'no agent to call' });
    socket!.close();
    for (const path of ['/../dev.ts', '/%2e%2e/dev.ts', '/dev.ts', '/..%2fprogram.ts']) expect((await get(server.port, path)).status, path).toBe(404);
    expect((await openSocket(`ws://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});

describe('the simulator parts the softphone uses', () => {
  it('SimulatedCall.feed sends live audio in 20 ms frames, in order, after a two-frame jitter buffer, dropping what falls too far behind', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const call = new SimulatedCall({
      callId: 'c1',
      roomName: 'tcmi_c1',
      agentId: 'a',
      from: '1',
      to: '2',
      metadata: null,
      mediaToken: 't',
      sampleRate: 16000,
      frameMs: 20,
    });
    wss.once('connection', (ws) => call.attach(ws));
    const agent = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const frames: Int16Array[] = [];
    agent.on('message', (data, isBinary) => {
      if (isBinary) frames.push(bytesToInt16(Buffer.from(data as Buffer)));
    });
    await call.answered;
    // One frame alone waits in the jitter buffer; the second lets both out, in order.
    const ramp = Int16Array.from({ length: 960 }, (_, i) => i + 1);
    call.feed(ramp.subarray(0, 320));
    await new Promise((r) => setTimeout(r, 100));
    expect(call.sent.every((f) => f.audio.every((s) => s === 0))).toBe(true);
    call.feed(ramp.subarray(320, 500)); // uneven pieces are fine
    call.feed(ramp.subarray(500, 960));
    await new Promise((r) => setTimeout(r, 120));
    const live = call.sent.map((f) => f.audio).filter((a) => a.some((s) => s !== 0));
    expect(live).toHaveLength(3);
    expect(Array.from(live.flatMap((a) => Array.from(a)))).toEqual(Array.from(ramp));
    expect(frames.filter((f) => f.some((s) => s !== 0))).toHaveLength(3);

    // A burst far ahead of real time keeps only the newest 200 ms.
    const before = call.sent.length;
    const burst = Int16Array.from({ length: 16000 }, (_, i) => (i % 1000) + 1);
    call.feed(burst);
    await new Promise((r) => setTimeout(r, 400));
    const after = call.sent.slice(before).map((f) => f.audio).filter((a) => a.some((s) => s !== 0));
    expect(after).toHaveLength(10);
    expect(after[0]![0]).toBe(burst[16000 - 3200]);

    call.hangUp();
    call.feed(ramp); // after the end: ignored
    agent.close();
    await new Promise((r) => wss.close(r));
  });

  it('PiopiySimulator.onRestRequest reports each REST request once answered, with its status', async () => {
    const sim = await startPiopiySimulator();
    const seen: RestRequestEvent[] = [];
    const off = sim.onRestRequest((r) => seen.push(r));
    const post = (path: string, token: string, body: unknown): Promise<Response> =>
      fetch(`${sim.restBaseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post('/voice/call/hangup', 'wrong', { call_id: 'x' });
    await post('/voice/call/hangup', sim.restToken, { call_id: 'no-such-call' });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/v3/voice/call/hangup', { call_id: 'x' }],
      ['POST', '/v3/voice/call/hangup', { call_id: 'no-such-call' }],
    ]);
    expect(seen[0]!.status).toBe(401);
    expect(seen[1]!.status).toBeGreaterThanOrEqual(400); // past the token check: refused by validation or as unknown
    expect(seen[1]!.status).not.toBe(401);
    off();
    await post('/voice/call/hangup', sim.restToken, { call_id: 'y' });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(2);
    expect(sim.restRequests).toHaveLength(3);
    await sim.close();
  });
});
