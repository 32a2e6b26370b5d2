import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from './redis';
import { ADMIT, DISPATCH, GAUGES, MAINTAIN, RELEASE, RENEW, SETTINGS, STAGE, UNSTAGE } from './fair-scripts';

/** What fair dispatch needs of a job row. */
export interface FairJob {
  id: string;
  task: string;
  organization_id: string;
  priority: number | null;
  run_at: Date | null;
  concurrency_key?: string | null;
  concurrency_limit?: number | null;
}

/** The slots one running attempt holds: its organization's and, with a key, the key's. */
export interface FairSlot {
  id: string;
  organization_id: string;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

export interface FairSchedulerOptions {
  /** How long a slot stays held without renewal (LOCK_DURATION_MS): a dead worker's slots free after this. */
  leaseMs: number;
  /**
   * Jobs kept waiting in BullMQ for a worker while every slot is busy (idle slots are always filled); undefined =
   * as many as the live workers' slots. 0 decides every order at the last moment (strict priority), at the cost of
   * a dispatch per job.
   */
  backlog: number | undefined;
  /** BullMQ priority of a row (the queue's own rule). */
  priorityOf: (priority: number | null) => number;
  /** Called with every error of a dispatch nobody awaits. */
  onError: (err: unknown) => void;
  /** Added to every BullMQ entry's options (retention). */
  addOptions?: Record<string, unknown>;
  /** Most jobs one dispatch moves. */
  maxPick?: number;
}

export interface OrganizationFairness {
  id: string;
  weight: number;
  max_concurrency: number | null;
}

export interface OrganizationLoad {
  organization_id: string;
  waiting: number;
  running: number;
}

/** A job the pick chose, with its BullMQ priority. */
export interface FairPick {
  id: string;
  task: string;
  organization_id: string;
  priority: number;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

/** When a dispatch had to put a job back for a moment (its previous delivery was finishing), the next one runs this much later. */
const DEFERRED_RETRY_MS = 150;
const shas = new Map<string, string>();
function scriptSha(script: string): string {
  let sha = shas.get(script);
  if (!sha) shas.set(script, (sha = createHash('sha1').update(script).digest('hex')));
  return sha;
}

/** How long ended attempts of unbounded jobs are gathered before their dispatch, and how many at most. */
const RELEASE_BATCH_MS = 5;
const RELEASE_BATCH_MAX = 32;
/** Jobs staged per script call. */
const STAGE_CHUNK = 250;
/** Due jobs further away than this are left to the periodic tick rather than a timer of this process. */
const DUE_TIMER_HORIZON_MS = 60_000;

/**
 * Fair dispatch (SPEC F16): jobs are staged per organization in Redis and moved into the BullMQ queue a few at a
 * time, in weighted round robin between organizations and within the concurrency bounds, so the order is decided
 * when a worker is about to need work rather than when the job was created. See fair-scripts.ts for the keys.
 */
export class FairScheduler {
  private readonly base: string;
  private readonly routeKey: string;
  private readonly bullPrefix: string;
  private inFlight?: Promise<void>;
  private again = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  /** Slots of ended attempts, released by the next dispatch (in the same script call). */
  private releases: FairSlot[] = [];
  /** Organizations with a max_concurrency, as this process last read them (see `bounded`). */
  private withMax = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    prefix: string,
    private readonly opts: FairSchedulerOptions,
  ) {
    this.base = `${prefix}:fair`;
    this.routeKey = `${this.base}:job`;
    this.bullPrefix = queue.toKey('');
  }

  /**
   * Runs a script by its SHA1 (EVALSHA), loading it with EVAL when the server does not know it yet (first call, a
   * restarted Redis, a failover): the scripts are a few KB, which EVAL would send and Redis hash on every call.
   */
  private async run(script: string, args: (string | number)[]): Promise<unknown> {
    const sha = scriptSha(script);
    try {
      return await this.redis.evalsha(sha, 1, this.routeKey, this.base, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return this.redis.eval(script, 1, this.routeKey, this.base, ...args);
    }
  }

  /** Stages jobs in their organizations' queues (a job already staged keeps its place). Returns how many were new. */
  async stage(jobs: readonly FairJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const now = Date.now();
    let staged = 0;
    let firstDue = Infinity;
    // Chunked: one script call holds Redis for its whole length, dispatches of other organizations included.
    for (let i = 0; i < jobs.length; i += STAGE_CHUNK) {
      const args: (string | number)[] = [now];
      for (const j of jobs.slice(i, i + STAGE_CHUNK)) {
        const due = j.run_at && j.run_at.getTime() > now ? j.run_at.getTime() : 0;
        if (due) firstDue = Math.min(firstDue, due);
        const key = j.concurrency_key ?? '';
        args.push(j.id, j.organization_id, j.task, this.opts.priorityOf(j.priority), key, key ? (j.concurrency_limit ?? 1) : 0, due);
      }
      staged += Number(await this.run(STAGE, args));
    }
    if (firstDue < Infinity) this.dispatchAt(firstDue);
    return staged;
  }

  /** Asks for a dispatch without waiting for it; requests made while one runs are served by one more run after it. */
  requestDispatch(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.dispatchLoop().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async dispatchLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.dispatch();
      } catch (err) {
        this.opts.onError(err);
        return;
      }
    } while (this.again && !this.closed);
  }

