// The order in which a fallback tries its services: the healthy ones first, then those resting after a failure.
import type { Logger } from '../../logging/index.js';
import type { Clock } from '../../runtime/clock.js';

export interface FallbackOptions {
  /** How long a failed service is skipped. Default 60 000 ms. */
  recoverAfterMs?: number;
  /** Where the switch-over is logged. Default: the fallback processor's own logger (it names the call). */
  logger?: Logger;
  name?: string;
}

/** Which services to try, in order: the healthy ones first, then those whose rest has not expired. */
export class FallbackOrder<S extends { readonly name: string }> {
  private readonly failedAt = new Map<S, number>();

  constructor(
    readonly services: readonly S[],
    private readonly recoverAfterMs: number,
    /** Read at each failure: a processor's logger is replaced when the pipeline sets it up for a call. */
    private readonly logger: () => Logger,
    /** Read at each use, for the same reason: the fallback processor's clock. */
    private readonly clock: () => Clock,
  ) {
    if (services.length === 0) throw new TypeError('a fallback needs at least one service');
  }

  order(): S[] {
    const now = this.clock().now();
    const healthy = this.services.filter((s) => !this.isResting(s, now));
    const resting = this.services.filter((s) => !healthy.includes(s));
    return [...healthy, ...resting];
  }

  isResting(service: S, now = this.clock().now()): boolean {
    return now - (this.failedAt.get(service) ?? -Infinity) < this.recoverAfterMs;
  }

  failed(service: S, error: unknown, next: S | undefined): void {
    this.failedAt.set(service, this.clock().now());
    this.logger().warn(
      { err: error, failed: service.name, next: next?.name },
      next === undefined ? `${service.name} failed; no fallback left` : `${service.name} failed; switching to ${next.name}`,
    );
  }

  succeeded(service: S): void {
    this.failedAt.delete(service);
  }
}
