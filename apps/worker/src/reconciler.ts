import type { JobStore, ReconcilerCandidate, ReconcilerCursor, ReconcilerStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import type { Enqueueable, JobQueue } from '@jobs/queue';

/** What one sweep did; every count is of writes that won their guard (or enqueues that were needed). */
export interface ReconcilerReport {
  /** Rows past `expires_at` before they ever ran, now `expired`. */
  expired: number;
  /** `created`/`pending` rows that had no live queue entry (nor a place in fair staging) and were enqueued (staged) again. */
  enqueued: number;
  /** `created` rows whose queue entry existed (the API died before writing `pending`), now `pending`. */
  promoted: number;
  /** `running` rows whose queue entry was gone or finished: the attempt was closed and the job requeued. */
  recovered: number;
  /** Active rows looked at. */
  scanned: number;
  /** Counts reported by the extra steps, by step name (-1 when the step threw). */
  extra: Record<string, number>;
  durationMs: number;
}

/**
 * A step another module adds to every sweep (e.g. re-enqueueing callbacks of terminal rows). It returns
 * how many things it fixed; it must be idempotent and safe to run in several processes at once.
 */
export interface ReconcilerStep {
  name: string;
  run(): Promise<number>;
}

export interface ReconcilerOptions {
  /** Rows younger than this are left alone: their creator or worker may be between two steps. */
  minAgeMs?: number;
  pageSize?: number;
  /** Upper bound of rows looked at per sweep; a longer backlog is covered over the next sweeps. */
  maxRowsPerSweep?: number;
  workerId?: string | null;
  steps?: ReconcilerStep[];
  /** MAX_STALLED_COUNT (default 1): a recovered running row re-runs only within its attempt budget. */
  maxStalledCount?: number;
}

/** Queue states in which a BullMQ entry will still (or is about to) run the job; `staged`: fair dispatch holds it for its turn. */
const LIVE_STATES = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'active', 'waiting-children', 'paused', 'staged']);

/**
 * The reconciler (SPEC F4): Postgres is the truth, Redis the work to do, and this makes Redis agree again
 * after an API crash between insert and enqueue, a lost Redis, or a worker whose queue entry vanished.
 * Every write is a guarded transition and every enqueue uses the row id as the BullMQ id, so any number of
 * processes may sweep at once and a sweep may be repeated at any time.
 */
export class Reconciler {
  private readonly steps: ReconcilerStep[];
  private readonly minAgeMs: number;
  private readonly pageSize: number;
  private readonly maxRows: number;
  private readonly workerId: string | null;
  private readonly maxStalledCount: number;
  /** Where the last sweep stopped when it hit maxRowsPerSweep; the next one carries on from there. */
  private resumeAt: ReconcilerCursor | null = null;

  constructor(
    private readonly store: ReconcilerStore,
    private readonly jobs: JobStore,
    private readonly queue: JobQueue,
    private readonly logger: Logger,
    opts: ReconcilerOptions = {},
  ) {
    this.minAgeMs = opts.minAgeMs ?? 5000;
    // One Redis call reads the queue states of a whole page and may have to read a long wait list once to do it,
    // so fewer, larger pages cost Redis less (100,000 stale rows: 64 s with pages of 200, 16 s with 1,000).
    this.pageSize = opts.pageSize ?? 1000;
    this.maxRows = opts.maxRowsPerSweep ?? 10_000;
    this.workerId = opts.workerId ?? null;
    this.maxStalledCount = opts.maxStalledCount ?? 1;
    this.steps = [...(opts.steps ?? [])];
  }

  /** Adds a step that runs after the built-in ones on every sweep. */
  addStep(step: ReconcilerStep): void {
    this.steps.push(step);
  }

  async sweepOnce(): Promise<ReconcilerReport> {
    const started = Date.now();
    const report: ReconcilerReport = { expired: 0, enqueued: 0, promoted: 0, recovered: 0, scanned: 0, extra: {}, durationMs: 0 };
    report.expired = await this.expireOverdue();
    await this.reconcile(report);
    // Fair dispatch's own safety pass too: slots of dead workers lapse, due jobs move in.
    if (this.queue.fair) {
      try {
        await this.queue.fair.maintain();
      } catch (err) {
        this.logger.warn('fair dispatch pass failed', { err: String(err) });
      }
    }
    for (const step of this.steps) {
      try {
        report.extra[step.name] = await step.run();
      } catch (err) {
        report.extra[step.name] = -1;
        this.logger.warn('sweep step failed', { step: step.name, err: String(err) });
      }
    }
    report.durationMs = Date.now() - started;
    const acted = report.expired + report.enqueued + report.promoted + report.recovered;
    if (acted > 0) this.logger.info('sweep repaired jobs', { ...report });
    else this.logger.debug('sweep found nothing to repair', { ...report });
    return report;
  }

