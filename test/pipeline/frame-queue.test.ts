import { describe, expect, it } from 'vitest';
import { makeFrame, type Frame } from '../../src/frames/index.js';
import { FrameQueue } from '../../src/pipeline/index.js';

const text = (t: string): Frame => makeFrame('text', { text: t });

function drain(queue: FrameQueue): string[] {
  const out: string[] = [];
  while (queue.length > 0) {
    const direction = queue.peekDirection();
    const frame = queue.shift()!;
    out.push(`${frame.type === 'text' ? frame.text : frame.type}:${direction[0]}`);
  }
  return out;
}

describe('FrameQueue', () => {
  it('is first in, first out, across growth and wrap-around', () => {
    const queue = new FrameQueue(2);
    queue.push(text('a'), 'downstream');
    queue.push(text('b'), 'upstream');
    expect(queue.shift()).toMatchObject({ text: 'a' });
    for (const t of ['c', 'd', 'e', 'f', 'g']) queue.push(text(t), t === 'e' ? 'upstream' : 'downstream');
    expect(queue.length).toBe(6);
    expect(drain(queue)).toEqual(['b:u', 'c:d', 'd:d', 'e:u', 'f:d', 'g:d']);
    expect(queue.shift()).toBeUndefined();
  });

  it('retain() keeps order and directions, and reports what it removed', () => {
    const queue = new FrameQueue(4);
    queue.push(text('x'), 'downstream');
    queue.shift(); // move head off zero so retain works across the wrap
    for (const t of ['a', 'b', 'c', 'd']) queue.push(text(t), t === 'c' ? 'upstream' : 'downstream');
    expect(queue.retain((f) => f.type === 'text' && f.text !== 'b')).toBe(1);
    expect(drain(queue)).toEqual(['a:d', 'c:u', 'd:d']);
    queue.push(text('z'), 'downstream');
    expect(queue.clear()).toBe(1);
    expect(queue.length).toBe(0);
  });
});
