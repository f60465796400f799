import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LLMContextSnapshot, LLMToolDefinition } from '../../../src/frames/index.js';
import { LLMContext } from '../../../src/llm/context.js';
import { BedrockLLMService, type BedrockLLMServiceOptions } from '../../../src/services/aws/index.js';
import { encodeEventStreamMessage } from '../../../src/services/aws/event-stream.js';
import { startFakeBedrock, type FakeBedrock } from '../../../src/testing/fakes/bedrock.js';
import { validateConverseBody } from '../../../src/testing/fakes/bedrock-validation.js';
import { answerInPipeline, ask, callsOf, collect, expectQuietAbort, failure, textOf } from '../../support/llm-stream.js';

const KEY_ID = 'AKIAEXAMPLEKEYID0001';
const SECRET = 'bedrock/SECRET+key0123456789';
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';

const weather: LLMToolDefinition = {
  name: 'get_weather',
  description: 'Weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const hangUp: LLMToolDefinition = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {} } };

let fake: FakeBedrock;
let llm: BedrockLLMService;
const make = (options: Partial<BedrockLLMServiceOptions> = {}): BedrockLLMService =>
  new BedrockLLMService({ credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, region: 'ap-south-1', model: MODEL, baseUrl: fake.baseUrl, timeoutMs: 2000, ...options });
beforeEach(async () => {
  fake = await startFakeBedrock({ secretAccessKey: SECRET, rejectKey: 'AKIAREJECTED00000000', expiredSessionToken: 'EXPIRED-TOKEN', models: [MODEL, 'amazon.nova-lite-v1:0'] });
  llm = make();
});
afterEach(() => fake.close());

describe('BedrockLLMService: the request', () => {
  it('signs a POST to /model/{modelId}/converse-stream (the `:` escaped) that the fake verifies; body as Converse wants it', async () => {
    fake.enqueue({ text: 'Namaste!', usage: { inputTokens: 12, outputTokens: 3 } });
    const events = await collect(make({ temperature: 0.3, topP: 0.9, stopSequences: ['END'], maxTokens: 200 }), ask('Hi'));
    expect(textOf(events)).toBe('Namaste!');
    expect(events.at(-1)).toEqual({ type: 'usage', promptTokens: 12, completionTokens: 3 });
    const request = fake.requests[0]!;
    expect(request.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    expect(request.model).toBe(MODEL);
    expect(request.auth.valid).toBe(true);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      system: [{ text: 'You are a phone assistant.' }],
      inferenceConfig: { maxTokens: 200, temperature: 0.3, topP: 0.9, stopSequences: ['END'] },
    });
  });

  it('sends a session token signed; an expired one is refused as AWS does (403 ExpiredTokenException, auth)', async () => {
    fake.enqueue({ text: 'ok' });
    expect(textOf(await collect(make({ credentials: async () => ({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: 'GOOD-TOKEN' }) }), ask('Hi')))).toBe('ok');
    expect(fake.requests[0]!.headers['x-amz-security-token']).toBe('[redacted]');
    const error = await failure(make({ credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: 'EXPIRED-TOKEN' } }));
    expect(error).toMatchObject({ code: 'auth', status: 403, vendorCode: 'ExpiredTokenException', retryable: false });
    expect(error.message).not.toContain('EXPIRED-TOKEN');
  });

  it('a wrong secret is 403 InvalidSignatureException; a refused key id 403 UnrecognizedClientException; neither in the error', async () => {
    const wrong = await failure(make({ credentials: { accessKeyId: KEY_ID, secretAccessKey: 'not-the-secret' } }));
    expect(wrong).toMatchObject({ code: 'auth', vendorCode: 'InvalidSignatureException' });
    const refused = await failure(make({ credentials: { accessKeyId: 'AKIAREJECTED00000000', secretAccessKey: SECRET } }));
    expect(refused).toMatchObject({ code: 'auth', vendorCode: 'UnrecognizedClientException' });
    expect(refused.message).toMatch(/^Amazon Bedrock: 403/);
    for (const error of [wrong, refused]) for (const secret of [KEY_ID, SECRET, 'AKIAREJECTED00000000', 'not-the-secret']) expect(error.message).not.toContain(secret);
  });

  it('an unknown model id is a 400 ValidationException, not retried', async () => {
    expect(await failure(make({ model: 'anthropic.claude-nope' }))).toMatchObject({ code: 'bad-request', vendorCode: 'ValidationException', retryable: false });
  });

  it('a context that starts with the greeting gets a user turn first; tools go in toolConfig with toolChoice', async () => {
    const greeted: LLMContextSnapshot = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello! How can I help?' },
        { role: 'user', content: 'Weather?' },
      ],
      tools: [weather, { ...hangUp, description: '' }],
    };
    fake.enqueue({ text: 'Sure.' });
    await collect(make({ toolChoice: { auto: {} } }), greeted);
    expect(fake.requests[0]!.status).toBe(200);
    const body = fake.requests[0]!.body as Record<string, unknown>;
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: '(call connected)' }] },
      { role: 'assistant', content: [{ text: 'Hello! How can I help?' }] },
      { role: 'user', content: [{ text: 'Weather?' }] },
    ]);
    expect(body.toolConfig).toEqual({
      tools: [
        { toolSpec: { name: 'get_weather', description: 'Weather in a city.', inputSchema: { json: weather.parameters } } },
        { toolSpec: { name: 'hang_up', inputSchema: { json: hangUp.parameters } } },
      ],
      toolChoice: { auto: {} },
    });
  });
});

