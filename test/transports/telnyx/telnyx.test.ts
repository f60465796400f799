// Calls through the fake Telnyx (src/testing/carriers/telnyx.ts) to a TelnyxServer: Ed25519-signed webhooks, the
// answer with a stream URL signed by us, the seed call (a transfer through Call Control), keys with a hang-up, and
// an interruption trimmed to what Telnyx acknowledged as played. Real sockets and real time.
import { generateKeyPairSync, sign } from 'node:crypto';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { startFakeTelnyx, type FakeTelnyx } from '../../../src/testing/carriers/telnyx.js';
import { speechTone } from '../../../src/testing/energy-vad.js';
import { TelnyxSerializer } from '../../../src/transports/telnyx/serializer.js';
import { isValidTelnyxSignature, telnyxPublicKey } from '../../../src/transports/telnyx/signature.js';
import { TelnyxServer, type TelnyxCallSession } from '../../../src/transports/telnyx/telnyx-server.js';
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

interface Agent extends CallLog<TelnyxCallSession> {
  telnyx: FakeTelnyx;
  webhookUrl: string;
}

async function startAgent(setup: (call: TelnyxCallSession) => Promise<VoiceAgent>, networkDelayMs?: number): Promise<Agent> {
  const telnyx = await startFakeTelnyx({ networkDelayMs });
  closeAfter(() => telnyx.close());
  const log = newCallLog<TelnyxCallSession>();
  const server = new TelnyxServer({ apiKey: telnyx.apiKey, publicKey: telnyx.publicKey, apiBaseUrl: telnyx.apiBaseUrl, logger: silentLogger, onCall: runAgent(log, setup) });
  closeAfter(() => server.close());
  return { ...log, telnyx, webhookUrl: `${await server.listen()}/telnyx/webhook` };
}

describe('Telnyx signatures and messages', () => {
  it('Ed25519 over timestamp|body, within 5 minutes, with the account’s key only', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const key = telnyxPublicKey(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64'));
    const body = '{"data":{"event_type":"call.initiated"}}';
    const signature = sign(null, Buffer.from(`1700000000|${body}`), privateKey).toString('base64');
    expect(isValidTelnyxSignature(key, signature, '1700000000', body, 1700000100)).toBe(true);
    expect(isValidTelnyxSignature(key, signature, '1700000000', body, 1700000400)).toBe(false); // too old: a replay
    expect(isValidTelnyxSignature(key, signature, '1700000001', body, 1700000100)).toBe(false);
    expect(isValidTelnyxSignature(key, signature, '1700000000', `${body} `, 1700000100)).toBe(false);
    expect(isValidTelnyxSignature(key, undefined, '1700000000', body, 1700000100)).toBe(false);
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    expect(isValidTelnyxSignature(telnyxPublicKey(other), signature, '1700000000', body, 1700000100)).toBe(false);
  });

  it('reads Telnyx’s messages and writes its own; errors reach the agent as messages', () => {
    const serializer = new TelnyxSerializer();
    const start = serializer.decode(Buffer.from(JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_id: 'S1',
      start: { call_control_id: 'v2:abc', call_session_id: 'x', from: '+1555', to: '+1666', custom_parameters: { a: 'b' }, media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } },
    })), false);
    expect(start).toEqual([{ type: 'start', start: { callId: 'v2:abc', streamId: 'S1', fromNumber: '+1555', toNumber: '+1666', customParameters: { a: 'b' } } }]);
    expect(serializer.decode(Buffer.from('{"event":"media","media":{"track":"outbound","payload":"AAAA"}}'), false)).toEqual([]);
    const error = { event: 'error', payload: { code: 100002, title: 'Unknown error' } };
    expect(serializer.decode(Buffer.from(JSON.stringify(error)), false)).toEqual([{ type: 'message', message: error }]);
    expect(JSON.parse(serializer.encodeMark('3')!)).toEqual({ event: 'mark', mark: { name: '3' } });
    expect(JSON.parse(serializer.encodeClear()!)).toEqual({ event: 'clear' });
    expect(() => new TelnyxServer({ apiKey: 'KEY1', onCall: () => undefined })).toThrow(/publicKey/);
  });

  it('refuses an unsigned webhook and a stream URL our answer did not sign (403)', async () => {
    const agent = await startAgent(async () => newVoice());
    await expect(agent.telnyx.placeCall({ webhookUrl: agent.webhookUrl, sign: false })).rejects.toThrow(/HTTP 403/);
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(agent.webhookUrl.replace('http://', 'ws://').replace('/webhook', '/stream?call=v2:x&token=guess'));
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    expect(status).toBe(403);
    expect(agent.telnyx.commands).toEqual([]);
    expect(agent.sessions).toHaveLength(0);
  });
});

describe('a call through the fake Telnyx', () => {
  it('the seed call: answered with a stream, the caller asks for a human, the agent says so and transfers', async () => {
    const agent = await startAgent((call) => seedAgent(() => call.transfer('+15550199999')));
    const call = await agent.telnyx.placeCall({ webhookUrl: agent.webhookUrl, from: '+15550100001', to: '+15550100002' });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await within(call.ended, 15_000)).toBe('transferred');
    expect(call.transferredTo).toBe('+15550199999');
    expect(agent.userTurns).toEqual([HUMAN_LINE]);
    expect(agent.sessions[0]).toMatchObject({ callId: call.callControlId, fromNumber: '+15550100001', toNumber: '+15550100002' });
    expect(agent.telnyx.commands.map((c) => [c.action, c.status, c.unplayedMarks])).toEqual([
      ['answer', 200, 0],
      ['transfer', 200, 0],
    ]);
    expectAllMarksAcknowledged(call, 'mark', 50);
  }, 30_000);

  it('keys reach the model; the agent hangs up through Call Control', async () => {
    const agent = await startAgent(async (call) => {
      const voice = await keysAgent();
      voice.events.on('assistant-turn', (text) => {
        if (text.startsWith('Order')) void call.hangUp();
      });
      return voice;
    });
    const call = await agent.telnyx.placeCall({ webhookUrl: agent.webhookUrl });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    for (const key of ['4', '2', '#']) call.pressKey(key);
    expect(await within(call.ended, 10_000)).toBe('hangup');
    expect(agent.turns[1]!.text).toBe('Order forty-two is on its way.');
    expect(agent.telnyx.commands.map((c) => c.action)).toEqual(['answer', 'hangup']);
  }, 30_000);

  it('an interruption clears Telnyx’s buffer and keeps only the words Telnyx acknowledged as played', async () => {
    const agent = await startAgent(() => interruptibleAgent(), 200);
    const call = await agent.telnyx.placeCall({ webhookUrl: agent.webhookUrl });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
