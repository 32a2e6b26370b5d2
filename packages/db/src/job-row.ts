import type { JobStatus } from '@jobs/core';

/** A row of `jobs` as raw SQL returns it (snake_case, the database's own types). */
export interface JobRow {
  id: string;
  organization_id: string;
  user_id: string;
  job_type: string;
  task: string;
  status: JobStatus;
  stop_reason: string | null;
  background: boolean;
  input: Record<string, unknown>;
  result: unknown;
  error: JobError | null;
  progress: JobProgress | null;
  metadata: Record<string, unknown>;
  agent_id: string | null;
  source_id: string | null;
  priority: number | null;
  attempts: number;
  max_attempts: number;
  backoff_ms: number;
  timeout_ms: number | null;
  delay_ms: bigint | number | null;
  run_at: Date | null;
  expires_at: Date | null;
  idempotency_key: string | null;
  idempotency_hash: string | null;
  callback_url: string | null;
  callback_pending: boolean;
  callback_webhook_id: string | null;
  callback_sent_at: Date | null;
  callback_status_code: number | null;
  callback_error: string | null;
  callback_attempts: number;
  ttft_ns: bigint | number | null;
  total_duration_ns: bigint | number | null;
  event_seq: number;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  /** Who finishes a running job when its worker handed it off (e.g. the LLM batch poller); null otherwise. */
  completion_owner?: string | null;
  /** UTF-8 bytes of input's / result's JSON as the API writes it; null on rows written before they existed. */
  input_bytes?: number | null;
  result_bytes?: number | null;
  /** At most concurrency_limit running jobs of the organization share this key (SPEC F16); both null or both set. */
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

export interface JobError {
  message: string;
  code: string;
}

export interface JobProgress {
  percent: number;
  message: string | null;
}

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** One entry of a job's status history. */
export interface JobEvent {
  seq: number;
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  attempt: number;
  worker_id: string | null;
  reason: string | null;
}
