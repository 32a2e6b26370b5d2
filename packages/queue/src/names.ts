/** Queue and channel names; every Redis key of the service lives under QUEUE_PREFIX. */
export const JOBS_QUEUE = 'jobs';
export const CALLBACKS_QUEUE = 'callbacks';
export const SCHEDULER_QUEUE = 'scheduler';

export const channels = (prefix: string) => ({
  /** Every status transition of every job (API waiters and event streams listen). */
  events: `${prefix}:bus:job-events`,
  /** Progress reports of running attempts (event streams listen; progress is also on the Job). */
  progress: `${prefix}:bus:job-progress`,
  /** Cancel requests for running attempts, heard by every worker. */
  cancel: `${prefix}:bus:cancel`,
  /** Revoked API key ids: every API process drops them from its key cache. */
  keyRevoked: `${prefix}:bus:key-revoked`,
});

export const leaderLockKey = (prefix: string) => `${prefix}:scheduler:leader`;

/** Every queue of the service: the dashboard shows them and /metrics counts them. Add new queues here. */
export const QUEUE_NAMES: readonly string[] = [JOBS_QUEUE, CALLBACKS_QUEUE, SCHEDULER_QUEUE];

/** Scheduled handler names (BullMQ job scheduler ids on SCHEDULER_QUEUE). */
export const POLL_LLM_BATCHES = 'poll-llm-batches';
export const SWEEP = 'sweep';
/** Recent scheduled runs (newest first, capped): which instance ran what, when. */
export const schedulerRunsKey = (prefix: string) => `${prefix}:scheduler:runs`;
/** The summary the last completed run of `name` returned (e.g. the poll cycle's metrics). */
export const schedulerLastRunKey = (prefix: string, name: string) => `${prefix}:scheduler:last:${name}`;
/** Hashes of handler name → epoch ms of its last successful / failed run, for the status route and /metrics. */
export const schedulerLastSuccessKey = (prefix: string) => `${prefix}:scheduler:last-success`;
export const schedulerLastErrorKey = (prefix: string) => `${prefix}:scheduler:last-error`;
