// RestClient over real HTTP against the simulator's REST listener: every method sends the exact wire body of
// spec §7.2 to the exact path with a Bearer token, and returns the platform's answer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { ConfigurationError } from '../../../src/runtime/configuration-error.js';
import { DEFAULT_BASE_URL, RestClient } from '../../../src/piopiy/rest/index.js';
import { AGENT_ID, AGENT_ID_2, CALL_ID, FLOW_ID, ORG_ID, TOKEN, startServer, startSimulatorRest, type SimulatorFixture } from './helpers.js';

let sim: SimulatorFixture;

beforeEach(async () => {
  sim = await startSimulatorRest();
});

afterEach(async () => {
  await sim.server.close();
});

function lastRequest() {
  const request = sim.api.requests.at(-1);
  if (request === undefined) throw new Error('no request recorded');
  return request;
}

describe('transfer', () => {
  it("sends DESIGN.md's transfer as the exact v3 body, with Bearer auth and JSON headers", async () => {
    const piopiy = sim.client();
    const result = await piopiy.voice.transfer(
      CALL_ID,
      piopiy.voice.pipeline().connect({ callerId: '918000000001' }, [{ type: 'pstn', number: '918000000002' }]),
    );
    expect(result).toEqual({ message: 'queued', call_id: CALL_ID, request_id: 'req-1' });
    expect(sim.api.requests).toEqual([
      {
        method: 'POST',
        path: '/v3/voice/pcmo/transfer',
        body: {
          call_id: CALL_ID,
          pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }],
        },
      },
    ]);
    const headers = sim.server.seen[0]!.headers;
    expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers['content-type']).toBe('application/json');
    expect(headers.accept).toBe('application/json');
    expect(sim.calls).toEqual([{ handler: 'transfer', args: [CALL_ID, (lastRequest().body as { pipeline: unknown }).pipeline] }]);
  });

  it("accepts the seed's raw array: from -> caller_id, '+', spaces and dashes stripped", async () => {
    await sim.client().voice.transfer(CALL_ID, [
      { action: 'connect', params: { from: '+91 80000-00001' }, endpoints: [{ type: 'pstn', number: '+91-800-000-0002' }] },
    ]);
    expect(lastRequest().body).toEqual({
      call_id: CALL_ID,
      pipeline: [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }],
    });
  });

  it('normalises the builder alias `from` too', async () => {
    const piopiy = sim.client();
    await piopiy.ai.transfer(CALL_ID, piopiy.ai.pipeline().connect({ from: '+918000000001' }, [{ type: 'pstn', number: '+918000000002' }]));
    expect(lastRequest()).toMatchObject({
      path: '/v3/voice/pcmo/transfer',
      body: { pipeline: [{ params: { caller_id: '918000000001' }, endpoints: [{ number: '918000000002' }] }] },
    });
  });

  it('maps every builder action to its wire form', async () => {
    const piopiy = sim.client();
    const pipeline = piopiy.pcmo
      .pipeline()
      .record({ format: 'mp3', channels: 'dual' })
      .param({ customerName: 'Asha', vip: true })
      .play('hello.mp3')
      .playGetInput(
        { type: 'say', say: 'Press 1 for sales', language: 'en-IN', voiceId: 'anushka', speed: 1.1 },
        ['dtmf', 'speech'],
        { type: 'url', url: 'https://example.com/menu' },
        {
          dtmf: { minDigits: 1, maxDigits: 1, finishOnKey: '#', firstDigitTimeout: 5, interDigitTimeout: 2, flushBuffer: true },
          retries: { max: 2, noInputPrompt: { type: 'file', fileName: 'again.wav' }, invalidPrompt: { type: 'say', say: 'Sorry', language: 'en', voiceId: 'v', speed: 1 } },
        },
      )
      .input({ type: 'pcmo', ref: 'next' }, { dtmf: { maxDigits: 4 } })
      .connect(
        {
          callerId: '918000000001',
          strategy: 'simultaneous',
          options: { maxDurationSec: 600, ringTimeoutSec: 30, machineDetection: true, waitingMusic: 'hold.mp3', recording: { enabled: true, channels: 'single', format: 'wav' } },
          metadata: { ticketId: 42 },
        },
        [
          { type: 'pstn', number: '918000000002' },
          { type: 'sip', uri: 'sip:l2@example.com', headers: { 'X-Queue': 'l2' } },
          { type: 'agent', id: AGENT_ID },
        ],
      )
      .hangup();
    await piopiy.pcmo.transfer(CALL_ID, pipeline);
    expect(lastRequest().body).toEqual({
      call_id: CALL_ID,
      pipeline: [
        { action: 'record', format: 'mp3', channels: 'dual' },
        { action: 'param', data: { customerName: 'Asha', vip: true } },
        { action: 'play', file_name: 'hello.mp3' },
        {
          action: 'play_get_input',
          prompt: { type: 'say', say: 'Press 1 for sales', language: 'en-IN', voice_id: 'anushka', speed: 1.1 },
          input: ['dtmf', 'speech'],
          on_result: { type: 'url', url: 'https://example.com/menu' },
          dtmf: { min_digits: 1, max_digits: 1, finish_on_key: '#', first_digit_timeout: 5, inter_digit_timeout: 2, flush_buffer: true },
          retries: {
            max: 2,
            no_input_prompt: { type: 'file', file_name: 'again.wav' },
            invalid_prompt: { type: 'say', say: 'Sorry', language: 'en', voice_id: 'v', speed: 1 },
          },
        },
        { action: 'input', on_result: { type: 'pcmo', ref: 'next' }, dtmf: { max_digits: 4 } },
        {
          action: 'connect',
          params: {
            caller_id: '918000000001',
            strategy: 'simultaneous',
            options: { max_duration_sec: 600, ring_timeout_sec: 30, machine_detection: true, waiting_music: 'hold.mp3', recording: { enabled: true, channels: 'single', format: 'wav' } },
            metadata: { ticketId: 42 },
          },
          endpoints: [
            { type: 'pstn', number: '918000000002' },
            { type: 'sip', uri: 'sip:l2@example.com', headers: { 'X-Queue': 'l2' } },
            { type: 'agent', id: AGENT_ID },
          ],
        },
        { action: 'hangup' },
      ],
    });
  });
});

