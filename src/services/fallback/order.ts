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

/**
 * Which services to try, in order: the healthy ones first, then those whose rest has not expired. The first choice
 * is the first service given, unless `prefer()` chose another (a switcher): among the healthy ones it comes first.
 */
export class FallbackOrder<S extends { readonly name: string }> {
  private readonly failedAt = new Map<S, number>();
  private first: S;

  constructor(
    readonly services: readonly S[],
    private readonly recoverAfterMs: number,
    /** Read at each failure: a processor's logger is replaced when the pipeline sets it up for a call. */
    private readonly logger: () => Logger,
    /** Read at each use, for the same reason: the fallback processor's clock. */
    private readonly clock: () => Clock,
  ) {
    if (services.length === 0) throw new TypeError('a fallback needs at least one service');
    this.first = services[0]!;
  }

  /** The service tried first while it is healthy. */
  get preferred(): S {
    return this.first;
  }

  /** Makes `service` (one of the services) the first choice from the next `order()` on. */
  prefer(service: S): void {
    if (!this.services.includes(service)) throw new RangeError(`${service.name} is not one of the services`);
    this.first = service;
  }

  /** The services in the order to try them; `preferred` first among the healthy ones (default: the first choice). */
  order(preferred: S = this.first): S[] {
    const now = this.clock().now();
    const ranked = [preferred, ...this.services.filter((s) => s !== preferred)];
    const healthy = ranked.filter((s) => !this.isResting(s, now));
    const resting = ranked.filter((s) => !healthy.includes(s));
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
