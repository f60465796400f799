// Raw pipeline arrays as people write them: the seed's unannotated `const pipeline = [...]` (its literals widened by
// TypeScript), a literal `as const` (readonly arrays), and an annotated one. All compile without a cast and send the
// same body; what the compiler cannot check in a widened array, the client checks before anything is sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PcmoCallInput, RawPipelineAction } from '../../../src/piopiy/rest/index.js';
import { PiopiyValidationError } from '../../../src/piopiy/rest/index.js';
import { CALL_ID, startSimulatorRest, type SimulatorFixture } from './helpers.js';

let sim: SimulatorFixture;

beforeEach(async () => {
  sim = await startSimulatorRest();
});

afterEach(async () => {
  await sim.server.close();
});

const WIRE = [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }];

function sentPipeline(): unknown {
  return (sim.api.requests.at(-1)?.body as { pipeline: unknown }).pipeline;
}

describe('raw pipeline arrays', () => {
  it("the seed's unannotated variable, with `from` and + numbers", async () => {
    const pipeline = [{ action: 'connect', params: { from: '+918000000001' }, endpoints: [{ type: 'pstn', number: '+918000000002' }] }];
    await sim.client().voice.transfer(CALL_ID, pipeline);
    expect(sentPipeline()).toEqual(WIRE);
  });

  it('an unannotated array of several kinds of action', async () => {
    const pipeline = [
      { action: 'play', file_name: 'hold.mp3' },
      { action: 'connect', params: { caller_id: '918000000001', strategy: 'sequential' }, endpoints: [{ type: 'pstn', number: '918000000002' }] },
      { action: 'hangup' },
    ];
    await sim.client().voice.transfer(CALL_ID, pipeline);
    expect(sentPipeline()).toEqual(pipeline);
  });

  it('a literal `as const`, readonly arrays included', async () => {
    const pipeline = [
      { action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] },
      {
        action: 'play_get_input',
        prompt: { type: 'file', file_name: 'menu.mp3' },
        input: ['dtmf', 'speech'],
        on_result: { type: 'url', url: 'https://example.com/result' },
      },
    ] as const;
    await sim.client().voice.transfer(CALL_ID, pipeline);
    expect((sentPipeline() as unknown[])[0]).toEqual(WIRE[0]);
    // The same literal is accepted wherever a pipeline is.
    const input: PcmoCallInput = { callerId: '918000000001', toNumber: '918000000003', appId: 'app', pipeline };
    expect(input.pipeline).toBe(pipeline);
  });

  it('an annotated array, and a literal written inline, are checked by the compiler', async () => {
    const annotated: RawPipelineAction[] = [{ action: 'connect', params: { from: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }];
    await sim.client().voice.transfer(CALL_ID, annotated);
    expect(sentPipeline()).toEqual(WIRE);
    const typeOnly = (): void => {
      // @ts-expect-error -- 'dial' is no action
      const wrong: RawPipelineAction[] = [{ action: 'dial', params: { caller_id: '1' }, endpoints: [] }];
      // @ts-expect-error -- caller_id is a string of digits
      void sim.client().voice.transfer(CALL_ID, [{ action: 'connect', params: { caller_id: 918000000001 }, endpoints: [] }]);
      // @ts-expect-error -- a connect needs its endpoints
      void sim.client().voice.transfer(CALL_ID, [{ action: 'connect', params: { caller_id: '918000000001' } }]);
      void wrong;
    };
    expect(typeOnly).toBeTypeOf('function');
  });

  it('what the compiler cannot see in a widened array is refused before the network, naming the field', async () => {
    const typo = [{ action: 'conect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] }];
    const error = await sim.client().voice.transfer(CALL_ID, typo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiopiyValidationError);
    expect((error as PiopiyValidationError).field).toBe('pipeline[0].action');
    const badType = [{ action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'phone', number: '918000000002' }] }];
    const second = await sim.client().voice.transfer(CALL_ID, badType).catch((e: unknown) => e);
    expect((second as PiopiyValidationError).field).toBe('pipeline[0].endpoints[0].type');
    expect(sim.api.requests).toEqual([]);
  });
});
