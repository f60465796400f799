// The simulator's REST listener: platform-like auth, parsing, routing and validation (the client's own
// validators, so the same bad body gets the same message), handler dispatch, and the request log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PiopiyValidationError,
  validateAiCallBody,
  validateHangupBody,
  validatePcmoCallBody,
  validateTransferBody,
  type RawPipelineAction,
} from '../../../src/piopiy/rest/index.js';
import { AGENT_ID, CALL_ID, TOKEN, startSimulatorRest, type SimulatorFixture } from '../../piopiy/rest/helpers.js';

let sim: SimulatorFixture;

beforeEach(async () => {
  sim = await startSimulatorRest();
});

afterEach(async () => {
  await sim.server.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` }) {
  const response = await fetch(`${sim.server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function validationOf(validate: (body: unknown) => unknown, body: unknown): { message: string; field: string | undefined } {
  try {
    validate(body);
  } catch (error) {
    if (error instanceof PiopiyValidationError) return { message: error.message, field: error.field };
    throw error;
  }
  throw new Error('expected the body to be invalid');
}

const goodPipeline = [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }];

describe('auth, parsing, routing', () => {
  it('401 without a valid Bearer token, and the request is still recorded', async () => {
    const body = { call_id: CALL_ID, pipeline: goodPipeline };
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Bearer nope' }, { Authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const response = await post('/v3/voice/pcmo/transfer', body, headers);
      expect(response).toEqual({ status: 401, body: { error: 'unauthorized', message: 'Missing or invalid Bearer token.' } });
    }
    expect(sim.api.requests).toHaveLength(3);
    expect(sim.api.requests[0]).toEqual({ method: 'POST', path: '/v3/voice/pcmo/transfer', body });
    expect(sim.calls).toEqual([]);
  });

  it('400 for a body that is not JSON (recorded as text)', async () => {
    const response = await post('/v3/voice/call/hangup', '{"call_id":');
    expect(response).toEqual({ status: 400, body: { error: 'invalid_json', message: 'Request body must be valid JSON.' } });
    expect(sim.api.requests).toEqual([{ method: 'POST', path: '/v3/voice/call/hangup', body: '{"call_id":' }]);
  });

  it('404 for unknown paths (the /v3 prefix is part of the path), 405 for other methods', async () => {
    expect((await post('/v3/voice/pcmo/teleport', {})).status).toBe(404);
    expect((await post('/voice/pcmo/transfer', { call_id: CALL_ID, pipeline: goodPipeline })).status).toBe(404);
    const get = await fetch(`${sim.server.url}/v3/voice/pcmo/transfer?x=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(sim.api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v3/voice/pcmo/teleport',
      'POST /voice/pcmo/transfer',
      'GET /v3/voice/pcmo/transfer',
    ]);
    expect(sim.api.requests[2]!.body).toBeUndefined();
  });

  it('413 for an oversized body', async () => {
    const response = await post('/v3/voice/pcmo/transfer', { call_id: CALL_ID, pad: 'x'.repeat(1_100_000) });
    expect(response.status).toBe(413);
  });
});

describe('validation like the client', () => {
  const badBodies: { path: string; body: unknown; validate: (body: unknown) => unknown }[] = [
    { path: '/v3/voice/pcmo/transfer', body: { call_id: 'call-1', pipeline: goodPipeline }, validate: validateTransferBody },
    { path: '/v3/voice/pcmo/transfer', body: { call_id: CALL_ID, pipeline: [] }, validate: validateTransferBody },
    {
      path: '/v3/voice/pcmo/transfer',
      body: { call_id: CALL_ID, pipeline: [{ action: 'connect', params: { from: '+918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }] },
      validate: validateTransferBody,
    },
    {
      path: '/v3/voice/pcmo/transfer',
      body: {
        call_id: CALL_ID,
        pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'agent', id: AGENT_ID }, { type: 'pstn', number: '918000000002' }] }],
      },
      validate: validateTransferBody,
    },
    { path: '/v3/voice/call/hangup', body: { call_id: CALL_ID, cause: 'x'.repeat(65) }, validate: validateHangupBody },
    { path: '/v3/voice/call/hangup', body: [], validate: validateHangupBody },
    { path: '/v3/voice/ai/call', body: { caller_id: '918000000001', to_number: '919876543210', agent_id: AGENT_ID, app_id: 'a' }, validate: validateAiCallBody },
    {
      path: '/v3/voice/pcmo/call',
      body: { caller_id: '918000000001', to_number: '919876543210', app_id: 'a', pipeline: [{ action: 'param', data: { 'bad key': 1 } }] },
      validate: validatePcmoCallBody,
    },
  ];

  it.each(badBodies)('$path answers 400 with the validator message and field', async ({ path, body, validate }) => {
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual(validationOf(validate, body));
    expect(sim.api.requests.at(-1)).toEqual({ method: 'POST', path, body });
    expect(sim.calls).toEqual([]);
  });

  it('the same bad transfer gets the same message from the client and from the simulator', async () => {
    const pipeline = [
      { action: 'play_get_input', prompt: { type: 'say', say: 'Hi', language: 'en', speed: 1 }, input: ['dtmf'], on_result: { type: 'url', url: 'https://e.com' } },
    ];
    const clientError = await sim
      .client()
      .voice.transfer(CALL_ID, pipeline as RawPipelineAction[])
      .then(
        () => undefined,
        (e: unknown) => e as PiopiyValidationError,
      );
    const response = await post('/v3/voice/pcmo/transfer', { call_id: CALL_ID, pipeline });
    expect(clientError?.message).toBe('pipeline[0].prompt.voice_id is required when type is say.');
    expect(response).toEqual({ status: 400, body: { message: clientError?.message, field: clientError?.field } });
    // Only the raw POST reached the simulator: the client refused before sending.
    expect(sim.api.requests).toHaveLength(1);
  });
});

describe('dispatch to the handlers', () => {
  it('v3 transfer and hangup: the handler answer is sent back as is', async () => {
    expect(await post('/v3/voice/pcmo/transfer', { call_id: CALL_ID, pipeline: goodPipeline })).toEqual({
      status: 200,
      body: { message: 'queued', call_id: CALL_ID, request_id: 'req-1' },
    });
    await post('/v3/voice/call/hangup', { call_id: CALL_ID });
    expect(sim.calls).toEqual([
      { handler: 'transfer', args: [CALL_ID, goodPipeline] },
      { handler: 'hangup', args: [CALL_ID, 'NORMAL_CLEARING', undefined] },
    ]);
  });

  it('the newer /calls/{id}/actions endpoints: hangup, blind and warm transfer (validated like the client)', async () => {
    expect((await post('/v3/calls/call-42/actions/hangup', { cause: 'normal', reason: 'done' })).status).toBe(200);
    expect((await post('/v3/calls/call-42/actions/transfer', { pipeline: goodPipeline })).status).toBe(200);
    expect(await post('/v3/calls/call-42/actions/transfer', { to_number: '919876543210', confirm: true })).toMatchObject({
      status: 200,
      body: { request_id: 'req-warm' },
    });
    expect(await post('/v3/calls/call-42/actions/transfer', { pipeline: [{ action: 'stream' }] })).toMatchObject({
      status: 400,
      body: { field: 'pipeline[0].action' },
    });
    expect(await post('/v3/calls/call-42/actions/transfer', { to_number: '919876543210', sip_uri: 'sip:a@b' })).toEqual({
      status: 400,
      body: { message: 'Exactly one of to_number or sip_uri is required.', field: 'body' },
    });
    expect(await post('/v3/calls/call-42/actions/transfer', { sip_uri: 'desk@pbx' })).toMatchObject({ status: 400, body: { field: 'sip_uri' } });
    expect(sim.calls).toEqual([
      { handler: 'hangup', args: ['call-42', 'normal', 'done'] },
      { handler: 'transfer', args: ['call-42', goodPipeline] },
      { handler: 'warmTransfer', args: ['call-42', { to_number: '919876543210', confirm: true }] },
    ]);
  });

  it('GET routes (call and transfer status, balance) and the /v1 management routes, each with its methods', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const get = async (path: string, method = 'GET') => {
      const response = await fetch(`${sim.server.url}${path}`, { method, headers: auth });
      return { status: response.status, allow: response.headers.get('allow'), body: (await response.json()) as Record<string, unknown> };
    };
    expect(await get('/v3/transfers/req%2F1')).toMatchObject({ status: 200, body: { request_id: 'req/1', status: 'failed' } });
    expect((await get('/v3/calls/call-42')).status).toBe(200);
    expect(await get('/v3/balance')).toMatchObject({ status: 200, body: { balance: 42.5 } });
    expect(await get('/v1/ai-agents')).toMatchObject({ status: 200, body: { agents: [] } });
    expect(await get('/v1/ai-agents/agent_1', 'DELETE')).toMatchObject({ status: 200, body: { id: 'agent_1' } });
    expect(await get('/v1/ai-agents/agent_1')).toMatchObject({ status: 405, allow: 'DELETE' });
    expect(await get('/v3/transfers/req-1', 'POST')).toMatchObject({ status: 405, allow: 'GET' });
    expect(await post('/v1/ai-agents', { name: 'Support', colour: 'blue' })).toEqual({
      status: 400,
      body: { message: 'Unknown field(s): colour', field: 'body' },
    });
    expect(await post('/v1/phone-number-routing', { phone_number: '919499800001', route_type: 'ai_agent', agent_id: 'a' })).toMatchObject({
      status: 400,
      body: { field: 'phone_number' },
    });
    expect(sim.calls.map((c) => c.handler)).toEqual(['transferStatus', 'callStatus', 'balance', 'listAgents', 'deleteAgent']);
  });

  it('async handlers, and a failing handler answers 500 instead of hanging', async () => {
    await sim.server.close();
    sim = await startSimulatorRest({
      transfer: async (callId) => {
        await new Promise((r) => setTimeout(r, 5));
        return { status: 404, body: { code: 'CALL_NOT_FOUND', message: `Call ${callId} was not found.` } };
      },
      hangup: () => {
        throw new Error('handler bug');
      },
    });
    expect(await post('/v3/voice/pcmo/transfer', { call_id: CALL_ID, pipeline: goodPipeline })).toEqual({
      status: 404,
      body: { code: 'CALL_NOT_FOUND', message: `Call ${CALL_ID} was not found.` },
    });
    expect(await post('/v3/voice/call/hangup', { call_id: CALL_ID })).toMatchObject({ status: 500, body: { error: 'internal_error' } });
  });

  it('the listener is also available as .listener', () => {
    expect(sim.api.listener).toBe(sim.api);
  });
});
