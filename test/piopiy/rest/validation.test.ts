// Local validation: each rule of spec §7.3–7.4 fails with the platform's wording and the exact path, and
// nothing is sent when it does.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import {
  PiopiyValidationError,
  RestClient,
  validateHangupBody,
  validatePcmoCallBody,
  validatePipeline,
  validateTransferBody,
  type PipelineBuilder,
  type RawPipelineAction,
} from '../../../src/piopiy/rest/index.js';
import { AGENT_ID, AGENT_ID_2, CALL_ID, TOKEN } from './helpers.js';

let sent = 0;
const client = new RestClient({
  token: TOKEN,
  baseUrl: 'http://127.0.0.1:9/v3',
  logger: silentLogger,
  fetch: async () => {
    sent++;
    throw new Error('validation must fail before any request is sent');
  },
});

const pstn = (number = '918000000002') => ({ type: 'pstn' as const, number });
const connect = (endpoints: unknown[], params: Record<string, unknown> = { caller_id: '918000000001' }) =>
  ({ action: 'connect', params, endpoints }) as never as RawPipelineAction;
const transferRaw = (...pipeline: unknown[]) => client.voice.transfer(CALL_ID, pipeline as RawPipelineAction[]);
const transferBuilt = (build: (p: PipelineBuilder) => PipelineBuilder) => client.voice.transfer(CALL_ID, build(client.voice.pipeline()));
const fileUrl = { type: 'url' as const, url: 'https://example.com/result' };

interface Case {
  name: string;
  run: () => Promise<unknown>;
  message: string;
  field: string;
}

