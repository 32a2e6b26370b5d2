import type { CallbackAttemptRow } from '@jobs/db';

/** An attempt of `GET /api/jobs/{id}/callback/attempts`; `response_excerpt` is an addition to the contract. */
export interface ApiCallbackAttempt {
  webhook_id: string;
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
}

export function toApiCallbackAttempt(row: CallbackAttemptRow): ApiCallbackAttempt {
  return {
    webhook_id: row.webhook_id,
    attempt: row.attempt,
    at: row.at.toISOString(),
    status_code: row.status_code,
    error: row.error,
    duration_ms: row.duration_ms,
    response_excerpt: row.response_excerpt,
  };
}
