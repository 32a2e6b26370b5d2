import { Router, type Request, type Response } from 'express';
import { AppError, NotFoundError, ValidationError, createJobBodySchema, idSchema } from '@jobs/core';
import { pageLimitSchema } from '../query-schemas';
import { BatchStore } from '@jobs/db';
import { batchRequestsSchema } from '@jobs/tasks';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import type { JobCommands } from '../job-commands';
import { actorOf } from '../middleware/auth';
import { parse, pathId } from '../middleware/validate';
import { setNextLink } from '../pagination';
import type { RouteTable } from '../route-table';
import { jobRoutes } from './jobs';
import { toApiBatchItem } from '../presenters/batch';
import { toApiJob } from '../presenters/job';

/** `POST /api/batches` (API.md): 1..10000 requests with unique custom_ids, plus the Job's callback and metadata. */
export const createBatchBodySchema = z.strictObject({
  requests: batchRequestsSchema,
  callback_url: createJobBodySchema.shape.callback_url,
  metadata: createJobBodySchema.shape.metadata,
  idempotency_key: createJobBodySchema.shape.idempotency_key,
});

export const listBatchItemsQuerySchema = z.object({
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: pageLimitSchema,
  after: idSchema('batch_item').optional(),
  before: idSchema('batch_item').optional(),
});

/** A failed submission (provider down) is retried by the worker this many times, with backoff. */
const SUBMIT_ATTEMPTS = 3;
const SUBMIT_BACKOFF_MS = 5000;

/** The key from the body or the `Idempotency-Key` header; both given and different is the client's mistake. */
function idempotencyKeyOf(header: string | undefined, body: string | undefined): string | undefined {
  if (header === undefined) return body;
  if (body !== undefined && body !== header) throw new ValidationError([{ path: 'idempotency_key', message: 'differs from the Idempotency-Key header' }]);
  if (header.length === 0 || header.length > 255) throw new ValidationError([{ path: 'idempotency_key', message: 'Idempotency-Key must be 1..255 characters' }]);
  return header;
}

/**
 * The refusal while ENABLE_BATCH_JOB_POLLING=false. A configuration state, not an outage: its own problem type
 * (not `service-unavailable`) and no Retry-After, since retrying changes nothing until an operator acts.
 */
function batchesDisabled(): AppError {
  return new AppError(
    503,
    'LLM Batches Disabled',
    'LLM batches are disabled by configuration (ENABLE_BATCH_JOB_POLLING=false): this is not a transient outage, and ' +
      'retrying will not help until an operator enables the batch poller. Replays of batches created earlier are still answered.',
  );
}

/** LLM batches: create, read (as Jobs of job_type `batch`) and their items. */
export function batchRoutes(deps: AppDeps, commands: JobCommands, table: RouteTable): Router {
  const r = Router();
  const batches = new BatchStore(deps.db);

  table.add(r, 'post', '/api/batches', async (req: Request, res: Response) => {
    const body = parse(createBatchBodySchema, req.body);
    const idempotencyKey = idempotencyKeyOf(req.get('idempotency-key'), body.idempotency_key ?? undefined);
    const create = createJobBodySchema.parse({
      task: 'llm.batch',
      input: { requests: body.requests },
      metadata: body.metadata,
      callback_url: body.callback_url ?? null,
      max_attempts: SUBMIT_ATTEMPTS,
      backoff_ms: SUBMIT_BACKOFF_MS,
      ...(idempotencyKey ? { idempotency_key: idempotencyKey } : {}),
    });
    // Items exist (status `created`) before any worker can pick the job up.
    // With polling off nothing would ever end a new batch: refuse it rather than accept a Job that stays running
    // for 25 h. A replay of a batch created earlier (same key and body) still gets its Job, 409 for another body.
    const refuseNew = deps.settings.ENABLE_BATCH_JOB_POLLING ? {} : { refuseNew: batchesDisabled };
    const { job, created } = await commands.create(actorOf(req), create, 'batch', { afterInsert: (row) => batches.prepare(row.id, body.requests), ...refuseNew });
    res.setHeader('Location', `/api/jobs/${job.id}`);
    // The same key with the same body: the original Job, as for POST /api/jobs (API.md "Idempotency").
    res.status(created ? 201 : 200).json(toApiJob(job));
  });

  table.add(r, 'get', '/api/batches/:id/items', async (req: Request, res: Response) => {
    const job = await deps.jobs.get(actorOf(req), pathId('job', req.params['id']));
    if (job.job_type !== 'batch') throw new NotFoundError(`Batch ${job.id} not found`);
    const q = parse(listBatchItemsQuerySchema, req.query);
    const items = await batches.listItems(job.id, { limit: q.limit, order: q.order, ...(q.after ? { after: q.after } : {}), ...(q.before ? { before: q.before } : {}) });
    if (items.length === q.limit) {
      setNextLink(req, res, items[items.length - 1]!.id);
    }
    res.json(items.map(toApiBatchItem));
  });

  // GET /api/batches and /api/batches/{id}: the job routes for job_type `batch`, as /api/runs does for runs.
  r.use(jobRoutes(deps, commands, table, '/api/batches', 'batch'));
  return r;
}
