import { describe, expect, it } from 'vitest';
import {
  FRAME_KINDS,
  describeFrame,
  errorFrame,
  inputAudioFrame,
  isAudioFrame,
  isOutputAudioFrame,
  isSystemFrame,
  makeFrame,
  outputAudioFrame,
  survivesInterruption,
  toError,
  ttsAudioFrame,
  type Frame,
} from '../../src/frames/index.js';

describe('frames', () => {
  it('get increasing ids and monotonic timestamps', () => {
    const frames = [makeFrame('start', { audioInSampleRate: 16000, audioOutSampleRate: 8000, allowInterruptions: true, enableMetrics: true }), makeFrame('text', { text: 'a' }), inputAudioFrame(new Int16Array(160), 8000), makeFrame('interruption')];
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.id).toBeGreaterThan(frames[i - 1]!.id);
      expect(frames[i]!.timestamp).toBeGreaterThanOrEqual(frames[i - 1]!.timestamp);
    }
  });

  it('narrow by type in a switch', () => {
    const describe = (frame: Frame): string => {
      switch (frame.type) {
        case 'transcription':
          return `${frame.final ? 'final' : 'interim'}:${frame.text}`;
        case 'tts-audio':
          return `${frame.sampleRate}`;
        default:
          return frame.type;
      }
    };
    expect(describe(makeFrame('transcription', { text: 'hi', final: false, userId: 'u' }))).toBe('interim:hi');
    expect(describe(ttsAudioFrame(new Int16Array(2), 24000, 'ctx'))).toBe('24000');
  });

  it('classify system, control and data frames', () => {
    expect(isSystemFrame(makeFrame('interruption'))).toBe(true);
    expect(isSystemFrame(makeFrame('cancel', {}))).toBe(true);
    expect(isSystemFrame(makeFrame('user-started-speaking'))).toBe(true);
    expect(isSystemFrame(makeFrame('error', { error: new Error('x'), fatal: false }))).toBe(true);
    expect(isSystemFrame(makeFrame('end', {}))).toBe(false);
    expect(FRAME_KINDS.end).toBe('control');
    expect(FRAME_KINDS['input-audio']).toBe('data');
    expect(isAudioFrame(inputAudioFrame(new Int16Array(1), 8000))).toBe(true);
    expect(isOutputAudioFrame(inputAudioFrame(new Int16Array(1), 8000))).toBe(false);
    expect(isOutputAudioFrame(outputAudioFrame(new Int16Array(1), 8000))).toBe(true);
    expect(isOutputAudioFrame(ttsAudioFrame(new Int16Array(1), 8000))).toBe(true);
  });

  it('an interruption keeps what the caller said and tool results, drops bot output', () => {
    expect(survivesInterruption(inputAudioFrame(new Int16Array(1), 8000))).toBe(true);
    expect(survivesInterruption(makeFrame('transcription', { text: 'x', final: true, userId: 'u' }))).toBe(true);
    expect(survivesInterruption(makeFrame('end', {}))).toBe(true);
    expect(survivesInterruption(ttsAudioFrame(new Int16Array(1), 8000))).toBe(false);
    expect(survivesInterruption(makeFrame('llm-text', { text: 'x' }))).toBe(false);
    expect(survivesInterruption(makeFrame('speak', { text: 'x' }))).toBe(false);
  });

  it('errorFrame keeps the original error, and wraps what is not an Error', () => {
    const original = new Error('boom');
    expect(errorFrame(original, { processor: 'p' })).toMatchObject({ type: 'error', error: original, fatal: false, processor: 'p' });
    const wrapped = toError({ code: 42 });
    expect(wrapped.message).toBe('non-Error thrown: {"code":42}');
    expect(wrapped.cause).toEqual({ code: 42 });
    expect(toError('text').message).toBe('text');
  });

  it('describeFrame never prints audio data', () => {
    const audio = inputAudioFrame(new Int16Array(320).fill(1234), 16000);
    expect(describeFrame(audio)).toBe(`input-audio#${audio.id}(320 samples @16000Hz)`);
    const text = makeFrame('llm-text', { text: 'hi "there"' });
    expect(describeFrame(text)).toBe(`llm-text#${text.id}("hi \\"there\\"")`);
  });
});
