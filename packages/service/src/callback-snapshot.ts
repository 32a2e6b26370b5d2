import type { DeliveryRow, JobRow } from '@jobs/db';
import type { CallbackJobData } from '@jobs/queue';

/** The queued form of a job's pending series, taken at its terminal transition; null when it has no callback. */
export function callbackSnapshot(row: JobRow): CallbackJobData | null {
  if (!row.callback_url || !row.callback_webhook_id) return null;
  return {
    job_id: row.id,
    organization_id: row.organization_id,
    webhook_id: row.callback_webhook_id,
    callback_url: row.callback_url,
    status: row.status,
    stop_reason: row.stop_reason,
    completed_at: row.completed_at ? new Date(row.completed_at).toISOString() : null,
    metadata: row.metadata,
  };
}

/** The queued form of a series row (the sweep queues series whose job may be gone). */
export function deliverySnapshot(row: DeliveryRow): CallbackJobData {
  return {
    job_id: row.job_id,
    organization_id: row.organization_id,
    webhook_id: row.webhook_id,
    callback_url: row.callback_url,
    status: row.status,
    stop_reason: row.stop_reason,
    completed_at: row.completed_at ? new Date(row.completed_at).toISOString() : null,
    metadata: row.metadata,
  };
}
