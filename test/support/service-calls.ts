// What the REST service tests share: a sentence synthesised and its audio joined, and the ServiceError a call
// fails with.
import { expect } from 'vitest';
import { concatInt16 } from '../../src/audio/index.js';
import { ServiceError, type TTSService } from '../../src/services/base/index.js';

/** Says `text` with `tts` (one synthesis, never aborted) and joins its audio. */
export async function synthesizeAudio(tts: TTSService, text: string): Promise<Int16Array> {
  const chunks: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal: new AbortController().signal })) if (chunk.type === 'audio') chunks.push(chunk.audio);
  return concatInt16(chunks);
}

/** The ServiceError `run` fails with; the test fails when it succeeds or throws anything else. */
export async function failureOf(run: () => Promise<unknown>): Promise<ServiceError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    return error as ServiceError;
  }
  throw new Error('expected a failure');
}
