import { z } from 'zod';
import { JOB_STATUSES, JOB_TYPES, idSchema, type ListJobsQuery } from '@jobs/core';

// Query-string parsing is HTTP shaping: it lives with the routes, not in core (which holds the parsed forms).

const csvList = <T extends string>(item: z.ZodType<T, string>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    // An empty list would silently match nothing; like the other empty query parameters it is a 400.
    .pipe(z.array(item).min(1, 'must name at least one value'));

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

/** `limit` of every paginated list: a query-string integer 1..1000, default 100. */
export const pageLimitSchema = z
  .string()
  .regex(/^\d+$/, 'must be an integer')
  .transform(Number)
  .pipe(z.number().int().min(1).max(1000))
  .default(100);

/** A created_at bound: an ISO 8601 timestamp with a zone (a bare local time would depend on the server's zone). */
const timestampParam = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 timestamp with a zone' })
  .transform((v) => new Date(v));

export const listJobsQuerySchema = z.object({
  status: csvList(z.enum(JOB_STATUSES)).optional(),
  job_type: z.enum(JOB_TYPES).default('job'),
  task: z.string().min(1).optional(),
  agent_id: z.string().min(1).optional(),
  source_id: z.string().min(1).optional(),
  background: boolParam.optional(),
  stop_reason: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  organization_id: idSchema('org').optional(),
  created_after: timestampParam.optional(),
  created_before: timestampParam.optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: pageLimitSchema,
  after: idSchema('job').optional(),
  before: idSchema('job').optional(),
})
  .refine((q) => !q.created_after || !q.created_before || q.created_after <= q.created_before, {
    path: ['created_after'],
    message: 'must not be later than created_before',
  }) satisfies z.ZodType<ListJobsQuery, unknown>;

/** Keyset page of a run's steps or messages: conversation order by default (`asc`), cursors are their ids. */
const runPageQuery = (prefix: 'step' | 'message') =>
  z.object({
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: pageLimitSchema,
    after: idSchema(prefix).optional(),
    before: idSchema(prefix).optional(),
  });
export const listRunMessagesQuerySchema = runPageQuery('message');
export const listRunStepsQuerySchema = runPageQuery('step');

/** The users list: creation order by default (as the API keys list), cursors are user ids. */
export const listUsersQuerySchema = z.object({
  organization_id: idSchema('org').optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: pageLimitSchema,
  after: idSchema('user').optional(),
  before: idSchema('user').optional(),
});