  private async expireOverdue(): Promise<number> {
    let n = 0;
    for (;;) {
      const rows = await this.store.expiredBeforeStart(this.pageSize);
      let won = 0;
      for (const { id } of rows) {
        const done = await this.jobs.transition(id, 'expired', {
          from: ['created', 'pending'],
          stopReason: 'expired',
          workerId: this.workerId,
          reason: 'expires_at passed before start (reconciler)',
        });
        if (!done) continue;
        won++;
        // The row is the record; a leftover queue entry would only be skipped at pick-up, so removing it is tidiness.
        await this.queue.removeIfWaiting(id).catch(() => undefined);
      }
      n += won;
      // A full page where nothing changed means other reconciler instances hold the rest; they will finish it.
      if (rows.length < this.pageSize || won === 0) return n;
    }
  }

  private async reconcile(report: ReconcilerReport): Promise<void> {
    let cursor = this.resumeAt;
    this.resumeAt = null;
    while (report.scanned < this.maxRows) {
      const page = await this.store.staleActive(this.minAgeMs, cursor, Math.min(this.pageSize, this.maxRows - report.scanned));
      if (page.length === 0) return;
      report.scanned += page.length;
      await this.reconcilePage(page, report);
      const last = page[page.length - 1]!;
      cursor = { updatedAt: last.updated_at, id: last.id };
    }
    this.resumeAt = cursor;
  }

  /**
   * One page of stale rows with a fixed number of Redis round trips whatever its size: one for the queue states
   * of all rows, one to add back every row whose queue entry is gone without a trace. A row with a finished or
   * orphaned entry still goes through `requeue` on its own (rare: the entry must be removed first). Postgres
   * writes stay one guarded transition per row, in the order the per-row version made them.
   */
  private async reconcilePage(page: readonly ReconcilerCandidate[], report: ReconcilerReport): Promise<void> {
    const states = await this.queue.states(page.map((r) => r.id));
    const toAdd: Enqueueable[] = [];
    const addBack = async (row: Enqueueable, state: string) => {
      if (state === 'missing') toAdd.push(row);
      else await this.queue.requeue(row);
    };
    const created: { row: ReconcilerCandidate; live: boolean }[] = [];

    for (const row of page) {
      const state = states.get(row.id) ?? 'missing';
      const live = LIVE_STATES.has(state);
      const log = { job_id: row.id, status: row.status, queue_state: state === 'missing' ? 'unknown' : state };

      if (row.status === 'running') {
        if (live) continue; // a live worker holds it, or BullMQ's stall checker will hand it to one
        const recovered = await this.jobs.recoverLostAttempt(row.id, row.attempts, {
          maxStalledCount: this.maxStalledCount,
          workerId: this.workerId,
          reason: `attempt ${row.attempts} recovered by reconciler: queue entry ${state === 'unknown' || state === 'missing' ? 'missing' : state}`,
        });
        if (!recovered) continue;
        if (recovered.verdict === 'worker_lost') {
          this.logger.error('job failed: its attempts keep losing their worker', { ...log, attempt: row.attempts });
          continue;
        }
        await addBack(recovered.job, state);
        report.recovered++;
        this.logger.warn('recovered running job without a live queue entry', log);
        continue;
      }

      if (!live) {
        await addBack(row, state);
        report.enqueued++;
        this.logger.warn('enqueued job missing from the queue', log);
      }
      if (row.status === 'created') created.push({ row, live });
    }

    // Added before the `created → pending` writes below, as the per-row version did: a row is `pending` only once queued.
    await this.queue.enqueueMany(toAdd);
    for (const { row, live } of created) {
      const pending = await this.jobs.transition(row.id, 'pending', { from: ['created'], workerId: this.workerId, reason: 'queued by reconciler' });
      if (pending && live) report.promoted++;
    }
  }
}