describe('BedrockLLMService: tool calls', () => {
  it('assembles parallel toolUse blocks from their input pieces, each at its contentBlockStop', async () => {
    const args = { city: 'Pune', note: 'quote " and \\ and é👋 {not: json}', nested: { list: [1, 2, 3] } };
    fake.enqueue({ text: 'Let me check.', toolUses: [{ name: 'get_weather', input: args, id: 'tooluse_A1' }, { name: 'hang_up', input: {}, id: 'tooluse_B2' }] });
    const events = await collect(llm, ask('Weather?', [weather, hangUp]));
    expect(textOf(events)).toBe('Let me check.');
    expect(callsOf(events)).toEqual([
      { id: 'tooluse_A1', name: 'get_weather', arguments: JSON.stringify(args) },
      { id: 'tooluse_B2', name: 'hang_up', arguments: '{}' },
    ]);
  });

  it('tool arguments survive every split the fake makes, over many seeds', async () => {
    const input = { address: '12 MG Road, बेंगलुरु', digits: '0123456789', escaped: 'tab\tnewline\n"quote"' };
    for (let seed = 1; seed <= 6; seed++) {
      const seeded = await startFakeBedrock({ seed, secretAccessKey: SECRET });
      try {
        seeded.enqueue({ toolUses: [{ name: 'get_weather', input }] });
        const calls = callsOf(await collect(make({ baseUrl: seeded.baseUrl }), ask('Go', [weather])));
        expect(calls).toHaveLength(1);
        expect(JSON.parse(calls[0]!.arguments)).toEqual(input);
      } finally {
        await seeded.close();
      }
    }
  });

  it('sends the tool round back (toolUse, then toolResult in the next user turn), which the strict fake accepts', async () => {
    fake.respondWith((body) => {
      const last = (body.messages as { content: Record<string, unknown>[] }[]).at(-1)!;
      return 'toolResult' in last.content[0]! ? { text: 'It is 31 degrees in Pune.' } : { toolUses: [{ name: 'get_weather', input: { city: 'Pune' } }, { name: 'get_weather', input: { city: 'Goa' } }] };
    });
    const calls = callsOf(await collect(llm, ask('Weather in Pune and Goa?', [weather])));
    expect(calls).toHaveLength(2);
    const context = new LLMContext(ask('Weather in Pune and Goa?').messages, [weather]);
    context.addToolExchange(calls, [
      { toolCallId: calls[0]!.id, content: '{"temp_c":31}' },
      { toolCallId: calls[1]!.id, content: '' },
    ]);
    expect(textOf(await collect(llm, context.snapshot()))).toBe('It is 31 degrees in Pune.');
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200]);
    expect((fake.requests[1]!.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: calls[0]!.id, name: 'get_weather', input: { city: 'Pune' } } },
          { toolUse: { toolUseId: calls[1]!.id, name: 'get_weather', input: { city: 'Goa' } } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: calls[0]!.id, content: [{ text: '{"temp_c":31}' }] } },
          { toolResult: { toolUseId: calls[1]!.id, content: [{ text: '(no result)' }] } },
        ],
      },
    ]);
  });

  it('the fake refuses what Bedrock refuses: an unanswered toolUse, tool blocks without toolConfig, roles not alternating, blank text', () => {
    const toolUse = { toolUse: { toolUseId: 't1', name: 'get_weather', input: {} } };
    const toolConfig = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }] };
    expect(() => validateConverseBody({ messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [toolUse] }, { role: 'user', content: [{ text: 'b' }] }], toolConfig })).toThrow(/Expected toolResult blocks/);
    expect(() => validateConverseBody({ messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'assistant', content: [toolUse] }] })).toThrow(/toolConfig field must be defined/);
    expect(() => validateConverseBody({ messages: [{ role: 'user', content: [{ text: 'a' }] }, { role: 'user', content: [{ text: 'b' }] }] })).toThrow(/must alternate/);
    expect(() => validateConverseBody({ messages: [{ role: 'assistant', content: [{ text: 'a' }] }] })).toThrow(/must start with a user message/);
    expect(() => validateConverseBody({ messages: [{ role: 'user', content: [{ text: ' ' }] }] })).toThrow(/is blank/);
    expect(() => validateConverseBody({ messages: [{ role: 'user', content: [{ text: 'a' }] }], inferenceConfig: { temperature: 1.5 } })).toThrow(/inferenceConfig.temperature/);
  });
});

