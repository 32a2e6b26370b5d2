import { z } from 'zod';
import { JOB_STATUSES } from '../status';
import { JOB_TYPES, MAX_CONCURRENCY_LIMIT } from '../schemas';
import { idOf, jsonObject, jsonValue, nullableTimestamp, timestamp } from './common';

export const JobStatusSchema = z
  .enum(JOB_STATUSES)
  .meta({ id: 'JobStatus', description: 'See the state machine in SPEC.md' });
export const JobTypeSchema = z
  .enum(JOB_TYPES)
  .meta({ id: 'JobType', description: '`run`: an LLM run with steps and messages; `batch`: an LLM batch' });

export const JobErrorSchema = z
  .strictObject({ message: z.string(), code: z.string() })
  .meta({ id: 'JobError', description: 'The last failure' });
export const JobProgressSchema = z
  .strictObject({ percent: z.number(), message: z.string().nullable() })
  .meta({ id: 'JobProgress', description: 'The last progress the task reported' });

/** The Job object of API.md; also a run (`job_type: run`) and an LLM batch (`job_type: batch`). */
export const JobSchema = z
  .strictObject({
    id: idOf('job'),
    job_type: JobTypeSchema,
    task: z
      .string()
      .meta({
        description: 'The task handler: noop, sleep, http.request, anthropic.message, llm.batch, file.process, ...',
      }),
    status: JobStatusSchema,
    stop_reason: z
      .string()
      .nullable()
      .meta({ description: 'end_turn, max_steps, max_tokens_exceeded, error, llm_api_error, cancelled, timeout, ...' }),
    background: z.boolean(),
    input: jsonObject.meta({
      description:
        'The task input as validated, defaults applied. In lists, one larger than 16 KiB is replaced by {"truncated": true, "bytes": n}',
    }),
    result: jsonValue.meta({
      description: 'The task result once completed, else null (lists truncate it as they do input)',
    }),
    error: JobErrorSchema.nullable(),
    progress: JobProgressSchema.nullable(),
    metadata: jsonObject.meta({ description: "The caller's, free-form (at most 16 KiB)" }),
    agent_id: z.string().nullable(),
    user_id: idOf('user'),
    organization_id: idOf('org'),
    priority: z
      .number()
      .int()
      .min(1)
      .max(100)
      .nullable()
      .meta({ description: 'Lower runs first; null = normal, ranked as 50' }),
    attempts: z.number().int().min(0),
    max_attempts: z.number().int().min(1),
    backoff_ms: z.number().int().min(1),
    timeout_ms: z.number().int().min(1).nullable(),
    delay_ms: z.number().int().min(0).nullable(),
    expires_at: nullableTimestamp,
    idempotency_key: z.string().nullable(),
    callback_url: z.string().nullable(),
    callback_sent_at: nullableTimestamp,
    callback_status_code: z.number().int().nullable(),
    callback_error: z.string().nullable(),
    callback_attempts: z.number().int().min(0),
    ttft_ns: z.number().int().nullable(),
    total_duration_ns: z.number().int().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: nullableTimestamp,
    completed_at: nullableTimestamp,
    concurrency_key: z
      .string()
      .nullable()
      .meta({ description: 'At most concurrency_limit jobs of the organization with this key run at once, across every worker' }),
    concurrency_limit: z.number().int().min(1).max(MAX_CONCURRENCY_LIMIT).nullable(),
  })
  .meta({ id: 'Job', description: 'The Job object of API.md' });
export type ContractJob = z.infer<typeof JobSchema>;

/** One entry of a job's status history; creation is the first (`from: null, to: created`, attempt 0). */
export const JobEventSchema = z
  .strictObject({
    seq: z.number().int().min(1),
    from: JobStatusSchema.nullable(),
    to: JobStatusSchema,
    at: timestamp,
    attempt: z.number().int().min(0),
    worker_id: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'JobEvent' });
