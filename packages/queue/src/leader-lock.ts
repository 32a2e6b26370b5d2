import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { waitReady, type RedisClient as Redis } from './redis';

/**
 * Takes the lock, or re-extends it when this token already holds it (a renewal whose reply was lost).
 * Returns {1} when held, else {0, pttl of the holder's lock} so the caller knows when to look again.
 */
const ACQUIRE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return {redis.call('pexpire', KEYS[1], ARGV[2])}
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('pttl', KEYS[1])}`;

/** Compare-and-extend: only the holder's token may push the expiry out. */
const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

/** Compare-and-delete: a holder never deletes a lock that has since passed to someone else. */
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

export interface LeaderLockOptions {
  /** The Redis key (see `leaderLockKey`). */
  key: string;
  ttlMs: number;
  /**
   * How often a follower tries to take a lock that a live leader holds. Between tries it watches the
   * holder's expiry (one PTTL read per expiry) and tries at once when the lock is gone.
   */
  retryIntervalMs: number;
  /** Names this process in the lock's value (`<instanceId>:<random>`), e.g. the worker id. */
  instanceId: string;
}

export type LostReason = 'renew-refused' | 'renew-failed' | 'expired-locally' | 'released' | 'abdicated';

/** Wake-up after the holder's lock should have expired: Redis expires it at pttl, give it a moment. */
const WATCH_MARGIN_MS = 50;

/** Pause between tries while Redis gives no answer (each try first waits for the connection to be ready). */
const NO_ANSWER_RETRY_MS = 1000;

export interface LeaderLockEvents {
  acquired: [];
  lost: [reason: LostReason];
  error: [err: Error];
}

/**
 * Redis leader election (SPEC F7): `SET key token NX PX ttl`, renewed every ttl/3 by compare-and-extend,
 * released by compare-and-delete. The lock is the only truth: a leader that cannot prove it still holds
 * the key (a refused or failed renewal, or ttl passing without a successful renewal, e.g. a blocked event
 * loop) emits `lost` at once and goes back to following; `isLeader()` turns false at the same moment, so
 * scheduled work can check it before acting. Followers try to take the lock every `retryIntervalMs`, and in
 * between read its remaining ttl when it is due to run out (a live leader has renewed it by then; a dead
 * one has not), trying at once when it is gone: a dead leader is replaced within ttl + one round trip,
 * whatever the retry interval.
 */
export class LeaderLock extends EventEmitter<LeaderLockEvents> {
  readonly token: string;
  private leader = false;
  /** Local time before which this process may act as leader: last confirmed renewal + ttl, minus a margin. */
  private validUntil = 0;
  private timer?: NodeJS.Timeout;
  private running = false;
  private ticking?: Promise<void>;
  /**
   * When the next election attempt comes if this process does not lead. After losing the lock it tries once
   * at once (a lock that vanished with Redis's data is taken back immediately); while Redis gives no answer
   * it tries every second, each try waiting for the connection; once Redis answers "held by another" it waits the retry interval.
   */
  private retry: 'now' | 'soon' | 'later' = 'later';
  /** While following: when the next full try is due, and when the holder's lock runs out unless renewed. */
  private nextTryAt = 0;
  private holderExpiresAt = Number.POSITIVE_INFINITY;
  /** After abdicating, no try before this time (the fault that made this process give up may be local). */
  private pausedUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly opts: LeaderLockOptions,
  ) {
    super();
    this.token = `${opts.instanceId}:${randomBytes(4).toString('hex')}`;
  }

  /** True while the lock is held and its last confirmation has not yet run out on this process's clock. */
  isLeader(): boolean {
    if (this.leader && Date.now() >= this.validUntil) this.demote('expired-locally');
    return this.leader;
  }

  /** Asks Redis (not local state) whether this process holds the lock right now. */
  async confirm(): Promise<boolean> {
    if (!this.isLeader()) return false;
    return (await this.redis.get(this.opts.key)) === this.token;
  }

  /** The current holder's token, whoever it is, or null when nobody leads. */
  async holder(): Promise<string | null> {
    return this.redis.get(this.opts.key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops electing; a leader releases the lock so a follower can take over without waiting for the ttl. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (!this.leader) return;
    this.demote('released');
    try {
      await this.redis.eval(RELEASE, 1, this.opts.key, this.token);
    } catch (err) {
      // The lock then simply expires after its ttl.
      this.report(err);
    }
  }

  /**
   * Gives the lock up (compare-and-delete) and stays a follower for `pauseMs`: for a leader that cannot serve
   * (its schedulers could not be registered), so that another process, or this one later, can.
   */
  async abdicate(pauseMs: number): Promise<void> {
    if (!this.leader) return;
    this.pausedUntil = Date.now() + pauseMs;
    this.demote('abdicated');
    try {
      await this.redis.eval(RELEASE, 1, this.opts.key, this.token);
    } catch (err) {
      this.report(err);
    }
    if (this.running && !this.ticking) {
      if (this.timer) clearTimeout(this.timer);
      this.schedule(this.followDelayMs());
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, ms);
  }

  private async tick(): Promise<void> {
    // A fail-fast connection refuses commands until it is ready; the first attempt waits for it (bounded).
    if (!this.leader && this.redis.status !== 'ready') {
      // Not ready in time is not an error here: the attempt below fails and is retried like any other.
      await waitReady(this.redis, Math.min(this.opts.retryIntervalMs, 5000)).catch(() => undefined);
    }
    if (!this.running) return;
    // isLeader() first: a renewal that comes after the ttl ran out (a blocked event loop) is a loss, not a renewal.
    if (this.isLeader()) await this.renew();
    else if (Date.now() < this.pausedUntil) {
      // abdicated: wait out the pause
    } else if (this.retry === 'later' && Date.now() < this.nextTryAt) await this.watch();
    else await this.tryAcquire();
    if (!this.running) return;
    this.schedule(this.leader ? this.renewEveryMs() : this.followDelayMs());
  }

  private followDelayMs(): number {
    const now = Date.now();
    let delay: number;
    if (this.retry === 'now') delay = 0;
    // No answer from Redis: the next tick waits (bounded) for the connection to be ready and tries at once,
    // so the lock is back as soon as Redis is, whatever the ttl.
    else if (this.retry === 'soon') delay = Math.min(this.renewEveryMs(), NO_ANSWER_RETRY_MS);
    else delay = Math.min(this.nextTryAt, this.holderExpiresAt + WATCH_MARGIN_MS) - now;
    return Math.max(0, delay, this.pausedUntil - now);
  }

  /** A follower's cheap look at the lock between tries: gone means the leader died (or left), so try now. */
  private async watch(): Promise<void> {
    try {
      const pttl = await this.redis.pttl(this.opts.key);
      if (pttl === -2) await this.tryAcquire();
      else this.holderExpiresAt = pttl >= 0 ? Date.now() + pttl : Number.POSITIVE_INFINITY;
    } catch (err) {
      this.retry = 'soon';
      this.report(err);
    }
  }

  private async tryAcquire(): Promise<void> {
    const asked = Date.now();
    try {
      const [got, pttl] = (await this.redis.eval(ACQUIRE, 1, this.opts.key, this.token, String(this.opts.ttlMs))) as [number, number?];
      this.retry = 'later';
      if (got === 1) {
        if (this.running) this.promote(asked);
        return;
      }
      this.nextTryAt = asked + this.opts.retryIntervalMs;
      // A key without a ttl (set by hand) never expires on its own: only the retry interval applies then.
      this.holderExpiresAt = pttl !== undefined && pttl >= 0 ? Date.now() + pttl : Number.POSITIVE_INFINITY;
    } catch (err) {
      this.retry = 'soon';
      this.report(err);
    }
  }

  private async renew(): Promise<void> {
    const asked = Date.now();
    try {
      const ok = await this.redis.eval(RENEW, 1, this.opts.key, this.token, String(this.opts.ttlMs));
      if (ok === 1) this.validUntil = asked + this.safeTtlMs();
      else this.demote('renew-refused');
    } catch (err) {
      this.report(err);
      this.demote('renew-failed');
    }
  }

  private promote(askedAt: number): void {
    this.validUntil = askedAt + this.safeTtlMs();
    if (this.leader) return;
    this.leader = true;
    this.emit('acquired');
  }

  private demote(reason: LostReason): void {
    if (!this.leader) return;
    this.leader = false;
    this.validUntil = 0;
    this.retry = reason === 'released' || reason === 'abdicated' ? 'later' : reason === 'renew-refused' ? 'now' : 'soon';
    // After a release the lock is free: the next look (after any pause) is a try, not a watch.
    this.nextTryAt = 0;
    this.emit('lost', reason);
  }

  /** An 'error' event with no listener would throw; election errors are worth a log line, never a crash. */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  private renewEveryMs(): number {
    return Math.max(10, Math.floor(this.opts.ttlMs / 3));
  }

  /** Counted from when the renewal was sent, less a margin for clock-rate drift between hosts. */
  private safeTtlMs(): number {
    return Math.floor(this.opts.ttlMs * 0.9);
  }
}
