import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.js';
import { FallbackOrder } from '../../../src/services/fallback/order.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

describe('FallbackOrder', () => {
  it('rests a failed service for recoverAfterMs of the clock it is given', async () => {
    const clock = new VirtualClock({ startMs: 1000 });
    const [a, b] = [{ name: 'a' }, { name: 'b' }];
    const order = new FallbackOrder([a, b], 60_000, () => silentLogger, () => clock);
    expect(order.order()).toEqual([a, b]);
    order.failed(a, new Error('down'), b);
    expect(order.order()).toEqual([b, a]);
    await clock.advance(59_999);
    expect(order.isResting(a)).toBe(true);
    await clock.advance(1);
    expect(order.isResting(a)).toBe(false);
    expect(order.order()).toEqual([a, b]);
  });
});
