import type { Logger } from '@jobs/observability';
import type { Sweeper } from './sweeper';

export interface SweepLoop {
  /** Stops the timer and waits for a sweep in progress to end. */
  stop(): Promise<void>;
}

/**
 * Runs the sweep at start and then every `intervalMs` (never two at once in this process). This is the one
 * place that decides when sweeps happen; the scheduler's leader-only repeatable job can replace it and
 * call `sweeper.sweepOnce()` itself.
 */
export function startSweepLoop(sweeper: Sweeper, intervalMs: number, logger: Logger): SweepLoop {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    current = sweeper.sweepOnce().then(
      () => undefined,
      (err: unknown) => {
        logger.warn('sweep failed; retrying at the next interval', { err: String(err) });
      },
    );
    void current.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
