// Helpers for the tests of LLM services against their fake vendor servers: a one-question context, the events of
// one streamed completion, the error that ends one, the text and tool calls among the events, an abort of a stalled
// stream, and one answer given in a pipeline.
import { expect } from 'vitest';
import { makeFrame, type LLMContextSnapshot, type LLMToolDefinition } from '../../src/frames/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { Pipeline, PipelineTask } from '../../src/pipeline/index.js';
import { ServiceError, type LLMService, type LLMStreamEvent } from '../../src/services/base/index.js';
import { FrameCollector } from '../../src/testing/frame-collector.js';

/** A context of the phone-assistant system prompt and one user message. */
export const ask = (text: string, tools: LLMToolDefinition[] = []): LLMContextSnapshot => ({
  messages: [
    { role: 'system', content: 'You are a phone assistant.' },
    { role: 'user', content: text },
  ],
  tools,
});

/** Every event of one streamed completion. */
export async function collect(
  service: Pick<LLMService, 'streamCompletion'>,
  context: LLMContextSnapshot,
  signal = new AbortController().signal,
): Promise<LLMStreamEvent[]> {
  const events: LLMStreamEvent[] = [];
  for await (const event of service.streamCompletion(context, { signal })) events.push(event);
  return events;
}

/** The ServiceError a completion fails with (the test fails when it does not fail, or fails otherwise). */
export async function failure(service: Pick<LLMService, 'streamCompletion'>, context: LLMContextSnapshot = ask('Hi')): Promise<ServiceError> {
  try {
    await collect(service, context);
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    return err as ServiceError;
  }
  throw new Error('expected the stream to fail');
}

export const textOf = (events: LLMStreamEvent[]): string => events.map((e) => (e.type === 'text' ? e.text : '')).join('');
export const callsOf = (events: LLMStreamEvent[]) => events.flatMap((e) => (e.type === 'tool-call' ? [e.toolCall] : []));

/** Aborts a completion 50 ms in (the fake having been told to stall): it must end quietly, no events, within 200 ms. */
export async function expectQuietAbort(service: Pick<LLMService, 'streamCompletion'>, context: LLMContextSnapshot = ask('Hi')): Promise<void> {
  const controller = new AbortController();
  const done = collect(service, context, controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const abortedAt = Date.now();
  controller.abort();
  await expect(done).resolves.toEqual([]);
  expect(Date.now() - abortedAt).toBeLessThan(200);
}

/** Runs `service` in a pipeline on one `llm-context` frame until its response ends; the frames that came out. */
export async function answerInPipeline(service: LLMService, context: LLMContextSnapshot): Promise<FrameCollector> {
  const collector = new FrameCollector();
  const task = new PipelineTask(new Pipeline([service, collector]), { logger: silentLogger });
  const running = task.run();
  void task.queueFrame(makeFrame('llm-context', { context }));
  await collector.waitFor((f) => f.type === 'llm-response-end');
  task.stopWhenDone();
  await running;
  return collector;
}
