/**
 * The job status state machine (SPEC F2). Every status write in the service asks this module
 * which source statuses may lead to the target; the database write then guards on that set.
 */
export const JOB_STATUSES = ['created', 'pending', 'running', 'completed', 'failed', 'cancelled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled', 'expired'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export const ACTIVE_STATUSES = ['created', 'pending', 'running'] as const satisfies readonly JobStatus[];

const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  created: ['pending', 'running', 'failed', 'cancelled', 'expired'],
  pending: ['running', 'failed', 'cancelled', 'expired'],
  running: ['completed', 'failed', 'cancelled', 'expired', 'pending'],
  completed: [],
  failed: [],
  cancelled: [],
  expired: [],
};

/** Terminal statuses from which `POST /retry` may start a new attempt. */
export const RETRYABLE_STATUSES = ['failed', 'cancelled', 'expired'] as const satisfies readonly JobStatus[];

export function isTerminal(status: JobStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses a row may be in for a write to `to` to be allowed. */
export function allowedSources(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => canTransition(from, to));
}

/** A retry is the one way out of a terminal status; it is modelled apart from the table. */
export function canRetry(from: JobStatus): boolean {
  return (RETRYABLE_STATUSES as readonly string[]).includes(from);
}
