import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from './logger';
import { eventLoopHangs, eventLoopLag, eventLoopSaturations } from './metrics';

export interface WatchdogOptions {
  /** How often the main loop sends a heartbeat (1 s). Lag is the heartbeat's lateness. */
  heartbeatMs?: number;
  /** How often the monitor thread looks for a missing heartbeat (SPEC: check_interval, 5 s). */
  checkIntervalMs?: number;
  /** Silence after which the loop counts as hung (SPEC: timeout_threshold, 15 s). */
  timeoutMs?: number;
  /** Lag above this counts as saturation (2 s). */
  saturationMs?: number;
  /** A new hang within this window of the previous one is reported as critical (10 min). */
  repeatWindowMs?: number;
  /** The job ids this process is running, sent with every heartbeat for the hang report. */
  runningJobIds?: () => string[];
  /** Where the monitor thread writes hang reports; stdout when unset (same stream as the JSON logs). */
  reportPath?: string;
  /** Fields every report carries, as the logger's default metadata does (service, worker id). */
  fields?: Record<string, unknown>;
}

/** What the monitor thread reports for a hang (also written as a JSON log line while the hang lasts). */
export interface HangReport {
  first: boolean;
  severity: 'error' | 'critical';
  detected_at: string;
  blocked_ms: number;
  hang_count: number;
  running_job_ids: string[];
  active_handles: number;
  memory: Record<string, number>;
}

type ThreadMessage = { type: 'hang'; report: HangReport } | { type: 'recovered'; blockedMs: number };

const THREAD_FILE = path.join(__dirname, '..', 'watchdog-thread.cjs');

/**
 * Event-loop watchdog (SPEC F12): heartbeats from the main loop, watched from a worker thread that
 * reports a hang while it lasts. Lag and saturation are measured here, on the main loop, from the
 * heartbeat timer's lateness. Neither the timer nor the thread keep the process alive.
 */
export class EventLoopWatchdog {
  private thread?: Worker;
  private notices: { id: string; running: boolean }[] = [];
  private noticeFlushQueued = false;
  private timer?: NodeJS.Timeout;
  private lastBeat = 0;
  private onlineSignal: Promise<unknown> = Promise.resolve();
  private readonly hangListeners: ((r: HangReport) => void)[] = [];
  private readonly opts: Required<Omit<WatchdogOptions, 'reportPath'>> & Pick<WatchdogOptions, 'reportPath'>;

  constructor(
    private readonly logger: Logger,
    options: WatchdogOptions = {},
  ) {
    this.opts = {
      heartbeatMs: 1000,
      checkIntervalMs: 5000,
      timeoutMs: 15000,
      saturationMs: 2000,
      repeatWindowMs: 10 * 60 * 1000,
      runningJobIds: () => [],
      fields: {},
      ...options,
    };
  }

  /** Resolves once the monitor thread runs (tests wait for it before blocking the loop). */
  async online(): Promise<void> {
    if (this.thread) await this.onlineSignal;
  }

  onHang(listener: (r: HangReport) => void): void {
    this.hangListeners.push(listener);
  }

  start(): void {
    if (this.thread) return;
    const { checkIntervalMs, timeoutMs, repeatWindowMs, reportPath, fields } = this.opts;
    this.thread = new Worker(THREAD_FILE, {
      workerData: { checkIntervalMs, timeoutMs, repeatWindowMs, reportPath, fields: { pid: process.pid, ...fields } },
      // The monitor is a few timers; a small heap keeps its cost visible in nothing.
      resourceLimits: { maxOldGenerationSizeMb: 16 },
    });
    this.thread.unref();
    this.onlineSignal = once(this.thread, 'online').catch(() => undefined);
    this.thread.on('message', (m: ThreadMessage) => this.heard(m));
    this.thread.on('error', (err) => this.logger.error('event loop watchdog failed', { err: err.message }));
    this.lastBeat = Date.now();
    this.beat(0);
    this.timer = setInterval(() => {
      const now = Date.now();
      const lagMs = Math.max(0, now - this.lastBeat - this.opts.heartbeatMs);
      this.lastBeat = now;
      this.beat(lagMs);
    }, this.opts.heartbeatMs);
    this.timer.unref();
  }

  /**
   * Tells the monitor at once that a job started or finished here. Heartbeats also carry the running
   * set, but a job that blocks the loop as soon as it starts would otherwise be missing from the report.
   */
  jobStarted(id: string): void {
    this.queueJobNotice(id, true);
  }

  jobFinished(id: string): void {
    this.queueJobNotice(id, false);
  }

  /**
   * Notices of one tick travel as one message: a message per transition cost ~3 % of a busy worker's CPU.
   * A start leaves before the loop can block on anything, since a blocking job blocks after this tick. A finish
   * only has to arrive eventually: it waits for the next start's message or the next heartbeat, which halves the
   * messages of a worker taking jobs one at a time (a hang report may then still name a job that ended less
   * than a heartbeat before it).
   */
  private queueJobNotice(id: string, running: boolean): void {
    if (!this.thread) return;
    this.notices.push({ id, running });
    if (!running || this.noticeFlushQueued) return;
    this.noticeFlushQueued = true;
    queueMicrotask(() => {
      this.noticeFlushQueued = false;
      this.flushJobNotices();
    });
  }

  private flushJobNotices(): void {
    if (this.notices.length === 0) return;
    const jobs = this.notices;
    this.notices = [];
    this.thread?.postMessage({ type: 'jobs', jobs });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const thread = this.thread;
    this.thread = undefined;
    if (thread) await thread.terminate();
  }

  private beat(lagMs: number): void {
    eventLoopLag.set(lagMs / 1000);
    if (lagMs > this.opts.saturationMs) {
      eventLoopSaturations.inc();
      this.logger.warn('event loop saturated', { lag_ms: lagMs, running_job_ids: this.opts.runningJobIds() });
    }
    const mem = process.memoryUsage();
    this.flushJobNotices();
    this.thread?.postMessage({
      type: 'beat',
      at: Date.now(),
      runningJobIds: this.opts.runningJobIds(),
      activeHandles: process.getActiveResourcesInfo().length,
      memory: { rss: mem.rss, heap_used: mem.heapUsed, heap_total: mem.heapTotal, external: mem.external },
    });
  }

  private heard(m: ThreadMessage): void {
    if (m.type === 'hang') {
      if (m.report.first) eventLoopHangs.inc();
      for (const l of this.hangListeners) l(m.report);
    } else {
      // The monitor already wrote the hang report; this line closes it with how long the loop was gone.
      this.logger.warn('event loop recovered', { blocked_ms: m.blockedMs });
    }
  }
}