describe('hangup', () => {
  it('sends cause NORMAL_CLEARING by default', async () => {
    await sim.client().voice.hangup(CALL_ID);
    expect(lastRequest()).toEqual({ method: 'POST', path: '/v3/voice/call/hangup', body: { call_id: CALL_ID, cause: 'NORMAL_CLEARING' } });
    expect(sim.calls).toEqual([{ handler: 'hangup', args: [CALL_ID, 'NORMAL_CLEARING', undefined] }]);
  });

  it('sends the given cause and reason (ai namespace, same endpoint)', async () => {
    await sim.client().ai.hangup(CALL_ID, { cause: 'USER_BUSY', reason: 'caller asked to stop' });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/call/hangup',
      body: { call_id: CALL_ID, cause: 'USER_BUSY', reason: 'caller asked to stop' },
    });
  });
});

describe('calls', () => {
  it('voice.call: one generated connect to the number, strategy sequential by default', async () => {
    const result = await sim.client().voice.call({ callerId: '+91 80000 00001', toNumber: '+919876543210', appId: 'app-1' });
    expect(result).toEqual({ message: 'queued', call_id: CALL_ID });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/pcmo/call',
      body: {
        caller_id: '918000000001',
        to_number: '919876543210',
        app_id: 'app-1',
        pipeline: [
          { action: 'connect', params: { caller_id: '918000000001', strategy: 'sequential' }, endpoints: [{ type: 'pstn', number: '919876543210' }] },
        ],
      },
    });
    expect(sim.calls[0]).toMatchObject({ handler: 'call', args: ['pcmo', { app_id: 'app-1' }] });
  });

  it('voice.call: connect leg and call options mapped separately', async () => {
    await sim.client().voice.call({
      callerId: '918000000001',
      toNumber: '919876543210',
      appId: 'app-1',
      connect: { strategy: 'simultaneous', options: { ringTimeoutSec: 20, machineDetection: true }, metadata: { campaign: 'renewals' } },
      callOptions: { maxDurationSec: 900, record: true, ringTimeoutSec: 25 },
      variables: { customer_name: 'Asha' },
    });
    expect(lastRequest().body).toEqual({
      caller_id: '918000000001',
      to_number: '919876543210',
      app_id: 'app-1',
      pipeline: [
        {
          action: 'connect',
          params: { caller_id: '918000000001', strategy: 'simultaneous', options: { ring_timeout_sec: 20, machine_detection: true }, metadata: { campaign: 'renewals' } },
          endpoints: [{ type: 'pstn', number: '919876543210' }],
        },
      ],
      options: { max_duration_sec: 900, record: true, ring_timeout_sec: 25 },
      variables: { customer_name: 'Asha' },
    });
  });

  it('ai.call without failover: /voice/ai/call', async () => {
    await sim.client().ai.call({
      callerId: '918000000001',
      toNumber: '919876543210',
      agentId: AGENT_ID,
      options: { maxDurationSec: 300, record: false },
      variables: { plan: 'gold', balance: 12.5 },
    });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/ai/call',
      body: {
        caller_id: '918000000001',
        to_number: '919876543210',
        agent_id: AGENT_ID,
        options: { max_duration_sec: 300, record: false },
        variables: { plan: 'gold', balance: 12.5 },
      },
    });
    expect(sim.calls[0]).toMatchObject({ handler: 'call', args: ['ai', { agent_id: AGENT_ID }] });
  });

  it('ai.call with failover: /voice/pcmo/call with both agents, primary first', async () => {
    await sim.client().ai.call({
      callerId: '918000000001',
      toNumber: '919876543210',
      agentId: AGENT_ID,
      appId: 'app-1',
      options: { ringTimeoutSec: 40 },
      failover: {
        agentId: AGENT_ID_2,
        strategy: 'sequential',
        ringTimeoutSec: 15,
        recording: { enabled: true, format: 'mp3' },
        metadata: { reason: 'overflow' },
      },
    });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/pcmo/call',
      body: {
        caller_id: '918000000001',
        to_number: '919876543210',
        app_id: 'app-1',
        pipeline: [
          {
            action: 'connect',
            params: {
              caller_id: '918000000001',
              strategy: 'sequential',
              options: { ring_timeout_sec: 15, recording: { enabled: true, format: 'mp3' } },
              metadata: { reason: 'overflow' },
            },
            endpoints: [
              { type: 'agent', id: AGENT_ID },
              { type: 'agent', id: AGENT_ID_2 },
            ],
          },
        ],
        options: { ring_timeout_sec: 40 },
      },
    });
  });

  it('ai.call with a bare failover: params carry only the caller id', async () => {
    await sim.client().ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, appId: 'a', failover: { agentId: AGENT_ID_2 } });
    expect((lastRequest().body as { pipeline: unknown[] }).pipeline[0]).toEqual({
      action: 'connect',
      params: { caller_id: '918000000001' },
      endpoints: [
        { type: 'agent', id: AGENT_ID },
        { type: 'agent', id: AGENT_ID_2 },
      ],
    });
  });

  it('pcmo.call: the given pipeline (builder or array) plus agent id, options, variables', async () => {
    const piopiy = sim.client();
    await piopiy.pcmo.call({
      callerId: '918000000001',
      toNumber: '919876543210',
      appId: 'app-1',
      agentId: AGENT_ID,
      pipeline: piopiy.pcmo.pipeline().play('welcome.mp3').hangup(),
      options: { maxDurationSec: 120 },
      variables: { lang: 'ta' },
    });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/pcmo/call',
      body: {
        caller_id: '918000000001',
        to_number: '919876543210',
        app_id: 'app-1',
        agent_id: AGENT_ID,
        pipeline: [{ action: 'play', file_name: 'welcome.mp3' }, { action: 'hangup' }],
        options: { max_duration_sec: 120 },
        variables: { lang: 'ta' },
      },
    });
    await piopiy.pcmo.call({ callerId: '918000000001', toNumber: '919876543210', appId: 'app-1', pipeline: [{ action: 'hangup' }] });
    expect(lastRequest().body).toEqual({ caller_id: '918000000001', to_number: '919876543210', app_id: 'app-1', pipeline: [{ action: 'hangup' }] });
  });

  it('flow.call: /voice/flow/call', async () => {
    await sim.client().flow.call({ flowId: FLOW_ID, orgId: ORG_ID, callerId: '918000000001', toNumber: '919876543210', appId: 'app-1', variables: { x: 1 } });
    expect(lastRequest()).toEqual({
      method: 'POST',
      path: '/v3/voice/flow/call',
      body: { flow_id: FLOW_ID, org_id: ORG_ID, caller_id: '918000000001', to_number: '919876543210', app_id: 'app-1', variables: { x: 1 } },
    });
    expect(sim.calls[0]?.args[0]).toBe('flow');
  });
});