describe('BedrockLLMService: failures', () => {
  it('429 ThrottlingException: rate-limited, retryable; 500 / 503 / 424 server; 408 timeout; 403 AccessDenied auth', async () => {
    fake.enqueue({ error: 429 }, { error: 500 }, { error: 503 }, { error: 424 }, { error: 408 }, { error: 403 });
    expect(await failure(llm)).toMatchObject({ code: 'rate-limited', status: 429, vendorCode: 'ThrottlingException', retryable: true });
    for (const vendorCode of ['InternalServerException', 'ServiceUnavailableException', 'ModelErrorException']) expect(await failure(llm)).toMatchObject({ code: 'server', vendorCode, retryable: true });
    expect(await failure(llm)).toMatchObject({ code: 'timeout', vendorCode: 'ModelTimeoutException' });
    expect(await failure(llm)).toMatchObject({ code: 'auth', vendorCode: 'AccessDeniedException', retryable: false });
  });

  it('an exception message mid-stream: a ServiceError of its type, after the text already streamed', async () => {
    fake.enqueue({ text: 'Partial answer', streamException: 'modelStreamErrorException', message: 'The model stream failed.' });
    const events: string[] = [];
    let caught: unknown;
    try {
      for await (const event of llm.streamCompletion(ask('Hi'), { signal: new AbortController().signal })) if (event.type === 'text') events.push(event.text);
    } catch (error) {
      caught = error;
    }
    expect(events.join('')).toBe('Partial answer');
    expect(caught).toMatchObject({ code: 'server', vendorCode: 'ModelStreamErrorException', retryable: true });
    fake.enqueue({ streamException: 'validationException', message: 'Input is too long for requested model.' });
    expect(await failure(llm)).toMatchObject({ code: 'bad-request', vendorCode: 'ValidationException' });
  });

  it('a content_filtered / guardrail stop with nothing said is an error the caller hears the apology for', async () => {
    fake.enqueue({ text: '', stopReason: 'guardrail_intervened' });
    expect(await failure(llm)).toMatchObject({ code: 'content-filtered', vendorCode: 'guardrail_intervened' });
  });

  it('a dropped connection is connection-lost; a stall is a timeout; an abort of a stall ends quietly', async () => {
    fake.enqueue({ dropAfterEvents: 3, text: 'One two three four five six seven' });
    expect((await failure(llm)).code).toMatch(/^connection-lost$/);
    fake.enqueue({ stall: true });
    expect(await failure(make({ timeoutMs: 150 }))).toMatchObject({ code: 'timeout', retryable: true });
    fake.enqueue({ stall: true });
    await expectQuietAbort(llm);
  });

  it('a corrupted frame in the stream is a protocol error', async () => {
    const { createServer } = await import('node:http');
    const frame = encodeEventStreamMessage({ ':message-type': 'event', ':event-type': 'messageStart' }, Buffer.from('{"role":"assistant"}'));
    frame.writeUInt8(frame.readUInt8(frame.length - 1) ^ 0xff, frame.length - 1);
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' }).end(frame));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      expect(await failure(make({ baseUrl: `http://127.0.0.1:${port}` }))).toMatchObject({ code: 'protocol' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('bad options are TypeErrors naming the class', () => {
    expect(() => new BedrockLLMService({ credentials: { accessKeyId: '', secretAccessKey: 'x' }, region: 'ap-south-1' })).toThrow(/BedrockLLMService: credentials are required/);
    expect(() => new BedrockLLMService({ credentials: { accessKeyId: 'a', secretAccessKey: 'x' }, region: 'mumbai' })).toThrow(/region must be an AWS region/);
  });

  it('answers an llm-context frame in a pipeline with text and usage metrics', async () => {
    fake.enqueue({ text: 'Hello from Bedrock.', usage: { inputTokens: 9, outputTokens: 4 } });
    const collector = await answerInPipeline(llm, ask('Hi'));
    expect(collector.ofType('llm-text').map((f) => f.text).join('')).toBe('Hello from Bedrock.');
    const usage = collector.ofType('metrics').flatMap((f) => f.data).find((m) => m.kind === 'llm-usage');
    expect(usage).toMatchObject({ model: MODEL, promptTokens: 9, completionTokens: 4 });
  });
});
