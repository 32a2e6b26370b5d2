import type { JobStatus } from '@jobs/core';
import { iso, type AdminBatchRow, type BatchItemRow, type BatchItemStatus } from '@jobs/db';

/** An item of an LLM batch Job (API.md). */
export interface ApiBatchItem {
  id: string;
  custom_id: string;
  status: BatchItemStatus;
  result: unknown;
  error: unknown;
  updated_at: string;
}

/** A batch with its polling state, as the admin list shows it. */
export interface ApiBatchJob {
  job_id: string;
  organization_id: string;
  provider: string;
  provider_batch_id: string | null;
  status: JobStatus;
  processing_status: string;
  request_counts: Record<string, number> | null;
  last_polled_at: string | null;
  last_poll_error: string | null;
  created_at: string;
}

export function toApiBatchItem(r: BatchItemRow): ApiBatchItem {
  return {
    id: r.id,
    custom_id: r.custom_id,
    status: r.status,
    result: r.result,
    error: r.error,
    updated_at: iso(r.updated_at)!,
  };
}

export function toApiBatchJob(r: AdminBatchRow): ApiBatchJob {
  return {
    job_id: r.job_id,
    organization_id: r.organization_id,
    provider: r.provider,
    provider_batch_id: r.provider_batch_id,
    status: r.status,
    processing_status: r.processing_status,
    request_counts: r.request_counts,
    last_polled_at: iso(r.last_polled_at),
    last_poll_error: r.last_poll_error,
    created_at: iso(r.created_at)!,
  };
}
