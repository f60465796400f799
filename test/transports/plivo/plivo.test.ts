// Calls through the fake Plivo (src/testing/carriers/plivo.ts) to a PlivoServer: V3-signed webhooks, a stream URL
// signed by our answer, the seed call (a transfer to a human through the REST API and the transfer XML), keys, and
// an interruption trimmed to what Plivo acknowledged as played (playedStream). Real sockets and real time.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { startFakePlivo, type FakePlivo } from '../../../src/testing/carriers/plivo.js';
import { speechTone } from '../../../src/testing/energy-vad.js';
import { PlivoServer, type PlivoCallSession } from '../../../src/transports/plivo/plivo-server.js';
import { PlivoSerializer, parsePlivoExtraHeaders } from '../../../src/transports/plivo/serializer.js';
import { isValidPlivoSignatureV3, plivoSignatureV3 } from '../../../src/transports/plivo/signature.js';
import type { VoiceAgent } from '../../../src/voice-agent/index.js';
import {
  GREETING,
  HUMAN_LINE,
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

interface Agent extends CallLog<PlivoCallSession> {
  plivo: FakePlivo;
  answerUrl: string;
}

async function startAgent(setup: (call: PlivoCallSession) => Promise<VoiceAgent>, networkDelayMs?: number): Promise<Agent> {
  const plivo = await startFakePlivo({ networkDelayMs });
  closeAfter(() => plivo.close());
  const log = newCallLog<PlivoCallSession>();
  const server = new PlivoServer({ authId: plivo.authId, authToken: plivo.authToken, apiBaseUrl: plivo.apiBaseUrl, logger: silentLogger, onCall: runAgent(log, setup) });
  closeAfter(() => server.close());
  return { ...log, plivo, answerUrl: `${await server.listen()}/plivo/answer` };
}

describe('Plivo signatures and messages', () => {
  it('V3: the URL with its sorted query, the sorted parameters, the nonce; several signatures in one header', () => {
    const params = { To: '15550100002', CallUUID: 'u1', From: '15550100001' };
    const url = 'https://a.example/plivo/answer?b=2&a=1';
    const signature = plivoSignatureV3('token', url, 'n1', params);
    expect(isValidPlivoSignatureV3('token', signature, 'n1', 'https://a.example/plivo/answer?a=1&b=2', { ...params })).toBe(true);
    expect(isValidPlivoSignatureV3('token', `other,${signature}`, 'n1', url, params)).toBe(true);
    expect(isValidPlivoSignatureV3('token', signature, 'n2', url, params)).toBe(false);
    expect(isValidPlivoSignatureV3('token', signature, 'n1', url, { ...params, To: '1' })).toBe(false);
    expect(isValidPlivoSignatureV3('other', signature, 'n1', url, params)).toBe(false);
    expect(isValidPlivoSignatureV3('token', undefined, 'n1', url, params)).toBe(false);
  });

  it('reads Plivo’s messages and writes its own (playAudio, checkpoint, clearAudio)', () => {
    const serializer = new PlivoSerializer('audio/x-mulaw;rate=8000', { fromNumber: '1555', toNumber: '1666' });
    const start = serializer.decode(Buffer.from(JSON.stringify({
      event: 'start',
      sequenceNumber: 1,
      start: { callId: 'C1', streamId: 'S1', accountId: 'MA1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } },
      extra_headers: 'lang=en;tier=gold',
    })), false);
    expect(start).toEqual([{ type: 'start', start: { callId: 'C1', streamId: 'S1', fromNumber: '1555', toNumber: '1666', customParameters: { lang: 'en', tier: 'gold' } } }]);
    expect(serializer.decode(Buffer.from('{"event":"playedStream","streamId":"S1","name":"7"}'), false)).toEqual([{ type: 'mark', name: '7' }]);
    expect(serializer.decode(Buffer.from('{"event":"dtmf","streamId":"S1","dtmf":{"digit":"5"}}'), false)).toEqual([{ type: 'dtmf', digit: '5' }]);
    expect(serializer.decode(Buffer.from('{"event":"clearedAudio","streamId":"S1"}'), false)).toEqual([]);
    expect(JSON.parse(serializer.encodeAudio(new Int16Array(160)))).toMatchObject({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000 } });
    expect(JSON.parse(serializer.encodeMark('7')!)).toEqual({ event: 'checkpoint', streamId: 'S1', name: '7' });
    expect(JSON.parse(serializer.encodeClear()!)).toEqual({ event: 'clearAudio', streamId: 'S1' });
    expect(parsePlivoExtraHeaders('a=1,b=2')).toEqual({ a: '1', b: '2' });
  });

  it('refuses an unsigned answer and a stream URL our answer did not sign (403)', async () => {
    const agent = await startAgent(async () => newVoice());
    await expect(agent.plivo.placeCall({ answerUrl: agent.answerUrl, sign: false })).rejects.toThrow(/HTTP 403/);
    const streamUrl = agent.answerUrl.replace('http://', 'ws://').replace('/plivo/answer', '/plivo/stream?call=x&from=&to=&token=guess');
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(streamUrl);
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    expect(status).toBe(403);
    expect(agent.sessions).toHaveLength(0);
  });
});

describe('a call through the fake Plivo', () => {
  it('the seed call: greeting, the caller asks for a human, the agent says so and transfers through the REST API', async () => {
    const agent = await startAgent((call) => seedAgent(() => call.transfer('+15550199999')));
    const call = await agent.plivo.placeCall({ answerUrl: agent.answerUrl, from: '15550100001', to: '15550100002' });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    expect(agent.turns[0]).toEqual({ text: GREETING, interrupted: false });
    await until(() => call.agentSpeechMs() > 500, 5000, 'the greeting at the caller');
    await call.say(speechTone(1200, 8000));
    expect(await within(call.ended, 15_000)).toBe('transferred');
    expect(call.transferredTo).toBe('15550199999');
    expect(agent.userTurns).toEqual([HUMAN_LINE]);
    expect(agent.sessions[0]).toMatchObject({ callId: call.callUuid, fromNumber: '15550100001', toNumber: '15550100002' });
    expect(agent.plivo.restRequests).toEqual([
      {
        method: 'POST',
        path: `/v1/Account/${agent.plivo.authId}/Call/${call.callUuid}/`,
        body: { legs: 'aleg', aleg_url: expect.stringContaining('/plivo/transfer?to=%2B15550199999') as unknown, aleg_method: 'POST' },
        status: 202,
        unplayedCheckpoints: 0, // the goodbye was heard to its end before the transfer
      },
    ]);
    // Plivo fetches the transfer XML before the call leaves the stream: what the agent says meanwhile goes unheard.
    expect(call.received.filter((m) => m.event === 'checkpoint').length).toBeGreaterThan(50);
    expect(call.protocolErrors).toEqual([]);
    const stats = agent.sessions[0]!.transport.jitterStats!;
    expect(stats.receivedPackets).toBeGreaterThan(50);
  }, 30_000);

  it('keys reach the model; the agent hangs up through the REST API', async () => {
    const agent = await startAgent(async (call) => {
      const voice = await keysAgent();
      voice.events.on('assistant-turn', (text) => {
        if (text.startsWith('Order')) void call.hangUp();
      });
      return voice;
    });
    const call = await agent.plivo.placeCall({ answerUrl: agent.answerUrl });
    await until(() => agent.turns.length === 1, 10_000, 'the greeting');
    for (const key of ['4', '2', '#']) call.pressKey(key);
    expect(await within(call.ended, 10_000)).toBe('hangup');
    expect(agent.turns[1]!.text).toBe('Order forty-two is on its way.');
    expect(agent.plivo.restRequests.map((r) => `${r.method} ${r.status} ${r.unplayedCheckpoints}`)).toEqual(['DELETE 204 0']);
  }, 30_000);

  it('an interruption clears Plivo’s buffer and keeps only the words Plivo acknowledged as played', async () => {
    const delayMs = 200;
    const agent = await startAgent(() => interruptibleAgent(), delayMs);
    const call = await agent.plivo.placeCall({ answerUrl: agent.answerUrl });
    await until(() => call.agentSpeechMs() >= 1500, 10_000, 'the greeting to be under way');
    await call.say(speechTone(800, 8000));
    await until(() => agent.turns.length >= 1, 10_000, 'the interrupted greeting');
    expect(call.clearedAtMs.length).toBeGreaterThanOrEqual(1);
    expectKeptOnlyAcknowledged(agent.turns[0]!, call.agentSpeechMs(0, call.clearedAtMs[0]));
    call.hangUp();
  }, 30_000);
});
