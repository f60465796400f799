// `piopiy-ai dev --media livekit`: the softphone's server with the call as a LiveKit room over real WebRTC. The page
// (a WebSocket client here) is unchanged: its microphone reaches the server, which is the caller in the room (an
// rtc-node participant), and the agent's voice comes back from the room. Model-free agent
// (test/cli/fixtures/fake-transfer-agent.ts): it greets, hears a tone as a request for a human and transfers.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { int16ToBytes } from '../../src/audio/index.js';
import { startDevServer, type DevServer, type DevServerMessage } from '../../src/cli/dev.js';
import { speechTone } from '../../src/testing/energy-vad.js';

let server: DevServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('piopiy-ai dev --media livekit', () => {
  it('carries the page’s call through a LiveKit room: greeting heard, request heard, transferred', async () => {
    server = await startDevServer({ agentFile: 'test/cli/fixtures/fake-transfer-agent.ts', port: 0, host: '127.0.0.1', media: 'livekit' });
    await server.agentReady;
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const messages: DevServerMessage[] = [];
    let agentAudioBytes = 0;
    socket.on('message', (data, isBinary) => {
      if (isBinary) agentAudioBytes += (data as Buffer).length;
      else messages.push(JSON.parse((data as Buffer).toString('utf8')) as DevServerMessage);
    });
    const waitFor = async (what: string, predicate: (m: DevServerMessage) => boolean, timeoutMs = 20_000): Promise<DevServerMessage> => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found !== undefined) return found;
        if (performance.now() > deadline) throw new Error(`no ${what}: ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'call' }));
    await waitFor('answer', (m) => m.type === 'state' && m.state === 'answered');
    await waitFor('greeting', (m) => m.type === 'transcript' && m.role === 'assistant');
    // The room's caller hands the agent's audio back at the page's rate (16 kHz), announced before the first frame.
    expect(await waitFor('the agent audio format', (m) => m.type === 'format')).toMatchObject({ sampleRate: 16000 });
    const tone = speechTone(800, 16000);
    for (let i = 0; i < tone.length; i += 320) {
      socket.send(int16ToBytes(tone.subarray(i, i + 320)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const ended = await waitFor('the end', (m) => m.type === 'state' && m.state === 'ended', 30_000);
    socket.close();
    expect(ended).toMatchObject({ reason: 'transferred', transferredTo: '918000000002' });
    expect(messages.find((m) => m.type === 'transcript' && m.role === 'user')).toMatchObject({ heard: 'I want a human' });
    expect(agentAudioBytes).toBeGreaterThan(16000 * 2 * 0.5); // at least half a second of the greeting
    expect(server.simulator.livekit).toBeDefined();
  }, 60_000);
});
