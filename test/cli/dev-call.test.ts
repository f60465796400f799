// `piopiy-ai dev`'s server through a whole call, as the page sees it: an agent file with model-free engines
// (test/cli/fixtures/fake-transfer-agent.ts), the page played by a WebSocket client that streams a tone as the
// caller's request. The events must say when things happened (a tool call before the REST request it made, though
// it is reported after it), carry one increasing sequence, and end the call as transferred.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startDevServer, type DevServer, type DevServerMessage } from '../../src/cli/dev.js';
import { int16ToBytes } from '../../src/audio/index.js';
import { speechTone } from '../../src/testing/energy-vad.js';

let server: DevServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Received = Extract<DevServerMessage, { seq: number }>;

describe('piopiy-ai dev: a call as the page sees it', () => {
  it('orders events by when they happened (the tool before its REST request), sequences them, and ends as transferred', async () => {
    server = await startDevServer({ agentFile: 'test/cli/fixtures/fake-transfer-agent.ts', port: 0, host: '127.0.0.1' });
    await server.agentReady;
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const messages: DevServerMessage[] = [];
    const waitFor = async (what: string, predicate: (m: DevServerMessage) => boolean, timeoutMs = 15_000): Promise<DevServerMessage> => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found !== undefined) return found;
        if (performance.now() > deadline) throw new Error(`no ${what}: ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    socket.on('message', (data, isBinary) => {
      if (!isBinary) messages.push(JSON.parse((data as Buffer).toString('utf8')) as DevServerMessage);
    });
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'call' }));
    await waitFor('answer', (m) => m.type === 'state' && m.state === 'answered');
    await waitFor('greeting', (m) => m.type === 'transcript' && m.role === 'assistant');
    // The caller's request: 800 ms of voice-like tone in real-time 20 ms frames (the scripted STT hears the words).
    const tone = speechTone(800, 16000);
    for (let i = 0; i < tone.length; i += 320) {
      socket.send(int16ToBytes(tone.subarray(i, i + 320)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const ended = await waitFor('the end', (m) => m.type === 'state' && m.state === 'ended', 20_000);
    socket.close();

    expect(ended).toMatchObject({ reason: 'transferred', transferredTo: '918000000002' });
    const events = messages.filter((m): m is Received => 'seq' in m);
    // One counter, in the order sent.
    expect(events.map((m) => m.seq)).toEqual(events.map((_, i) => i));
    const user = events.find((m) => m.type === 'transcript' && m.role === 'user');
    expect(user).toMatchObject({ type: 'transcript', role: 'user', heard: 'I want a human' });
    const tool = events.find((m) => m.type === 'tool')!;
    const rest = events.find((m) => m.type === 'rest')!;
    expect(tool).toMatchObject({ name: 'transfer_to_human', result: 'Connecting you now.' });
    expect(rest).toMatchObject({ method: 'POST', path: '/v3/voice/pcmo/transfer', status: 200 });
    // Reported after the request it made (it returns after it) ...
    expect(tool.seq).toBeGreaterThan(rest.seq);
    // ... but it happened first: sorted by (t, seq), as the page shows them, the tool comes first.
    expect(tool.t).toBeLessThan(rest.t);
    const shown = [tool, rest].sort((a, b) => a.t - b.t || a.seq - b.seq).map((m) => m.type);
    expect(shown).toEqual(['tool', 'rest']);
    expect(user!.t).toBeLessThanOrEqual(tool.t);
    const answer = events.filter((m) => m.type === 'transcript' && m.role === 'assistant').at(-1);
    expect(answer).toMatchObject({ text: 'Connecting you now.', interrupted: false });
  }, 40_000);
});
