// Calls through the fake Twilio (src/testing/carriers/twilio.ts) to a TwilioServer: signed webhooks and streams,
// the seed call (a transfer to a human through the REST API), keys, and an interruption trimmed to what Twilio
// acknowledged as played. Real sockets and real time (the fake paces like Twilio), with generous bounds.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { ScriptedLLMService } from '../../../src/services/scripted/index.js';
import { startFakeTwilio, type FakeTwilio } from '../../../src/testing/carriers/twilio.js';
import { EnergyVAD, speechTone } from '../../../src/testing/energy-vad.js';
import { FakeTTSService, ScriptedSTTService } from '../../../src/testing/fake-services.js';
import { isValidTwilioSignature, twilioSignature } from '../../../src/transports/twilio/signature.js';
import { TwilioServer, type TwilioCallSession } from '../../../src/transports/twilio/twilio-server.js';
import { FunctionSchema } from '../../../src/llm/function-schema.js';
import { VoiceAgent } from '../../../src/voice-agent/index.js';
import { expectKeptOnlyAcknowledged, LONG_GREETING, until } from '../carrier-kit.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Agent {
  twilio: FakeTwilio;
  answerUrl: string;
  sessions: TwilioCallSession[];
  turns: { text: string; interrupted: boolean }[];
  userTurns: string[];
}

/** A fake Twilio and a TwilioServer whose calls run `setup`'s VoiceAgent. */
async function startAgent(setup: (call: TwilioCallSession) => Promise<VoiceAgent>, networkDelayMs?: number): Promise<Agent> {
  const twilio = await startFakeTwilio({ networkDelayMs });
  closers.push(() => twilio.close());
  const agent: Agent = { twilio, answerUrl: '', sessions: [], turns: [], userTurns: [] };
  const server = new TwilioServer({
    accountSid: twilio.accountSid,
    authToken: twilio.authToken,
    apiBaseUrl: twilio.apiBaseUrl,
    logger: silentLogger,
    onCall: async (call) => {
      agent.sessions.push(call);
      const voice = await setup(call);
      voice.events.on('assistant-turn', (text, interrupted) => agent.turns.push({ text, interrupted }));
      voice.events.on('user-turn', (text) => agent.userTurns.push(text));
      await voice.start();
    },
  });
  closers.push(() => server.close());
  agent.answerUrl = `${await server.listen()}/twilio/voice`;
  return agent;
}

const GREETING = 'Hello! How can I help you today?';

