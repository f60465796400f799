// The pipeline builder: wire output, copies, and the legacy stream action kept away from the v3 endpoints.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { PipelineBuilder, PiopiyValidationError, RestClient, type PipelineAction } from '../../../src/piopiy/rest/index.js';
import { CALL_ID, TOKEN } from './helpers.js';

describe('PipelineBuilder', () => {
  it('builds wire actions, leaving unset options out', () => {
    const actions: PipelineAction[] = new PipelineBuilder()
      .connect({ callerId: '+91 80000-00001' }, [{ type: 'pstn', number: '+91 80000 00002' }])
      .record()
      .input({ type: 'url', url: 'https://example.com/r' })
      .build();
    expect(actions).toEqual([
      { action: 'connect', params: { caller_id: '918000000001' }, endpoints: [{ type: 'pstn', number: '918000000002' }] },
      { action: 'record' },
      { action: 'input', on_result: { type: 'url', url: 'https://example.com/r' } },
    ]);
  });

  it('returns copies: later changes do not leak into a built pipeline', () => {
    const metadata = { step: 1 };
    const builder = new PipelineBuilder().connect({ callerId: '918000000001', metadata }, [{ type: 'pstn', number: '918000000002' }]);
    const first = builder.build();
    metadata.step = 2;
    (first[0] as { action: string }).action = 'tampered';
    expect(builder.build()[0]).toMatchObject({ action: 'connect', params: { metadata: { step: 1 } } });
  });

  it('serialises with JSON.stringify, counts and clears', () => {
    const builder = new PipelineBuilder().play('a.mp3').hangup();
    expect(builder.length).toBe(2);
    expect(JSON.parse(JSON.stringify(builder))).toEqual([{ action: 'play', file_name: 'a.mp3' }, { action: 'hangup' }]);
    expect(builder.clear().build()).toEqual([]);
  });

  it('renames only structural keys: user maps keep their keys', () => {
    const [action] = new PipelineBuilder().param({ callerId: 'kept', fileName: 'kept' }).build();
    expect(action).toEqual({ action: 'param', data: { callerId: 'kept', fileName: 'kept' } });
  });

  it('stream(): the legacy action in wire form, checked at once', () => {
    const legacy = new PipelineBuilder().stream({ wsUrl: 'wss://example.com/media', listenMode: 'both', voiceQuality: '16000', streamOnAnswer: true });
    expect(legacy.build()).toEqual([
      { action: 'stream', ws_url: 'wss://example.com/media', listen_mode: 'both', voice_quality: '16000', stream_on_answer: true },
    ]);
    expect(new PipelineBuilder().play('x.mp3').stream({ wsUrl: 'ws://h/s' }).build()[1]).toEqual({ action: 'stream', ws_url: 'ws://h/s' });
    const error = (() => {
      try {
        new PipelineBuilder().play('x.mp3').stream({ wsUrl: 'https://example.com' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PiopiyValidationError);
    expect(error).toMatchObject({ message: 'pipeline[1].ws_url must start with ws:// or wss://.', field: 'pipeline[1].ws_url' });
  });

  it('a pipeline with stream() cannot be sent to v3: a type error, and refused at run time before sending', async () => {
    let sent = 0;
    const piopiy = new RestClient({
      token: TOKEN,
      logger: silentLogger,
      fetch: async () => {
        sent++;
        return new Response('{}');
      },
    });
    const legacy = piopiy.voice.pipeline().stream({ wsUrl: 'wss://example.com/media' });
    // @ts-expect-error a builder holding legacy actions is not a v3 pipeline
    const attempt = piopiy.voice.transfer(CALL_ID, legacy);
    await expect(attempt).rejects.toMatchObject({
      name: 'PiopiyValidationError',
      field: 'pipeline[0].action',
      message: expect.stringContaining('stream is a legacy WebSocket action the v3 API does not accept') as unknown,
    });
    expect(sent).toBe(0);
  });
});
