import { RateLimiterRes } from 'rate-limiter-flexible';

/** The part of a rate-limiter-flexible limiter the leases use: add `points` to a key's count in this window. */
export interface PointsStore {
  consume(key: string, points: number): Promise<RateLimiterRes>;
}

export interface Decision {
  allowed: boolean;
  /** Requests left in this window, as far as this process knows. */
  remaining: number;
  /** Until the window ends (for Retry-After when refused). */
  msBeforeNext: number;
}

interface Lease {
  /** Local tokens left. */
  left: number;
  /** The shared count said the window is spent: refuse locally until it ends. */
  exhausted: boolean;
  /** Tokens known to be left in the shared window after this lease was taken. */
  sharedLeft: number;
  /** When the window (and so the lease) ends, epoch ms. */
  endsAt: number;
}

/** Entries are pruned when the map grows past this many keys (expired leases only). */
const PRUNE_ABOVE = 10_000;

/**
 * A per-key limit counted in a shared store (Redis), taken in leases: one store call grants this process
 * up to `leaseSize` requests of the current window, which it then serves from memory. A key at a steady
 * rate costs one store round trip per lease instead of one per request (the round trip was a fifth of an
 * API request's CPU). Tokens leased by one process and not used before the window ends count as spent,
 * so with P processes a key may get up to (P - 1) × (leaseSize - 1) fewer requests than the limit in a
 * window, never more. The lease is a small share of the limit (one request when the limit is small).
 */
export class TokenLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly inFlight = new Map<string, Promise<void>>();
  readonly leaseSize: number;

  constructor(
    private readonly store: PointsStore,
    readonly limit: number,
    leaseShare = 0.05,
  ) {
    this.leaseSize = Math.max(1, Math.floor(limit * leaseShare));
  }

  /** Takes one request's token for `key`; store errors propagate (the caller decides to fail open). */
  async take(key: string): Promise<Decision> {
    for (;;) {
      const now = Date.now();
      const lease = this.leases.get(key);
      if (lease && lease.endsAt > now) {
        if (lease.left > 0) {
          lease.left--;
          return { allowed: true, remaining: lease.sharedLeft + lease.left, msBeforeNext: lease.endsAt - now };
        }
        if (lease.exhausted) return { allowed: false, remaining: 0, msBeforeNext: lease.endsAt - now };
      }
      // Concurrent requests of one key wait for a single lease instead of each asking the store.
      let pending = this.inFlight.get(key);
      if (!pending) {
        pending = this.renew(key).finally(() => this.inFlight.delete(key));
        this.inFlight.set(key, pending);
      }
      await pending;
    }
  }

  private async renew(key: string): Promise<void> {
    let res: RateLimiterRes;
    let refused = false;
    try {
      res = await this.store.consume(key, this.leaseSize);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res = err;
      refused = true;
    }
    // The count now includes this whole lease; what was left before it is what this process may use.
    const before = res.consumedPoints - this.leaseSize;
    const granted = Math.max(0, Math.min(this.leaseSize, this.limit - before));
    const endsAt = Date.now() + Math.max(1, res.msBeforeNext);
    this.leases.set(key, {
      left: granted,
      exhausted: refused || granted < this.leaseSize || res.consumedPoints >= this.limit,
      sharedLeft: Math.max(0, this.limit - res.consumedPoints),
      endsAt,
    });
    if (this.leases.size > PRUNE_ABOVE) this.prune();
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, lease] of this.leases) if (lease.endsAt <= now) this.leases.delete(key);
  }
}
