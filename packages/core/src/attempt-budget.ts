/**
 * How many times a job may run (SPEC F4). A lost attempt (its worker died, or stopped renewing its lock)
 * counts like any other; it is run again while `attempts < max_attempts`, and then `maxStalledCount` more
 * times, so one crash never fails a job but a job that kills every worker taking it stops.
 */
export type LostAttemptVerdict = 'retry' | 'worker_lost';

/** The highest `max_attempts` a create accepts (createJobBodySchema); BullMQ's own stall limit sits above it. */
export const MAX_ATTEMPTS_CAP = 25;

export function lostAttemptVerdict(attempts: number, maxAttempts: number, maxStalledCount: number): LostAttemptVerdict {
  return attempts < maxAttempts + maxStalledCount ? 'retry' : 'worker_lost';
}
