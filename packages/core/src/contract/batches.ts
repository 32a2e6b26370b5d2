import { z } from 'zod';
import { idOf, jsonValue, nullableTimestamp, timestamp } from './common';
import { JobStatusSchema } from './jobs';

const ITEM_STATUSES = ['created', 'submitted', 'succeeded', 'errored', 'canceled', 'expired'] as const;

/** One request of an LLM batch and its outcome. */
export const BatchItemSchema = z
  .strictObject({
    id: idOf('batch_item'),
    custom_id: z.string(),
    status: z.enum(ITEM_STATUSES),
    result: jsonValue.meta({
      description:
        'The provider\'s result object for the item (for Anthropic: {"type": "succeeded", "message": {...}} and the like), else null',
    }),
    error: jsonValue.meta({ description: 'The error of an errored item, else null' }),
    updated_at: timestamp,
  })
  .meta({ id: 'BatchItem' });

/** An LLM batch with its polling state, as `GET /api/admin/batch-jobs` lists it. */
export const AdminBatchJobSchema = z
  .strictObject({
    job_id: idOf('job'),
    organization_id: idOf('org'),
    provider: z.string(),
    provider_batch_id: z.string().nullable().meta({ description: 'null until submitted' }),
    status: JobStatusSchema.meta({ description: "The Job's status" }),
    processing_status: z.string().meta({ description: "The provider's processing status" }),
    request_counts: z.record(z.string(), z.number().int()).nullable(),
    last_polled_at: nullableTimestamp,
    last_poll_error: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'AdminBatchJob' });
