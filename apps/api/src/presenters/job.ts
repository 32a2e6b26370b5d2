import type { JobStatus } from '@jobs/core';
import { iso, type JobError, type JobProgress, type JobRow } from '@jobs/db';

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
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

const num = (v: bigint | number | null): number | null => (v === null ? null : Number(v));

/** A jobs row as the REST contract's Job: timestamps as ISO strings, bigints as numbers. */
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
    concurrency_key: r.concurrency_key,
    concurrency_limit: r.concurrency_limit,
  };
}
