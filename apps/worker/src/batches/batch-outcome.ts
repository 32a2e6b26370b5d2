import type { BatchItemStatus, JobError } from '@jobs/db';

export interface BatchCounts {
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export interface BatchOutcome {
  status: 'completed' | 'cancelled' | 'expired' | 'failed';
  stopReason: string;
  result: { total: number; counts: BatchCounts };
  error: JobError | null;
}

/**
 * The batch Job's terminal status from its items (SPEC F8, API.md): completed when any succeeded,
 * cancelled when all were canceled, expired when all expired, otherwise failed.
 */
export function batchOutcome(items: Record<BatchItemStatus, number>): BatchOutcome {
  const counts: BatchCounts = { succeeded: items.succeeded, errored: items.errored, canceled: items.canceled, expired: items.expired };
  const total = counts.succeeded + counts.errored + counts.canceled + counts.expired;
  const result = { total, counts };
  if (counts.succeeded > 0) return { status: 'completed', stopReason: 'end_turn', result, error: null };
  if (total > 0 && counts.canceled === total) return { status: 'cancelled', stopReason: 'cancelled', result, error: null };
  if (total > 0 && counts.expired === total) return { status: 'expired', stopReason: 'expired', result, error: null };
  const message = `no request of the batch succeeded (errored ${counts.errored}, canceled ${counts.canceled}, expired ${counts.expired})`;
  return { status: 'failed', stopReason: 'error', result, error: { message, code: 'batch_failed' } };
}