const cases: Case[] = [
  {
    name: 'call id not a UUID',
    run: () => client.voice.transfer('call-1', client.voice.pipeline().hangup()),
    message: 'call_id must be a valid UUID string.',
    field: 'call_id',
  },
  {
    name: 'empty pipeline',
    run: () => transferRaw(),
    message: 'pipeline must contain at least one action.',
    field: 'pipeline',
  },
  {
    name: 'unknown action',
    run: () => transferRaw({ action: 'speak', text: 'hi' }),
    message: 'pipeline[0].action must be one of: connect, hangup, input, param, play, play_get_input, record.',
    field: 'pipeline[0].action',
  },
  {
    name: 'legacy stream action in a v3 transfer',
    run: () => transferRaw({ action: 'stream', ws_url: 'wss://example.com/s' }),
    message:
      'pipeline[0].action must be one of: connect, hangup, input, param, play, play_get_input, record (stream is a legacy WebSocket action the v3 API does not accept).',
    field: 'pipeline[0].action',
  },
  {
    name: 'connect without caller id',
    run: () => transferRaw(connect([pstn()], {})),
    message: 'Missing required field(s): caller_id',
    field: 'pipeline[0].params',
  },
  {
    name: 'connect with both from and caller_id',
    run: () => transferRaw(connect([pstn()], { caller_id: '918000000001', from: '918000000001' })),
    message: 'pipeline[0].params must not contain both caller_id and from (from is an alias of caller_id).',
    field: 'pipeline[0].params',
  },
  {
    name: 'caller id with letters',
    run: () => transferBuilt((p) => p.connect({ callerId: 'PIOPIY' }, [pstn()])),
    message: 'pipeline[0].params.caller_id must match ^[1-9][0-9]{6,15}$.',
    field: 'pipeline[0].params.caller_id',
  },
  {
    name: 'endpoint number too short (after normalisation)',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001' }, [pstn('+1-234')])),
    message: 'pipeline[0].endpoints[0].number must match ^[1-9][0-9]{6,15}$.',
    field: 'pipeline[0].endpoints[0].number',
  },
  {
    name: 'no endpoints',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001' }, [])),
    message: 'pipeline[0].endpoints must contain at least one endpoint.',
    field: 'pipeline[0].endpoints',
  },
  {
    name: 'agent endpoint before a PSTN endpoint',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001' }, [{ type: 'agent', id: AGENT_ID }, pstn()])),
    message: 'Agent endpoints must be at the end of connect.endpoints.',
    field: 'pipeline[0].endpoints[1]',
  },
  {
    name: 'three agent endpoints',
    run: () =>
      transferBuilt((p) =>
        p.connect({ callerId: '918000000001' }, [
          { type: 'agent', id: AGENT_ID },
          { type: 'agent', id: AGENT_ID_2 },
          { type: 'agent', id: '5e0c4a8e-3b7d-4f2a-9c1e-7d6b5a4c3b2a' },
        ]),
      ),
    message: 'A maximum of two agent endpoints is allowed.',
    field: 'pipeline[0].endpoints[2]',
  },
  {
    name: 'agent id not a UUID',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001' }, [{ type: 'agent', id: 'agent-1' }])),
    message: 'pipeline[0].endpoints[0].id must be a valid UUID string.',
    field: 'pipeline[0].endpoints[0].id',
  },
  {
    name: 'unknown endpoint type',
    run: () => transferRaw(connect([{ type: 'webrtc', number: '918000000002' }])),
    message: 'pipeline[0].endpoints[0].type must be one of: pstn, sip, agent.',
    field: 'pipeline[0].endpoints[0].type',
  },
  {
    name: 'SIP endpoint without uri',
    run: () => transferRaw(connect([pstn(), { type: 'sip' }])),
    message: 'pipeline[0].endpoints[1].uri is required when type is sip.',
    field: 'pipeline[0].endpoints[1].uri',
  },
  {
    name: 'unknown endpoint key',
    run: () => transferRaw(connect([{ ...pstn(), label: 'support' }])),
    message: 'Unknown field(s): label',
    field: 'pipeline[0].endpoints[0]',
  },
  {
    name: 'unknown connect key',
    run: () => transferRaw({ ...connect([pstn()]), timeout: 30 }),
    message: 'Unknown field(s): timeout',
    field: 'pipeline[0]',
  },
  {
    name: 'connect strategy',
    run: () => transferRaw(connect([pstn()], { caller_id: '918000000001', strategy: 'random' })),
    message: 'pipeline[0].params.strategy must be simultaneous or sequential.',
    field: 'pipeline[0].params.strategy',
  },
  {
    name: 'connect ring timeout above range',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001', options: { ringTimeoutSec: 200 } }, [pstn()])),
    message: 'pipeline[0].params.options.ring_timeout_sec must be <= 120.',
    field: 'pipeline[0].params.options.ring_timeout_sec',
  },
  {
    name: 'connect max duration below range',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001', options: { maxDurationSec: 5 } }, [pstn()])),
    message: 'pipeline[0].params.options.max_duration_sec must be >= 10.',
    field: 'pipeline[0].params.options.max_duration_sec',
  },
  {
    name: 'connect recording channels',
    run: () =>
      transferBuilt((p) => p.connect({ callerId: '918000000001', options: { recording: { channels: 'stereo' as never } } }, [pstn()])),
    message: 'pipeline[0].params.options.recording.channels must be dual or single.',
    field: 'pipeline[0].params.options.recording.channels',
  },
  {
    name: 'metadata key',
    run: () => transferBuilt((p) => p.connect({ callerId: '918000000001', metadata: { 'ticket-id': 7 } }, [pstn()])),
    message: "pipeline[0].params.metadata has invalid key 'ticket-id'.",
    field: 'pipeline[0].params.metadata',
  },
  {
    name: 'say prompt without voice_id',
    run: () =>
      transferBuilt((p) =>
        p.playGetInput({ type: 'say', say: 'Press 1', language: 'en', speed: 1 } as never, ['dtmf'], fileUrl),
      ),
    message: 'pipeline[0].prompt.voice_id is required when type is say.',
    field: 'pipeline[0].prompt.voice_id',
  },
  {
    name: 'say prompt speed above range',
    run: () =>
      transferBuilt((p) => p.playGetInput({ type: 'say', say: 'Hi', language: 'en', voiceId: 'v1', speed: 3 }, ['speech'], fileUrl)),
    message: 'pipeline[0].prompt.speed must be <= 2.0.',
    field: 'pipeline[0].prompt.speed',
  },
  {
    name: 'prompt type',
    run: () => transferBuilt((p) => p.play('intro.mp3').playGetInput({ type: 'tts' } as never, ['dtmf'], fileUrl)),
    message: 'pipeline[1].prompt.type must be one of: file, say.',
    field: 'pipeline[1].prompt.type',
  },
  {
    name: 'empty input list',
    run: () => transferBuilt((p) => p.playGetInput({ type: 'file', fileName: 'menu.wav' }, [], fileUrl)),
    message: 'pipeline[0].input must contain at least one item.',
    field: 'pipeline[0].input',
  },
  {
    name: 'duplicate input mode',
    run: () => transferBuilt((p) => p.playGetInput({ type: 'file', fileName: 'menu.wav' }, ['dtmf', 'dtmf'], fileUrl)),
    message: "pipeline[0].input contains duplicate value 'dtmf'.",
    field: 'pipeline[0].input',
  },
  {
    name: 'on_result URL scheme',
    run: () => transferBuilt((p) => p.input({ type: 'url', url: 'ftp://example.com/r' })),
    message: 'pipeline[0].on_result.url must start with http:// or https://.',
    field: 'pipeline[0].on_result.url',
  },
  {
    name: 'on_result pcmo without ref',
    run: () => transferBuilt((p) => p.input({ type: 'pcmo' } as never)),
    message: 'pipeline[0].on_result.ref is required when type is pcmo.',
    field: 'pipeline[0].on_result.ref',
  },
  {
    name: 'dtmf min digits',
    run: () => transferBuilt((p) => p.input(fileUrl, { dtmf: { minDigits: 0 } })),
    message: 'pipeline[0].dtmf.min_digits must be >= 1.',
    field: 'pipeline[0].dtmf.min_digits',
  },
  {
    name: 'dtmf finish key longer than one character',
    run: () => transferBuilt((p) => p.input(fileUrl, { dtmf: { finishOnKey: '##' } })),
    message: 'pipeline[0].dtmf.finish_on_key must be at most 1 characters long.',
    field: 'pipeline[0].dtmf.finish_on_key',
  },
  {
    name: 'dtmf timeout not an integer',
    run: () => transferBuilt((p) => p.input(fileUrl, { dtmf: { interDigitTimeout: 1.5 } })),
    message: 'pipeline[0].dtmf.inter_digit_timeout must be an integer.',
    field: 'pipeline[0].dtmf.inter_digit_timeout',
  },
  {
    name: 'retries max negative',
    run: () =>
      transferBuilt((p) => p.playGetInput({ type: 'file', fileName: 'menu.wav' }, ['dtmf'], fileUrl, { retries: { max: -1 } })),
    message: 'pipeline[0].retries.max must be >= 0.',
    field: 'pipeline[0].retries.max',
  },
  {
    name: 'retry prompt without file name',
    run: () =>
      transferBuilt((p) =>
        p.playGetInput({ type: 'file', fileName: 'menu.wav' }, ['dtmf'], fileUrl, { retries: { noInputPrompt: { type: 'file' } as never } }),
      ),
    message: 'pipeline[0].retries.no_input_prompt.file_name is required when type is file.',
    field: 'pipeline[0].retries.no_input_prompt.file_name',
  },
  {
    name: 'param with 11 keys',
    run: () => transferBuilt((p) => p.param(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])))),
    message: 'pipeline[0].data supports at most 10 entries.',
    field: 'pipeline[0].data',
  },
  {
    name: 'param string over 256 characters',
    run: () => transferBuilt((p) => p.param({ note: 'x'.repeat(257) })),
    message: 'pipeline[0].data.note exceeds max string length 256.',
    field: 'pipeline[0].data.note',
  },
  {
    name: 'param value type',
    run: () => transferBuilt((p) => p.param({ tags: ['a'] } as never)),
    message: 'pipeline[0].data.tags must be string, number, or boolean.',
    field: 'pipeline[0].data.tags',
  },
  {
    name: 'record format',
    run: () => transferBuilt((p) => p.record({ format: 'ogg' as never })),
    message: 'pipeline[0].format must be mp3 or wav.',
    field: 'pipeline[0].format',
  },
  {
    name: 'hangup action with another field',
    run: () => transferRaw({ action: 'hangup', file_name: 'bye.mp3' }),
    message: 'Unknown field(s): file_name',
    field: 'pipeline[0]',
  },
  {
    name: 'hangup cause empty',
    run: () => client.voice.hangup(CALL_ID, { cause: '' }),
    message: 'cause must be at least 1 characters long.',
    field: 'cause',
  },
  {
    name: 'hangup reason too long',
    run: () => client.ai.hangup(CALL_ID, { reason: 'r'.repeat(257) }),
    message: 'reason must be at most 256 characters long.',
    field: 'reason',
  },
  {
    name: 'ai.call missing agent id',
    run: () => client.ai.call({ callerId: '918000000001', toNumber: '919876543210' } as never),
    message: 'Missing required field(s): agent_id',
    field: 'body',
  },
  {
    name: 'ai.call max duration below the call range',
    run: () => client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, options: { maxDurationSec: 20 } }),
    message: 'options.max_duration_sec must be >= 30.',
    field: 'options.max_duration_sec',
  },
  {
    name: 'ai.call unknown option',
    run: () =>
      client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, options: { loop: 2 } as never }),
    message: 'Unknown option(s): loop',
    field: 'options',
  },
  {
    name: 'ai.call failover to the same agent',
    run: () =>
      client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, appId: 'app', failover: { agentId: AGENT_ID } }),
    message: 'failover.agent_id cannot be same as primary agent_id.',
    field: 'failover.agent_id',
  },
  {
    name: 'ai.call failover without app id',
    run: () => client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, failover: { agentId: AGENT_ID_2 } }),
    message: 'app_id is required when failover is provided.',
    field: 'app_id',
  },
  {
    name: 'ai.call app id without failover',
    run: () => client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, appId: 'app' }),
    message: 'app_id is only supported when failover is provided.',
    field: 'app_id',
  },
  {
    name: 'variables value type',
    run: () =>
      client.ai.call({ callerId: '918000000001', toNumber: '919876543210', agentId: AGENT_ID, variables: { tier: null } as never }),
    message: 'variables.tier must be string, number, or boolean.',
    field: 'variables.tier',
  },
  {
    name: 'voice.call unknown connect field',
    run: () => client.voice.call({ callerId: '918000000001', toNumber: '919876543210', appId: 'app', connect: { loop: 1 } as never }),
    message: 'Unknown connect field(s): loop',
    field: 'connect',
  },
  {
    name: 'pcmo.call unknown top-level field',
    run: () =>
      client.pcmo.call({ callerId: '918000000001', toNumber: '919876543210', appId: 'app', pipeline: [{ action: 'hangup' }], ringType: 'group' } as never),
    message: 'Unknown field(s): ringType',
    field: 'body',
  },
  {
    name: 'pcmo.call to_number with a plus in the middle',
    run: () => client.pcmo.call({ callerId: '918000000001', toNumber: '91+9876543210', appId: 'app', pipeline: [{ action: 'hangup' }] }),
    message: 'to_number must match ^[1-9][0-9]{6,15}$.',
    field: 'to_number',
  },
];

