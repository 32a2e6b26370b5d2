import type { JobStatus } from '@jobs/core';

/**
 * Per-row inputs a transition statement can take, in the order of its `unnest` columns. Each statement names
 * the ones it reads; its last parameter (after them) is the batch's allowed source statuses.
 */
export type TransitionColumn =
  | 'id'
  | 'attempt'
  | 'workerId'
  | 'reason'
  | 'runAt'
  | 'error'
  | 'setError'
  | 'stopReason'
  | 'result'
  | 'setResult'
  | 'run'
  | 'throughPending'
  | 'unlessExpired';

/** One named guarded status write: its whole SQL, the status it writes, and the per-row inputs it reads. */
export interface TransitionStatement {
  name: string;
  to: JobStatus;
  columns: readonly TransitionColumn[];
  text: string;
}
