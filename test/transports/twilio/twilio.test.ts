// Calls through the fake Twilio (src/testing/carriers/twilio.ts) to a TwilioServer: signed webhooks and streams,
// the seed call (a transfer to a human through the REST API), keys, and an interruption trimmed to what Twilio
// acknowledged as played. Real sockets and real time (the fake paces like Twilio), with generous bounds.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { startFakeTwilio, type FakeTwilio } from '../../../src/testing/carriers/twilio.js';
import { speechTone } from '../../../src/testing/energy-vad.js';
import { isValidTwilioSignature, twilioSignature } from '../../../src/transports/twilio/signature.js';
import { TwilioServer, type TwilioCallSession } from '../../../src/transports/twilio/twilio-server.js';
import type { VoiceAgent } from '../../../src/voice-agent/index.js';
import {
  GREETING,
  HUMAN_LINE,
  expectAllMarksAcknowledged,
  expectKeptOnlyAcknowledged,
  interruptibleAgent,
  keysAgent,
  newCallLog,
  newVoice,
  runAgent,
  seedAgent,
  until,
  useClosers,
  within,
  type CallLog,
} from '../carrier-kit.js';

const closeAfter = useClosers();

interface Agent extends CallLog<TwilioCallSession> {
  twilio: FakeTwilio;
  answerUrl: string;
}

/** A fake Twilio and a TwilioServer whose calls run `setup`'s VoiceAgent. */
async function startAgent(setup: (call: TwilioCallSession) => Promise<VoiceAgent>, networkDelayMs?: number): Promise<Agent> {
  const twilio = await startFakeTwilio({ networkDelayMs });
  closeAfter(() => twilio.close());
  const log = newCallLog<TwilioCallSession>();
  const server = new TwilioServer({
    accountSid: twilio.accountSid,
    authToken: twilio.authToken,
    apiBaseUrl: twilio.apiBaseUrl,
    logger: silentLogger,
    onCall: runAgent(log, setup),
  });
  closeAfter(() => server.close());
  return { ...log, twilio, answerUrl: `${await server.listen()}/twilio/voice` };
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
    const agent = await startAgent((call) => seedAgent(() => call.transfer('+15550199999')));
    const call = await agent.twilio.placeCall({ answerUrl: agent.answerUrl, from: '+15550100001', to: '+15550100002' });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    // The agent counts the greeting as said when it has sent it; the caller hears its end a little later.
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await within(call.ended, 15_000)).toBe('transferred');
    expect(call.transferredTo).toBe('+15550199999');
    expect(agent.userTurns).toEqual([HUMAN_LINE]);
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
    expectAllMarksAcknowledged(call, 'mark', 50);
    const stats = session.transport.jitterStats!;
    expect(stats.receivedPackets).toBeGreaterThan(50);
    // Real time on a shared machine: a packet may come later than the 40 ms window now and then.
    expect(stats.latePackets).toBeLessThan(stats.receivedPackets * 0.05);
  }, 30_000);

  it('keys the caller presses reach the model as an entry', async () => {
    const agent = await startAgent(() => keysAgent());
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
    const agent = await startAgent(() => interruptibleAgent(), delayMs);
    const call = await agent.twilio.placeCall({ answerUrl: agent.answerUrl });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