describe('responses', () => {
  it('returns {} for an empty body and { raw_response } for a non-JSON one', async () => {
    const bodies = ['', 'OK queued', '[1,2]'];
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(bodies.shift());
    });
    try {
      const piopiy = new RestClient({ token: TOKEN, baseUrl: server.url, logger: silentLogger });
      expect(await piopiy.voice.hangup(CALL_ID)).toEqual({});
      expect(await piopiy.voice.hangup(CALL_ID)).toEqual({ raw_response: 'OK queued' });
      expect(await piopiy.voice.hangup(CALL_ID)).toEqual({ raw_response: '[1,2]' });
      expect(server.seen.map((r) => r.path)).toEqual(['/voice/call/hangup', '/voice/call/hangup', '/voice/call/hangup']);
    } finally {
      await server.close();
    }
  });
});

describe('constructor', () => {
  beforeEach(() => {
    vi.stubEnv('PIOPIY_TOKEN', undefined);
    vi.stubEnv('PIOPIY_API_URL', undefined);
  });
  afterEach(() => vi.unstubAllEnvs());

  const problemsOf = (make: () => unknown): ConfigurationError => {
    try {
      make();
    } catch (error) {
      if (error instanceof ConfigurationError) return error;
      throw error;
    }
    throw new Error('expected a ConfigurationError');
  };

  it('requires a token and names PIOPIY_TOKEN', () => {
    const missing = problemsOf(() => new RestClient({ token: undefined }));
    expect(missing.problems).toEqual([
      { variable: 'PIOPIY_TOKEN', option: 'token', purpose: 'the Piopiy REST API token from the Piopiy dashboard', problem: 'missing' },
    ]);
    expect(missing.message).toBe(
      [
        'RestClient: 1 setting is missing:',
        '  PIOPIY_TOKEN — the Piopiy REST API token from the Piopiy dashboard (RestClient option token): not set',
        "Set the variables in the environment (or in a .env file loaded with `import 'dotenv/config'`), or pass the options.",
      ].join('\n'),
    );
    expect(() => new RestClient({ token: '' })).toThrow(/PIOPIY_TOKEN/);
    expect(() => new (RestClient as unknown as new () => RestClient)()).toThrow(/PIOPIY_TOKEN/);
  });

  it('reads PIOPIY_TOKEN and PIOPIY_API_URL when the options are omitted; explicit options win', () => {
    vi.stubEnv('PIOPIY_TOKEN', 'env-token-123');
    vi.stubEnv('PIOPIY_API_URL', 'http://127.0.0.1:9/env/');
    expect(new RestClient({ logger: silentLogger }).baseUrl).toBe('http://127.0.0.1:9/env');
    expect(new RestClient({ token: TOKEN, baseUrl: 'http://127.0.0.1:8/v3', logger: silentLogger }).baseUrl).toBe('http://127.0.0.1:8/v3');
    // An explicit empty token is missing, not replaced by the environment's.
    expect(() => new RestClient({ token: '' })).toThrow(ConfigurationError);
    vi.stubEnv('PIOPIY_API_URL', '');
    expect(new RestClient({ logger: silentLogger }).baseUrl).toBe(DEFAULT_BASE_URL);
  });

  it('defaults to the v3 base URL and strips trailing slashes', () => {
    expect(new RestClient({ token: TOKEN, logger: silentLogger }).baseUrl).toBe(DEFAULT_BASE_URL);
    expect(DEFAULT_BASE_URL).toBe('https://rest.piopiy.com/v3');
    expect(new RestClient({ token: TOKEN, baseUrl: 'http://127.0.0.1:1/v3//', logger: silentLogger }).baseUrl).toBe('http://127.0.0.1:1/v3');
  });

  it('rejects bad options, all of them in one error, never showing the token', () => {
    expect(() => new RestClient({ token: TOKEN, baseUrl: 'ftp://rest.piopiy.com' })).toThrow(/baseUrl\): must start with https:\/\/ or http:\/\/, got ftp:\/\//);
    const error = problemsOf(
      () => new RestClient({ token: ` ${TOKEN}\n`, baseUrl: 'rest.piopiy.com', timeoutMs: 0, maxRetries: -1, retryDelayMs: Number.NaN }),
    );
    expect(error.problems.map((p) => [p.option, p.problem, p.detail])).toEqual([
      ['token', 'invalid', 'has spaces or a line break at its start or end'],
      ['baseUrl', 'invalid', 'is not a URL: "rest.piopiy.com"'],
      ['timeoutMs', 'invalid', 'must be a positive number, got 0'],
      ['maxRetries', 'invalid', 'must be an integer >= 0, got -1'],
      ['retryDelayMs', 'invalid', 'must be a number >= 0, got NaN'],
    ]);
    expect(error.message).toMatch(/^RestClient: 5 settings are invalid:\n/);
    expect(error.message).not.toContain(TOKEN);
    expect(problemsOf(() => new RestClient({ token: '   ' })).problems[0]!.detail).toBe('is blank (only spaces)');
  });

  it('does not expose the token on the instance', () => {
    const piopiy = new RestClient({ token: TOKEN, logger: silentLogger });
    expect(JSON.stringify(piopiy)).not.toContain(TOKEN);
    expect(Object.values(piopiy).some((v) => v === TOKEN)).toBe(false);
  });
});