  /** One fair pick and one addBulk of the picked jobs. Returns how many were added. */
  async dispatch(): Promise<number> {
    const most = this.opts.maxPick ?? 1000;
    const picks = await this.pick(most);
    if (picks.length > 0) {
      try {
        await this.queue.addBulk(
          picks.map((p) => ({
            name: p.task,
            data: { organization_id: p.organization_id, dispatched: true, ...(p.concurrency_key ? { concurrency_key: p.concurrency_key, concurrency_limit: p.concurrency_limit ?? 1 } : {}) },
            opts: { jobId: p.id, priority: p.priority, ...this.opts.addOptions },
          })),
        );
      } catch (err) {
        // The picks left staging and took slots: put them back (their slots go with the next call) rather than
        // leave them to the reconciler's next sweep with their keys held meanwhile.
        await this.restage(picks).catch(() => undefined);
        throw err;
      }
    }
    // A full pick may have left more room (the backlog target is above one pick): go on.
    if (picks.length >= most) this.again = true;
    return picks.length;
  }

  /**
   * The fair pick alone: up to `most` jobs leave staging with their slots taken and their dispatch marks set, in
   * the order they were chosen. The caller adds them to BullMQ (a crash in between is repaired by the reconciler).
   */
  async pick(most: number): Promise<FairPick[]> {
    const released = this.releases;
    this.releases = [];
    let out: (string | number)[];
    try {
      out = (await this.run(DISPATCH, [
        this.bullPrefix,
        Date.now(),
        this.opts.leaseMs,
        this.opts.backlog ?? -1,
        most,
        released.length,
        ...released.flatMap((s) => [s.id, s.organization_id, s.concurrency_key ?? '']),
      ])) as (string | number)[];
    } catch (err) {
      // Not released: they go with the next call, or lapse with their leases.
      this.releases.push(...released);
      throw err;
    }
    if (Number(out[0]) > 0) this.dispatchAt(Date.now() + DEFERRED_RETRY_MS);
    const picks: FairPick[] = [];
    for (let i = 1; i < out.length; i += 6) {
      const key = String(out[i + 4]);
      picks.push({ id: String(out[i]), task: String(out[i + 1]), organization_id: String(out[i + 2]), priority: Number(out[i + 3]), concurrency_key: key || null, concurrency_limit: key ? Number(out[i + 5]) : null });
    }
    return picks;
  }