function newVoice(): VoiceAgent {
  return new VoiceAgent({ instructions: 'Be brief.', greeting: GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
}

describe('Twilio request signatures', () => {
  it('signs the URL then the sorted parameters; any change breaks it', () => {
    const params = { To: '+15550100002', CallSid: 'CA1', From: '+15550100001' };
    const signature = twilioSignature('token', 'https://a.example/twilio/voice', params);
    expect(isValidTwilioSignature('token', signature, 'https://a.example/twilio/voice', { From: '+15550100001', CallSid: 'CA1', To: '+15550100002' })).toBe(true);
    expect(isValidTwilioSignature('token', signature, 'https://a.example/twilio/voice', { ...params, To: '+15550100003' })).toBe(false);
    expect(isValidTwilioSignature('token', signature, 'http://a.example/twilio/voice', params)).toBe(false);
    expect(isValidTwilioSignature('other', signature, 'https://a.example/twilio/voice', params)).toBe(false);
    expect(isValidTwilioSignature('token', undefined, 'https://a.example/twilio/voice', params)).toBe(false);
  });

  it('refuses an unsigned answer webhook and an unsigned stream (403)', async () => {
    const agent = await startAgent(async () => newVoice());
    await expect(agent.twilio.placeCall({ answerUrl: agent.answerUrl, sign: false })).rejects.toThrow(/HTTP 403/);
    const forged = await fetch(agent.answerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature('guess', agent.answerUrl, { CallSid: 'CA1' }) },
      body: 'CallSid=CA1',
    });
    expect(forged.status).toBe(403);
    const streamUrl = agent.answerUrl.replace('http://', 'ws://').replace('/twilio/voice', '/twilio/stream');
    const { default: WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(streamUrl);
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    expect(status).toBe(403);
    expect(agent.sessions).toHaveLength(0);
  });
});

describe('a call through the fake Twilio', () => {
  it('the seed call: greeting, the caller asks for a human, the agent says so and transfers through the REST API', async () => {
    const transferSchema = new FunctionSchema({
      name: 'transfer_to_human',
      description: 'Transfer the call to a human.',
      properties: { reason: { type: 'string', description: 'Why' } },
      required: [],
    });
    const agent = await startAgent(async (call) => {
      const voice = newVoice();
      voice.addTool(transferSchema, async (_args, ctx) => {
        ctx.say('Of course. I am connecting you to a human representative now.');
        await voice.speechPlayed();
        await call.transfer('+15550199999');
        return 'transferred';
      });
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: ['I want to talk to a human please'] }),
        llm: new ScriptedLLMService({ rules: [{ match: /human/, toolCall: { name: 'transfer_to_human', arguments: { reason: 'asked' } } }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 20 }),
        vad: new EnergyVAD({ sampleRate: 8000 }),
      });
      return voice;
    });
    const call = await agent.twilio.placeCall({ answerUrl: agent.answerUrl, from: '+15550100001', to: '+15550100002' });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    // The agent counts the greeting as said when it has sent it; the caller hears its end a little later.
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await Promise.race([call.ended, new Promise((r) => setTimeout(() => r('timeout'), 15_000))])).toBe('transferred');
    expect(call.transferredTo).toBe('+15550199999');
    expect(agent.userTurns).toEqual(['I want to talk to a human please']);
    const session = agent.sessions[0]!;
    expect(session).toMatchObject({ callId: call.callSid, fromNumber: '+15550100001', toNumber: '+15550100002' });
    expect(agent.twilio.restRequests).toEqual([
      {
        method: 'POST',
        path: `/2010-04-01/Accounts/${agent.twilio.accountSid}/Calls/${call.callSid}.json`,
        params: { Twiml: expect.stringContaining('<Dial><Number>+15550199999</Number></Dial>') as unknown },
        status: 200,
      },
    ]);
    // The goodbye sentence was heard to its end before the transfer: every mark sent was acknowledged.
    const marksSent = call.received.filter((m) => m.event === 'mark').length;
    expect(marksSent).toBeGreaterThan(50);
    expect(call.marksAcknowledged).toBe(marksSent);
    expect(call.protocolErrors).toEqual([]);
    const stats = session.transport.jitterStats!;
    expect(stats.receivedPackets).toBeGreaterThan(50);
    // Real time on a shared machine: a packet may come later than the 40 ms window now and then.
    expect(stats.latePackets).toBeLessThan(stats.receivedPackets * 0.05);
  }, 30_000);

  it('keys the caller presses reach the model as an entry', async () => {
    const agent = await startAgent(async () => {
      const voice = newVoice();
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: [] }),
        llm: new ScriptedLLMService({ rules: [{ match: /pressed: 4 2/, reply: 'Order forty-two is on its way.' }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 10 }),
        vad: new EnergyVAD({ sampleRate: 8000 }),
      });
      return voice;
    });
    const call = await agent.twilio.placeCall({ answerUrl: agent.answerUrl });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    for (const key of ['4', '2', '#']) call.pressKey(key);
    await until(() => agent.turns.length === 2, 10_000, 'the answer');
    expect(agent.turns[1]!.text).toBe('Order forty-two is on its way.');
    call.hangUp();
  }, 30_000);

  it('an interruption clears Twilio’s buffer and keeps only the words Twilio acknowledged as played', async () => {
    // 40 words of 120 ms each (2 characters at 60 ms), over a network 200 ms each way.
    const delayMs = 200;
    const agent = await startAgent(async () => {
      const voice = new VoiceAgent({ instructions: 'Be brief.', greeting: LONG_GREETING, logger: silentLogger, idleTimeoutSecs: 0 });
      await voice.action({
        stt: new ScriptedSTTService({ transcripts: ['wait', 'ok'] }),
        llm: new ScriptedLLMService({ rules: [{ match: /wait/, reply: 'Yes?' }] }),
        tts: new FakeTTSService({ sampleRate: 8000, msPerCharacter: 60 }), // ~5.5 s of greeting
        vad: new EnergyVAD({ sampleRate: 8000 }),
        interruptionStrategy: null,
      });
      return voice;
    }, delayMs);
    const call = await agent.twilio.placeCall({ answerUrl: agent.answerUrl });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
