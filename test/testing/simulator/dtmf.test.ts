// Keys both ways through the local Piopiy simulator, end to end and in real time: an Agent takes a simulated
// call, the caller presses keys on the simulated phone, the model (scripted) answers them and presses keys back
// with the ready-made send_dtmf tool, and the simulated call records the keys it received.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/index.js';
import { sendDtmfTool } from '../../../src/llm/dtmf-tool.js';
import { silentLogger } from '../../../src/logging/index.js';
import { ScriptedLLMService } from '../../../src/services/scripted/index.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../../src/testing/simulator/index.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';

let sim: PiopiySimulator;
let agent: Agent | undefined;

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: 'agent-dtmf', token: 'token-dtmf' });
});

afterEach(async () => {
  await agent?.shutdown({ drainMs: 0 });
  await sim.close();
});

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DTMF through the Piopiy simulator', () => {
  it('the caller presses keys the agent answers, and the agent presses keys the caller receives', async () => {
    const userTurns: string[] = [];
    const agentTurns: string[] = [];
    agent = new Agent({
      agentId: 'agent-dtmf',
      agentToken: 'token-dtmf',
      signalingUrl: sim.signalingUrl,
      logger: silentLogger,
      handleSignals: false,
      async createSession() {
        const voice = new VoiceAgent({ instructions: 'Answer the menu.', greeting: 'Press 1 for sales.', idleTimeoutSecs: 0 });
        voice.addTool(sendDtmfTool());
        voice.events.on('user-turn', (text) => userTurns.push(text));
        voice.events.on('assistant-turn', (text) => agentTurns.push(text));
        await voice.action({
          stt: new ScriptedSTTService({ transcripts: [] }),
          llm: new ScriptedLLMService({
            rules: [
              { match: /pressed: 1$/, reply: 'Sales it is.' },
              { match: /pressed: 9 9$/, reply: 'Dialling the extension.', toolCall: { name: 'send_dtmf', arguments: { digits: '42#' } } },
            ],
          }),
          tts: new FakeTTSService({ msPerCharacter: 10 }),
        });
        await voice.start();
      },
    });
    await agent.connect();
    const call = sim.placeCall({ agentId: 'agent-dtmf' });
    await call.answered;
    await until(() => agentTurns.includes('Press 1 for sales.'));

    await call.pressKeys('1');
    await until(() => agentTurns.includes('Sales it is.'));
    expect(userTurns).toEqual(['The caller pressed: 1']);

    await call.pressKeys('99#');
    await until(() => call.receivedDigits === '42#');
    expect(userTurns).toEqual(['The caller pressed: 1', 'The caller pressed: 9 9']);
    const keys = call.receivedKeys;
    // Spaced by the transport (300 ms a key), give or take the event loop of a busy machine.
    expect(keys[1]!.at - keys[0]!.at).toBeGreaterThanOrEqual(250);
    expect(keys[2]!.at - keys[1]!.at).toBeGreaterThanOrEqual(250);

    await expect(call.pressKeys('1x')).rejects.toThrow(/invalid DTMF key "x"/);
    call.hangUp();
    await call.ended;
  }, 30_000);
});
