import { z } from 'zod';
import type { JobStatus } from './status';
import { idPattern, type IdPrefix } from './ids';
import { findString } from './json-depth';

export const MAX_METADATA_BYTES = 16 * 1024;
/** Bounds of a job's concurrency_key / concurrency_limit (SPEC F16; the jobs table's CHECKs agree). */
export const MAX_CONCURRENCY_KEY_LENGTH = 200;
export const MAX_CONCURRENCY_LIMIT = 10_000;
/** Bounds of an organization's weight (SPEC F16; the organizations table's CHECK agrees). */
export const MAX_ORGANIZATION_WEIGHT = 100;
export const JOB_TYPES = ['job', 'run', 'batch'] as const;
export type JobType = (typeof JOB_TYPES)[number];
export const ROLES = ['member', 'admin', 'operator'] as const;
export type Role = (typeof ROLES)[number];

const idSchemas = new Map<IdPrefix, z.ZodString>();
/** One schema per prefix, built once: building a zod schema per request was ~4 % of a GET's CPU. */
export const idSchema = (prefix: IdPrefix): z.ZodString => {
  let schema = idSchemas.get(prefix);
  if (!schema) {
    schema = z.string().regex(idPattern(prefix), { message: `must be an id of the form ${prefix}-<uuid4>` });
    idSchemas.set(prefix, schema);
  }
  return schema;
};

const jsonObject = z.record(z.string(), z.unknown());

const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http or https URL' },
  );

const nullable = <T extends z.ZodTypeAny>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

export const createJobBodySchema = z
  .strictObject({
    task: z.string().min(1).max(200),
    input: jsonObject.nullish().transform((v) => v ?? {}),
    background: z.boolean().nullish().transform((v) => v ?? true),
    metadata: jsonObject
      .nullish()
      .transform((v) => v ?? {})
      .refine((v) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= MAX_METADATA_BYTES, {
        message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
      }),
    agent_id: nullable(z.string().min(1).max(255)),
    callback_url: nullable(httpUrl),
    priority: nullable(z.number().int().min(1).max(100)),
    max_attempts: z.number().int().min(1).max(25).nullish().transform((v) => v ?? 1),
    backoff_ms: z.number().int().min(1).max(3_600_000).nullish().transform((v) => v ?? 1000),
    timeout_ms: nullable(z.number().int().min(1).max(86_400_000)),
    delay_ms: nullable(z.number().int().min(0).max(2_592_000_000)),
    expires_at: nullable(
      z.iso
        .datetime({ offset: true, message: 'must be an ISO 8601 timestamp', abort: true })
        .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future' }),
    ),
    idempotency_key: nullable(z.string().min(1).max(255)),
    wait_ms: nullable(z.number().int().min(0).max(300_000)),
    concurrency_key: nullable(z.string().min(1).max(MAX_CONCURRENCY_KEY_LENGTH)),
    concurrency_limit: nullable(z.number().int().min(1).max(MAX_CONCURRENCY_LIMIT)),
  })
  .superRefine((body, ctx) => {
    if (body.wait_ms !== undefined && body.background) {
      ctx.addIssue({ code: 'custom', path: ['wait_ms'], message: 'is only allowed with background: false' });
    }
    // A key without a limit has no bound to keep, and a limit without a key nothing to count against.
    if (body.concurrency_key !== undefined && body.concurrency_limit === undefined) {
      ctx.addIssue({ code: 'custom', path: ['concurrency_limit'], message: 'is required with concurrency_key' });
    }
    if (body.concurrency_limit !== undefined && body.concurrency_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['concurrency_limit'], message: 'is only allowed with concurrency_key' });
    }
  });
export type CreateJobBody = z.output<typeof createJobBodySchema>;

/** What a jobs list asks for: the filter and the keyset page (the API parses it from the query string). */
export interface ListJobsQuery {
  status?: JobStatus[];
  job_type: JobType;
  task?: string;
  agent_id?: string;
  source_id?: string;
  background?: boolean;
  stop_reason?: string;
  user_id?: string;
  organization_id?: string;
  /** Inclusive bounds on created_at. */
  created_after?: Date;
  created_before?: Date;
  order: 'asc' | 'desc';
  limit: number;
  after?: string;
  before?: string;
}

export const createOrganizationBodySchema = z.strictObject({ name: z.string().min(1).max(200) });
/** PATCH /api/admin/organizations/{id}: an organization's fair share (SPEC F16); at least one field. */
export const updateOrganizationBodySchema = z
  .strictObject({
    weight: z.number().int().min(1).max(MAX_ORGANIZATION_WEIGHT).optional(),
    // null clears the bound; the upper bound is only the column's (a Postgres integer).
    max_concurrency: z.number().int().min(1).max(2_147_483_647).nullable().optional(),
  })
  .refine((b) => b.weight !== undefined || b.max_concurrency !== undefined, { message: 'must set weight or max_concurrency' });
export type UpdateOrganizationBody = z.output<typeof updateOrganizationBodySchema>;
export const createUserBodySchema = z.strictObject({ organization_id: idSchema('org'), name: z.string().min(1).max(200) });
export const createApiKeyBodySchema = z.strictObject({ user_id: idSchema('user'), role: z.enum(ROLES) });

/** Finds the first string (key or value) holding a NUL character or a lone surrogate; iterative (json-depth.ts). */
export function findUnsafeString(value: unknown): string[] | null {
  return findString(value, isUnsafeString);
}

function isUnsafeString(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\u0000/.test(s) || !s.isWellFormed();
}
