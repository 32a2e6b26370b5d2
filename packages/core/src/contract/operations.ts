import { z } from 'zod';
import { nullableTimestamp, timestamp } from './common';

const upDown = z.enum(['ok', 'down']);

export const HealthSchema = z
  .strictObject({ status: z.enum(['ok', 'degraded']), checks: z.strictObject({ postgres: upDown, redis: upDown }) })
  .meta({ id: 'Health', description: '503 when degraded' });

export const LivenessSchema = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Liveness' });

/** The summary of the last cycle of the LLM batch poller. */
export const PollSummarySchema = z
  .strictObject({
    instance_id: z.string(),
    started_at: timestamp,
    finished_at: timestamp,
    duration_ms: z.number().min(0),
    batches_polled: z.number().int().min(0),
    batches_ended: z.number().int().min(0),
    poll_errors: z.number().int().min(0),
    items_updated: z.number().int().min(0),
    jobs_finished: z.number().int().min(0),
    cancels_requested: z.number().int().min(0),
  })
  .meta({ id: 'PollSummary' });

export const SchedulerStatusSchema = z
  .strictObject({
    leader: z.boolean().meta({ description: 'Some process holds the leader lock' }),
    leader_id: z.string().nullable(),
    lock_ttl_ms: z.number().int().min(1),
    lock_expires_in_ms: z
      .number()
      .int()
      .min(0)
      .nullable()
      .meta({ description: "How long the holder's lock has left; null when nobody leads" }),
    repeatable_jobs: z.array(
      z.strictObject({
        name: z.string(),
        every_ms: z.number().int().nullable(),
        next_run_at: nullableTimestamp,
        last_success_at: nullableTimestamp,
      }),
    ),
    last_poll: PollSummarySchema.nullable(),
    last_runs: z
      .record(z.string(), z.strictObject({ last_success_at: nullableTimestamp, last_error_at: nullableTimestamp }))
      .meta({ description: 'Every scheduled handler that is registered or ever ran, by name' }),
  })
  .meta({ id: 'SchedulerStatus' });