describe('local validation', () => {
  it.each(cases)('$name', async ({ run, message, field }) => {
    const before = sent;
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PiopiyValidationError);
    expect((error as PiopiyValidationError).message).toBe(message);
    expect((error as PiopiyValidationError).field).toBe(field);
    expect(sent).toBe(before);
  });

  it('covers the required number of rules', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
});

describe('validators on wire bodies (as the platform and the simulator see them)', () => {
  const fails = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof PiopiyValidationError) return { message: error.message, field: error.field };
      throw error;
    }
    throw new Error('expected a validation error');
  };

  it('rejects a + number and the from alias (the platform does not normalise)', () => {
    const pipeline = [{ action: 'connect', params: { caller_id: '+918000000001' }, endpoints: [pstn()] }];
    expect(fails(() => validateTransferBody({ call_id: CALL_ID, pipeline }))).toEqual({
      message: 'pipeline[0].params.caller_id must match ^[1-9][0-9]{6,15}$.',
      field: 'pipeline[0].params.caller_id',
    });
    const seed = [{ action: 'connect', params: { from: '918000000001' }, endpoints: [pstn()] }];
    expect(fails(() => validateTransferBody({ call_id: CALL_ID, pipeline: seed }))).toEqual({
      message: 'Missing required field(s): caller_id',
      field: 'pipeline[0].params',
    });
  });

  it('reports missing before unknown fields, both sorted', () => {
    expect(fails(() => validateTransferBody({ zeta: 1, alpha: 2 }))).toEqual({
      message: 'Missing required field(s): call_id, pipeline',
      field: 'body',
    });
    expect(fails(() => validateTransferBody({ call_id: CALL_ID, pipeline: [{ action: 'hangup' }], zeta: 1, alpha: 2 }))).toEqual({
      message: 'Unknown field(s): alpha, zeta',
      field: 'body',
    });
  });

  it('rejects non-objects and non-arrays with their path', () => {
    expect(fails(() => validateTransferBody('x'))).toEqual({ message: 'body must be an object.', field: 'body' });
    expect(fails(() => validatePipeline({ action: 'hangup' }))).toEqual({ message: 'pipeline must be an array.', field: 'pipeline' });
    expect(fails(() => validatePipeline([null]))).toEqual({ message: 'pipeline[0] must be an object.', field: 'pipeline[0]' });
  });

  it('ignores undefined values (JSON drops them) and keys inherited from Object.prototype', () => {
    expect(() => validateHangupBody({ call_id: CALL_ID, reason: undefined })).not.toThrow();
    expect(fails(() => validateHangupBody({ call_id: CALL_ID, constructor: 'x' }))).toEqual({
      message: 'Unknown field(s): constructor',
      field: 'body',
    });
  });

  it('accepts a full v3 pipeline', () => {
    const body = {
      caller_id: '918000000001',
      to_number: '919876543210',
      app_id: 'app-1',
      agent_id: AGENT_ID,
      options: { max_duration_sec: 600, record: true, ring_timeout_sec: 30 },
      variables: { customer: 'Asha', vip: true, score: 9.5 },
      pipeline: [
        { action: 'record', format: 'mp3', channels: 'dual' },
        { action: 'param', data: { lang: 'en' } },
        { action: 'play', file_name: 'https://example.com/hello.mp3' },
        {
          action: 'play_get_input',
          prompt: { type: 'say', say: 'Press 1', language: 'en-IN', voice_id: 'v1', speed: 1.25 },
          input: ['dtmf', 'speech'],
          dtmf: { min_digits: 1, max_digits: 4, finish_on_key: '#', first_digit_timeout: 5, inter_digit_timeout: 3, flush_buffer: true },
          retries: { max: 2, no_input_prompt: { type: 'file', file_name: 'again.wav' }, invalid_prompt: { type: 'file', file_name: 'bad.wav' } },
          on_result: { type: 'pcmo', ref: 'menu' },
        },
        { action: 'input', on_result: { type: 'url', url: 'http://example.com/r' } },
        {
          action: 'connect',
          params: {
            caller_id: '918000000001',
            strategy: 'simultaneous',
            options: { max_duration_sec: 10, ring_timeout_sec: 5, machine_detection: true, waiting_music: 'hold.mp3', recording: { enabled: true, channels: 'single', format: 'wav' } },
            metadata: { _ticket: 42 },
          },
          endpoints: [pstn(), { type: 'sip', uri: 'sip:support@example.com', headers: { 'X-Team': 'l2' } }, { type: 'agent', id: AGENT_ID }, { type: 'agent', id: AGENT_ID_2 }],
        },
        { action: 'hangup' },
      ],
    };
    expect(validatePcmoCallBody(body)).toBe(body);
  });
});