  /** Runs a dispatch at `at` (the earliest of those asked for; later ones are left to the tick). */
  private dispatchAt(at: number): void {
    if (this.closed || at - Date.now() > DUE_TIMER_HORIZON_MS || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.requestDispatch();
      },
      Math.max(0, at - Date.now() + 1),
    );
    this.timer.unref();
  }

  /**
   * Before a delivery runs: the job keeps the slots it still holds (renewed) or takes free ones. False: no room
   * (its lease ran out and the slot went to another job, or a stalled re-run finds its key full): stage it again.
   */
  async admit(slot: FairSlot): Promise<boolean> {
    return Number(await this.run(ADMIT, [Date.now(), this.opts.leaseMs, slot.id, slot.organization_id, slot.concurrency_key ?? '', slot.concurrency_limit ?? 0])) === 1;
  }

  /** Whether the organization had a max_concurrency when this process last read the settings (its tick, every few seconds). */
  bounded(organizationId: string): boolean {
    return this.withMax.has(organizationId);
  }

  /**
   * The slots of an ended attempt go back with the next dispatch. A bounded one (a key, or an organization bound)
   * may let a waiting job in, so the dispatch is asked for at once; others are gathered for RELEASE_BATCH_MS, so a
   * busy worker dispatches a few jobs per call rather than one per finished job.
   */
  releaseLater(slot: FairSlot): void {
    this.releases.push(slot);
    if (slot.concurrency_key || this.withMax.has(slot.organization_id) || this.releases.length >= RELEASE_BATCH_MAX) this.requestDispatch();
    else this.dispatchAt(Date.now() + RELEASE_BATCH_MS);
  }

  /** Picks whose add failed go back to staging, and their slots are released with the next dispatch. */
  private async restage(picks: readonly FairPick[]): Promise<void> {
    await this.stage(picks.map((p) => ({ id: p.id, task: p.task, organization_id: p.organization_id, priority: p.priority, run_at: null, concurrency_key: p.concurrency_key, concurrency_limit: p.concurrency_limit })));
    this.releases.push(...picks.map((p) => ({ id: p.id, organization_id: p.organization_id, concurrency_key: p.concurrency_key, concurrency_limit: p.concurrency_limit })));
  }

  /** Extends the leases of slots still held by running attempts. */
  async renew(slots: readonly FairSlot[]): Promise<void> {
    if (slots.length === 0) return;
    await this.run(RENEW, [Date.now(), this.opts.leaseMs, ...slots.flatMap((s) => [s.id, s.organization_id, s.concurrency_key ?? ''])]);
  }

  /** Frees the slots of ended attempts; jobs parked behind them are staged again (the caller then dispatches). */
  async release(slots: readonly FairSlot[]): Promise<void> {
    if (slots.length === 0) return;
    await this.run(RELEASE, [Date.now(), ...slots.flatMap((s) => [s.id, s.organization_id, s.concurrency_key ?? ''])]);
  }

  /** Removes jobs from staging (cancel, delete, expiry); their dispatch marks too. */
  async unstage(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.run(UNSTAGE, [...ids]));
  }

  /** The ids among `ids` that are staged (waiting for their turn, their key, or their due time). */
  async staged(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const metas = await this.redis.hmget(this.routeKey, ...ids);
    return new Set(ids.filter((_, i) => metas[i] !== null));
  }

  /** The periodic pass: slots whose lease ran out let their waiting jobs in; then a dispatch. */
  async maintain(): Promise<void> {
    await this.run(MAINTAIN, [Date.now()]);
    await this.dispatch();
  }

  /** This worker's concurrency counts toward the automatic backlog target until `ttlMs` from now. */
  async registerCapacity(workerId: string, concurrency: number, ttlMs: number): Promise<void> {
    await this.redis.hset(`${this.base}:cap`, workerId, `${concurrency}:${Date.now() + ttlMs}`);
  }

  async unregisterCapacity(workerId: string): Promise<void> {
    await this.redis.hdel(`${this.base}:cap`, workerId);
  }

  /** Mirrors organization weights and bounds: `all` replaces every setting (organizations absent are default). */
  async applySettings(orgs: readonly OrganizationFairness[], all: boolean): Promise<void> {
    await this.run(SETTINGS, [all ? '1' : '0', ...orgs.flatMap((o) => [o.id, String(o.weight), o.max_concurrency === null ? '' : String(o.max_concurrency)])]);
    if (all) this.withMax = new Set();
    for (const o of orgs) {
      if (o.max_concurrency === null) this.withMax.delete(o.id);
      else this.withMax.add(o.id);
    }
    // A raised bound or weight takes effect at the next pick; held organizations are looked at by maintain.
    if (!all) await this.run(MAINTAIN, [Date.now()]);
  }

  /** Waiting (staged, ready or parked) and running jobs of every organization that has any. */
  async organizationLoads(): Promise<OrganizationLoad[]> {
    const out = (await this.run(GAUGES, [Date.now()])) as (string | number)[];
    const loads: OrganizationLoad[] = [];
    for (let i = 0; i < out.length; i += 3) loads.push({ organization_id: String(out[i]), waiting: Number(out[i + 1]), running: Number(out[i + 2]) });
    return loads;
  }

  /** How long a slot stays held without renewal. */
  get leaseMs(): number {
    return this.opts.leaseMs;
  }

  /** Stops timers and waits for the dispatch under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    // Releases still gathered for the next dispatch go now: a closing worker would otherwise leave its ended
    // attempts' slots held until their leases lapse.
    const released = this.releases.splice(0);
    if (released.length > 0) await this.release(released).catch(() => undefined);
  }
}
