// RestClient's call control (spec §7.6), agent management and balance, over real HTTP against the simulator's
// REST listener; `waitForTransfer` on a VirtualClock with an in-memory fetch.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { PiopiyApiError, PiopiyValidationError, RestClient, type WarmTransferInput } from '../../../src/piopiy/rest/index.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';
import { CALL_ID, TOKEN, startSimulatorRest, type SimulatorFixture } from './helpers.js';

let sim: SimulatorFixture;

beforeEach(async () => {
  sim = await startSimulatorRest();
});

afterEach(async () => {
  await sim.server.close();
});

const requests = () => sim.api.requests.map((r) => ({ method: r.method, path: r.path, body: r.body }));

describe('calls: warm and blind transfer, hangup, status', () => {
  it('warm transfer: the wire body of spec §7.6, numbers normalised, and the queued request id', async () => {
    const result = await sim.client().calls.warmTransfer('call-42', {
      toNumber: '+91 98765-43210',
      callerId: '+91 80000 00001',
      timeoutSec: 25,
      confirm: true,
      holdAudio: true,
      transferSummary: 'Refund on order A-1042',
      variables: { ticket: 'A-1042' },
    });
    expect(result).toEqual({
      requestId: 'req-warm',
      callId: 'call-42',
      response: { message: 'queued', call_id: 'call-42', request_id: 'req-warm' },
    });
    expect(requests()).toEqual([
      {
        method: 'POST',
        path: '/v3/calls/call-42/actions/transfer',
        body: {
          to_number: '919876543210',
          caller_id: '918000000001',
          timeout_sec: 25,
          confirm: true,
          hold_audio: true,
          transfer_summary: 'Refund on order A-1042',
          variables: { ticket: 'A-1042' },
        },
      },
    ]);
  });

  it('warm transfer to a SIP desk with X- headers; bad inputs fail before anything is sent', async () => {
    const piopiy = sim.client();
    await piopiy.calls.warmTransfer('call 7/x', { sipUri: 'sip:desk@pbx.example.com', sipHeaders: { 'X-Ticket': 'A-1' } });
    expect(requests()[0]).toEqual({
      method: 'POST',
      path: '/v3/calls/call%207%2Fx/actions/transfer',
      body: { sip_uri: 'sip:desk@pbx.example.com', sip_headers: { 'X-Ticket': 'A-1' } },
    });
    const bad: [WarmTransferInput, string][] = [
      [{} as WarmTransferInput, 'body'],
      [{ toNumber: '919876543210', sipUri: 'sip:a@b' } as unknown as WarmTransferInput, 'body'],
      [{ toNumber: '12' }, 'to_number'],
      [{ sipUri: 'desk@pbx' }, 'sip_uri'],
      [{ toNumber: '919876543210', timeoutSec: 2.5 }, 'timeout_sec'],
      [{ sipUri: 'sip:a@b', sipHeaders: { Ticket: 'x' } }, 'sip_headers.Ticket'],
      [{ toNumber: '919876543210', holdAudio: '' }, 'hold_audio'],
    ];
    for (const [input, field] of bad) {
      const error = await piopiy.calls.warmTransfer('call-42', input).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(PiopiyValidationError);
      expect((error as PiopiyValidationError).field).toBe(field);
    }
    await expect(piopiy.calls.warmTransfer('', { toNumber: '919876543210' })).rejects.toMatchObject({ field: 'callId' });
    expect(sim.api.requests).toHaveLength(1);
  });

  it('blind transfer through the actions API, and hangup with the default cause `normal` or a given one', async () => {
    const piopiy = sim.client();
    await piopiy.calls.blindTransfer('call-42', piopiy.voice.pipeline().connect({ from: '+918000000001' }, [{ type: 'pstn', number: '+918000000002' }]));
    await piopiy.calls.hangup('call-42');
    await piopiy.calls.hangup('call-42', { cause: 'busy', reason: 'caller asked' });
    expect(requests()).toEqual([
      {
        method: 'POST',
        path: '/v3/calls/call-42/actions/transfer',
        body: { pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }] },
      },
      { method: 'POST', path: '/v3/calls/call-42/actions/hangup', body: { cause: 'normal' } },
      { method: 'POST', path: '/v3/calls/call-42/actions/hangup', body: { cause: 'busy', reason: 'caller asked' } },
    ]);
  });

  it('GET /transfers/{id} and GET /calls/{id}, with Bearer auth and no body', async () => {
    const piopiy = sim.client();
    const status = await piopiy.calls.transferStatus('req-9');
    expect(status).toMatchObject({ requestId: 'req-9', callId: CALL_ID, status: 'failed', reason: 'no_answer', settled: true });
    expect(await piopiy.calls.get('call-42')).toEqual({ call_id: 'call-42', status: 'in-progress' });
    expect(requests()).toEqual([
      { method: 'GET', path: '/v3/transfers/req-9', body: undefined },
      { method: 'GET', path: '/v3/calls/call-42', body: undefined },
    ]);
    const gets = sim.server.seen.filter((s) => s.method === 'GET');
    expect(gets.every((s) => s.headers.authorization === `Bearer ${TOKEN}` && s.headers['content-type'] === undefined)).toBe(true);
  });

  it('409 transfer_in_progress is a PiopiyApiError naming the running transfer', async () => {
    await sim.server.close();
    sim = await startSimulatorRest({
      warmTransfer: () => ({ status: 409, body: { error: 'transfer_in_progress', message: 'A transfer is already in progress.', request_id: 'req-running' } }),
    });
    const error = await sim.client().calls.warmTransfer('call-42', { toNumber: '919876543210' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiopiyApiError);
    expect(error).toMatchObject({ status: 409, code: 'transfer_in_progress', requestId: 'req-running' });
  });
});

