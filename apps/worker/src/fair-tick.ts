import type { Logger } from '@jobs/observability';
import type { FairScheduler, OrganizationFairness } from '@jobs/queue';

export interface FairTickOptions {
  workerId: string;
  /** This worker's WORKER_CONCURRENCY: the automatic backlog target counts it while the worker lives. */
  concurrency: number;
  intervalMs: number;
  /** Organization weights and bounds as Postgres has them. */
  loadSettings: () => Promise<OrganizationFairness[]>;
  /** How often they are read again (a PATCH also pushes its organization at once). */
  settingsEveryMs: number;
  logger: Logger;
}

/**
 * The safety net of fair dispatch, in every worker: announces the worker's concurrency, lets in jobs whose key
 * or organization had its slots freed by an expired lease (a dead worker), moves due jobs in, dispatches, and
 * mirrors organization settings from Postgres. Every step is idempotent, so any number of workers run it.
 */
export class FairTick {
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private settingsAt = 0;

  constructor(
    private readonly fair: FairScheduler,
    private readonly opts: FairTickOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.tickOnce();
    this.timer = setInterval(() => void this.tickOnce(), this.opts.intervalMs);
    this.timer.unref();
  }

  async tickOnce(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = this.tick().finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  private async tick(): Promise<void> {
    try {
      if (Date.now() - this.settingsAt >= this.opts.settingsEveryMs) {
        await this.fair.applySettings(await this.opts.loadSettings(), true);
        this.settingsAt = Date.now();
      }
    } catch (err) {
      this.opts.logger.warn('organization fairness settings refresh failed; the last ones stay', { err: String(err) });
    }
    try {
      await this.fair.registerCapacity(this.opts.workerId, this.opts.concurrency, 3 * this.opts.intervalMs + 2000);
      await this.fair.maintain();
    } catch (err) {
      this.opts.logger.warn('fair dispatch tick failed', { err: String(err) });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.fair.unregisterCapacity(this.opts.workerId).catch(() => undefined);
  }
}
