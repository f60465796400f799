// Each JSON log line names its call once: the Agent's session logger binds `callId`, and a VoiceAgent created in the
// session logs through it without binding it again (pino writes a field bound twice twice, and JSON readers then
// see only one of them, or reject the line).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/index.js';
import { createLogger, type Logger } from '../../src/logging/index.js';
import { ScriptedLLMService } from '../../src/services/scripted/index.js';
import { EnergyVAD } from '../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../src/testing/fake-services.js';
import { startPiopiySimulator, type PiopiySimulator } from '../../src/testing/simulator/index.js';
import { runInSession, type CallSession } from '../../src/transports/base/call-session.js';
import { MemoryTransport } from '../../src/transports/index.js';
import { VoiceAgent } from '../../src/voice-agent/index.js';

/** A pino logger at debug level whose JSON lines are kept. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  // pino writes each line to the destination synchronously, as one string.
  const destination = { write: (line: string) => void lines.push(line.trimEnd()) };
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

function occurrences(line: string, key: string): number {
  return line.split(`"${key}":`).length - 1;
}

let sim: PiopiySimulator;

beforeEach(async () => {
  sim = await startPiopiySimulator();
  sim.addAgent({ agentId: 'agent-logs', token: 'agent-logs-token' });
});

afterEach(async () => {
  await sim.close();
});

describe('VoiceAgent logs', () => {
  it('carry callId once in every JSON line of a call served by an Agent', async () => {
    const { logger, lines } = capturingLogger();
    const agent = new Agent({
      agentId: 'agent-logs',
      agentToken: 'agent-logs-token',
      signalingUrl: sim.signalingUrl,
      logger,
      handleSignals: false,
      prewarmVAD: false,
      async createSession() {
        // Silent caller: the VoiceAgent logs that it ends the call, 0.2 s after the greeting.
        const voice = new VoiceAgent({ instructions: 'Be brief.', greeting: 'Hello.', idleTimeoutSecs: 0.2, idleReprompts: 0 });
        await voice.action({
          stt: new ScriptedSTTService({ transcripts: ['hi'] }),
          llm: new ScriptedLLMService({ rules: [{ match: /hi/, reply: 'Hi there.' }] }),
          tts: new FakeTTSService({ msPerCharacter: 5 }),
          vad: new EnergyVAD(),
        });
        await voice.start();
      },
    });
    try {
      await agent.connect();
      const call = sim.placeCall({ agentId: 'agent-logs' });
      await call.ended;
    } finally {
      await agent.shutdown({ drainMs: 2000 });
    }
    const ofCall = lines.filter((line) => line.includes('"callId":'));
    // The session's own lines and the VoiceAgent's.
    expect(ofCall.some((line) => line.includes('"msg":"call started"'))).toBe(true);
    expect(ofCall.some((line) => line.includes('"msg":"caller silent: ending the call"'))).toBe(true);
    expect(ofCall.filter((line) => occurrences(line, 'callId') !== 1)).toEqual([]);
    for (const line of ofCall) expect(occurrences(line, 'agentId')).toBe(1);
  }, 20_000);

  it('bind the call id once to a logger of their own, and not at all without a call', () => {
    const { logger, lines } = capturingLogger();
    const transport = new MemoryTransport();
    const session = { callId: 'call-7', logger: logger.child({ callId: 'call-7' }), transport, signal: new AbortController().signal } as unknown as CallSession;
    // Given a logger that is not the session's (which has the call id already), the VoiceAgent adds the call id.
    const voice = runInSession(session, () => new VoiceAgent({ instructions: 'x', logger }));
    // Outside any session and without a call: no callId field at all.
    const bare = new VoiceAgent({ instructions: 'x', logger });
    for (const agent of [voice, bare]) (agent as unknown as { logger: Logger }).logger.info('hello');
    expect(lines.map((line) => occurrences(line, 'callId'))).toEqual([1, 0]);
    expect(lines[0]).toContain('"callId":"call-7"');
  });
});
