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
}

export interface JobError {
  message: string;
  code: string;
}

export interface JobProgress {
  percent: number;
  message: string | null;
}

/** The Job object of the REST contract. */
export interface ApiJob {
  id: string;
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
  user_id: string;
  organization_id: string;
  priority: number | null;
  attempts: number;
  max_attempts: number;
  backoff_ms: number;
  timeout_ms: number | null;
  delay_ms: number | null;
  expires_at: string | null;
  idempotency_key: string | null;
  callback_url: string | null;
  callback_sent_at: string | null;
  callback_status_code: number | null;
  callback_error: string | null;
  callback_attempts: number;
  ttft_ns: number | null;
  total_duration_ns: number | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
const num = (v: bigint | number | null): number | null => (v === null ? null : Number(v));

export function toApiJob(r: JobRow): ApiJob {
  return {
    id: r.id,
    job_type: r.job_type,
    task: r.task,
    status: r.status,
    stop_reason: r.stop_reason,
    background: r.background,
    input: r.input,
    result: r.result ?? null,
    error: r.error,
    progress: r.progress,
    metadata: r.metadata,
    agent_id: r.agent_id,
    user_id: r.user_id,
    organization_id: r.organization_id,
    priority: r.priority,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    backoff_ms: r.backoff_ms,
    timeout_ms: r.timeout_ms,
    delay_ms: num(r.delay_ms),
    expires_at: iso(r.expires_at),
    idempotency_key: r.idempotency_key,
    callback_url: r.callback_url,
    callback_sent_at: iso(r.callback_sent_at),
    callback_status_code: r.callback_status_code,
    callback_error: r.callback_error,
    callback_attempts: r.callback_attempts,
    ttft_ns: num(r.ttft_ns),
    total_duration_ns: num(r.total_duration_ns),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
  };
}

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