describe('voice.hangup(callId, cause, reason)', () => {
  it('takes the cause and reason positionally or as options, and refuses a reason after options', async () => {
    const piopiy = sim.client();
    await piopiy.voice.hangup(CALL_ID, 'USER_BUSY', 'caller asked');
    await piopiy.voice.hangup(CALL_ID, { reason: 'done' });
    await piopiy.voice.hangup(CALL_ID);
    expect(requests().map((r) => r.body)).toEqual([
      { call_id: CALL_ID, cause: 'USER_BUSY', reason: 'caller asked' },
      { call_id: CALL_ID, cause: 'NORMAL_CLEARING', reason: 'done' },
      { call_id: CALL_ID, cause: 'NORMAL_CLEARING' },
    ]);
    await expect(piopiy.voice.hangup(CALL_ID, {}, 'late')).rejects.toBeInstanceOf(PiopiyValidationError);
    await expect(piopiy.voice.hangup(CALL_ID, 'X'.repeat(65))).rejects.toMatchObject({ field: 'cause' });
  });
});

describe('agents (management API) and balance', () => {
  it('create, list, delete and route a number, on the management base URL', async () => {
    const piopiy = sim.client();
    expect(await piopiy.agents.create({ name: 'Support Agent', language: 'en-US' })).toMatchObject({ id: 'agent_1', agent_token: 'agt_secret' });
    await piopiy.agents.list();
    await piopiy.agents.delete('agent_1');
    await piopiy.agents.routeNumber({ phoneNumber: '+1 949-980-0001', agentId: 'agent_1' });
    expect(await piopiy.getBalance()).toEqual({ balance: 42.5 });
    expect(requests()).toEqual([
      { method: 'POST', path: '/v1/ai-agents', body: { name: 'Support Agent', language: 'en-US' } },
      { method: 'GET', path: '/v1/ai-agents', body: undefined },
      { method: 'DELETE', path: '/v1/ai-agents/agent_1', body: undefined },
      { method: 'POST', path: '/v1/phone-number-routing', body: { phone_number: '+19499800001', route_type: 'ai_agent', agent_id: 'agent_1' } },
      { method: 'GET', path: '/v3/balance', body: undefined },
    ]);
    expect(new RestClient({ token: 't' }).managementBaseUrl).toBe('https://api.piopiy.com/v1');
  });

  it('validates like the platform: name required, no unknown fields, E.164 numbers', async () => {
    const piopiy = sim.client();
    await expect(piopiy.agents.create({ name: '' })).rejects.toMatchObject({ field: 'name' });
    await expect(piopiy.agents.create({ name: 'A', colour: 'blue' } as never)).rejects.toMatchObject({ field: 'body' });
    await expect(piopiy.agents.routeNumber({ phoneNumber: 'call me', agentId: 'a' })).rejects.toMatchObject({ field: 'phone_number' });
    await expect(piopiy.agents.routeNumber({ phoneNumber: '+19499800001', agentId: '' })).rejects.toMatchObject({ field: 'agent_id' });
    await expect(piopiy.agents.delete('')).rejects.toMatchObject({ field: 'agentId' });
    expect(sim.api.requests).toHaveLength(0);
  });
});

describe('waitForTransfer (simulated time)', () => {
  function fakePlatform(statuses: Record<string, unknown>[]) {
    const seen: string[] = [];
    const fetch = (async (url: string) => {
      seen.push(url);
      const body = statuses[Math.min(seen.length - 1, statuses.length - 1)];
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }) as typeof globalThis.fetch;
    return { fetch, seen };
  }

  it('polls every pollIntervalMs until the transfer settles', async () => {
    const clock = new VirtualClock();
    const platform = fakePlatform([{ status: 'queued' }, { status: 'queued' }, { status: 'failed', reason: 'busy', call_id: 'c' }]);
    const piopiy = new RestClient({ token: 't', baseUrl: 'http://platform.test/v3', fetch: platform.fetch, clock, logger: silentLogger });
    let result: unknown;
    void piopiy.calls.waitForTransfer('req-1', { pollIntervalMs: 500 }).then((r) => (result = r));
    await clock.runUntil(() => result !== undefined);
    expect(result).toMatchObject({ status: 'failed', reason: 'busy', settled: true, callId: 'c' });
    expect(platform.seen).toEqual(Array(3).fill('http://platform.test/v3/transfers/req-1'));
    expect(clock.now()).toBe(1000);
  });

  it('returns the last status when the time is up, or at once when the signal aborts; unknown states keep polling', async () => {
    const clock = new VirtualClock();
    const platform = fakePlatform([{ status: 'ringing' }]);
    const piopiy = new RestClient({ token: 't', baseUrl: 'http://platform.test/v3', fetch: platform.fetch, clock, logger: silentLogger });
    let result: unknown;
    void piopiy.calls.waitForTransfer('req-1', { pollIntervalMs: 1000, timeoutMs: 3500 }).then((r) => (result = r));
    await clock.runUntil(() => result !== undefined);
    expect(result).toMatchObject({ status: 'queued', settled: false });
    expect(clock.now()).toBe(3500);
    expect(platform.seen).toHaveLength(5);

    const controller = new AbortController();
    let aborted: unknown;
    void piopiy.calls.waitForTransfer('req-2', { signal: controller.signal }).then((r) => (aborted = r));
    await clock.advance(100);
    controller.abort();
    await clock.settle();
    expect(aborted).toMatchObject({ requestId: 'req-2', settled: false });
  });
});
