import { z } from 'zod';
import { timestamp } from './common';

/** One delivery attempt of a job's callback, as `GET /api/jobs/{id}/callback/attempts` lists them. */
export const CallbackAttemptSchema = z
  .strictObject({
    webhook_id: z.string().meta({ description: 'The `webhook-id` of the series; a redelivery keeps it' }),
    attempt: z.number().int().min(1).meta({ description: 'The attempt number within its series' }),
    at: timestamp,
    status_code: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when none came" }),
    error: z.string().nullable().meta({ description: 'Why the attempt failed; null when it was delivered' }),
    duration_ms: z.number().int().min(0),
    response_excerpt: z
      .string()
      .nullable()
      .meta({ description: "The start of the receiver's response body (an addition to API.md)" }),
  })
  .meta({ id: 'CallbackAttempt' });

/** The answer of `POST /api/admin/callbacks/redeliver`. */
export const RedeliverySchema = z
  .strictObject({ series: z.number().int().min(0).meta({ description: 'Delivery series queued again' }) })
  .meta({ id: 'Redelivery' });
