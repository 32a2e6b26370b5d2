import type { JobStatus } from '@jobs/core';
import type { Logger } from '@jobs/observability';

/** An attempt this process runs, as the watch sees it. */
export interface WatchedAttempt {
  id: string;
  attempt: number;
}

/** The row's state now; absent when the row is gone. */
export interface AttemptState {
  id: string;
  status: JobStatus;
  attempts: number;
}

export interface AttemptWatchOptions {
  intervalMs: number;
  /** The attempts running in this process right now. */
  running: () => WatchedAttempt[];
  /** One query for all of them. */
  read: (ids: string[]) => Promise<AttemptState[]>;
  /** The row left `running` for this attempt (or is gone): the attempt must stop. */
  movedOn: (attempt: WatchedAttempt, now: AttemptState | null) => void;
  logger: Logger;
}

/**
 * Cancel messages travel by pub/sub, which drops them for a subscriber that is reconnecting. This looks at
 * the rows of every attempt the process runs, in one query per interval, and stops those whose row moved on
 * (cancelled, deleted, or taken over by a newer attempt), so a missed message costs at most one interval.
 */
export class AttemptWatch {
  private timer?: NodeJS.Timeout;
  /** The check under way, if any: `stop` waits for it, so no query runs after the process disconnects. */
  private inFlight?: Promise<void>;

  constructor(private readonly opts: AttemptWatchOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.checkOnce(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the checks and resolves once the one under way (if any) has finished. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  async checkOnce(): Promise<void> {
    if (this.inFlight) return; // a slow query is not stacked up behind itself
    const attempts = this.opts.running();
    if (attempts.length === 0) return;
    this.inFlight = this.check(attempts);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async check(attempts: WatchedAttempt[]): Promise<void> {
    try {
      const rows = new Map((await this.opts.read(attempts.map((a) => a.id))).map((r) => [r.id, r]));
      for (const a of attempts) {
        const now = rows.get(a.id) ?? null;
        if (!now || now.status !== 'running' || now.attempts !== a.attempt) this.opts.movedOn(a, now);
      }
    } catch (err) {
      // Postgres unreachable: the attempts keep running; the outcome write's fence still protects the row.
      this.opts.logger.warn('running attempts check failed', { err: String(err) });
    }
  }
}
