import { Router, type Request, type Response } from 'express';
import { AppError, DependencyDownError, NotFoundError, ValidationError, createJobBodySchema, isTerminal, type JobStatus, type JobType } from '@jobs/core';
import { listJobsQuerySchema } from '../query-schemas';
import { type JobEvent, type JobRow } from '@jobs/db';
import type { BusEvent, ProgressMessage } from '@jobs/queue';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import type { JobCommands } from '../job-commands';
import { actorOf } from '../middleware/auth';
import { problemOf } from '../middleware/problem';
import { parse, pathId } from '../middleware/validate';
import { setNextLink } from '../pagination';
import type { RouteTable } from '../route-table';
import { toApiJob } from '../presenters/job';

const DEFAULT_WAIT_MS = 30_000;
const SSE_KEEPALIVE_MS = 15_000;

/**
 * Query of `GET …/{id}/events`. API.md's stream is status frames only; progress frames (no id, not replayable)
 * are an addition a client asks for, so a client or checker that reads every `data:` line as a status event
 * never sees them unasked.
 */
export const jobEventsQuerySchema = z.object({
  progress: z.enum(['true', 'false']).optional().describe('SSE only: also send `event: progress` frames (no id), as reported'),
});

/** Job routes of API.md; `jobType` lets /api/runs reuse them for `run` records. */
export function jobRoutes(deps: AppDeps, commands: JobCommands, table: RouteTable, base = '/api/jobs', jobType: JobType = 'job'): Router {
  const r = Router();

  if (jobType === 'job') {
    table.add(r, 'post', base, async (req: Request, res: Response) => {
      const headerKey = req.get('idempotency-key');
      const body = parse(createJobBodySchema, req.body);
      if (headerKey !== undefined) {
        if (body.idempotency_key !== undefined && body.idempotency_key !== headerKey) {
          throw new ValidationError([{ path: 'idempotency_key', message: 'differs from the Idempotency-Key header' }]);
        }
        if (headerKey.length === 0 || headerKey.length > 255) throw new ValidationError([{ path: 'idempotency_key', message: 'Idempotency-Key must be 1..255 characters' }]);
        body.idempotency_key = headerKey;
      }
      const actor = actorOf(req);
      const { job, created } = await commands.create(actor, body);
      res.setHeader('Location', `${base}/${job.id}`);
      if (!created) return res.status(200).json(toApiJob(job));
      if (!body.background) {
        // The job is queued and will run: an outage while waiting answers 202 with the job as last seen, never a 5xx.
        const done = await commands.waitForTerminal(job.id, body.wait_ms ?? DEFAULT_WAIT_MS).catch((err: unknown) => {
          if (err instanceof AppError && err.status < 500) throw err;
          deps.logger.warn('waiting for a created job failed; answering 202', { job_id: job.id, err: String(err) });
          return job;
        });
        return res.status(isTerminal(done.status) ? 200 : 202).json(toApiJob(done));
      }
      return res.status(201).json(toApiJob(job));
    });
  }

  const list = (activeOnly: boolean) => async (req: Request, res: Response) => {
    const raw: Record<string, unknown> = { ...(req.query as Record<string, unknown>), job_type: jobType === 'job' ? (req.query['job_type'] ?? 'job') : jobType };
    if (activeOnly && raw['order'] === undefined) raw['order'] = 'asc';
    const query = parse(listJobsQuerySchema, raw);
    const rows = await deps.jobs.list(actorOf(req), query, { activeOnly });
    if (rows.length === query.limit) {
      setNextLink(req, res, rows[rows.length - 1]!.id);
    }
    res.json(rows.map(toApiJob));
  };
  table.add(r, 'get', base, list(false));
  table.add(r, 'get', `${base}/active`, list(true));

  const own = async (req: Request): Promise<JobRow> => {
    const job = await deps.jobs.get(actorOf(req), pathId('job', req.params['id']));
    // Under /api/runs a job of another type does not exist (its id has the right shape, so not a 400).
    if (jobType !== 'job' && job.job_type !== jobType) throw new NotFoundError(`No ${jobType} ${job.id}`);
    return job;
  };

  table.add(r, 'get', `${base}/:id`, async (req: Request, res: Response) => {
    res.json(toApiJob(await own(req)));
  });

  if (jobType !== 'job') return r;

  table.add(r, 'patch', `${base}/:id/cancel`, async (req: Request, res: Response) => {
    res.json(toApiJob(await commands.cancel(actorOf(req), pathId('job', req.params['id']))));
  });
  table.add(r, 'post', `${base}/:id/retry`, async (req: Request, res: Response) => {
    res.json(toApiJob(await commands.retry(actorOf(req), pathId('job', req.params['id']))));
  });
  table.add(r, 'delete', `${base}/:id`, async (req: Request, res: Response) => {
    res.json(toApiJob(await commands.delete(actorOf(req), pathId('job', req.params['id']))));
  });
  table.add(r, 'get', `${base}/:id/events`, async (req: Request, res: Response) => {
    const actor = actorOf(req);
    const id = pathId('job', req.params['id']);
    const query = parse(jobEventsQuerySchema, req.query);
    if (!(req.get('accept') ?? '').includes('text/event-stream')) {
      return res.json(await deps.jobs.events(actor, id));
    }
    await streamEvents(deps, req, res, actor, id, query.progress === 'true');
  });
  return r;
}

/** Server-Sent Events: history first, then live events, ending after the terminal one. */
async function streamEvents(
  deps: AppDeps,
  req: Request,
  res: Response,
  actor: ReturnType<typeof actorOf>,
  id: string,
  withProgress: boolean,
): Promise<void> {
  await deps.jobs.get(actor, id);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();

  // A reconnecting client names the last event it saw (SSE's Last-Event-ID); it gets only what followed.
  const resumeFrom = Number(req.get('last-event-id'));
  let lastSeq = Number.isSafeInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : 0;
  let ended = false;
  const queue: JobEvent[] = [];
  let draining = false;
  const write = (e: JobEvent) => {
    if (ended || e.seq <= lastSeq) return;
    lastSeq = e.seq;
    res.write(`event: status\nid: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
    if (isTerminal(e.to as JobStatus)) finish();
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    deps.bus.off(`job:${id}`, onLive);
    deps.bus.off(`progress:${id}`, onProgress);
    deps.bus.off('connection-lost', onLost);
    deps.shutdown?.removeEventListener('abort', finish);
    res.end();
  };
  // A source that fails after the headers: the client learns it (and reconnects with Last-Event-ID) instead
  // of waiting on a stream that will never carry another event.
  const fail = (err: unknown) => {
    if (ended) return;
    deps.logger.warn('event stream ended by an error', { job_id: id, err: err instanceof Error ? err.message : String(err) });
    res.write(`event: error\ndata: ${problemOf(err)}\n\n`);
    finish();
  };
  // Live events published while pub/sub is disconnected never arrive; the stream cannot vouch for its order.
  const onLost = () => fail(new DependencyDownError('Redis'));
  // Live events may arrive before the history read finishes, or out of order; gaps are filled from the table.
  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (queue.length && !ended) {
        queue.sort((a, b) => a.seq - b.seq);
        const next = queue[0]!;
        if (next.seq <= lastSeq) {
          queue.shift();
          continue;
        }
        if (next.seq === lastSeq + 1) {
          write(queue.shift()!);
          continue;
        }
        for (const e of await deps.jobs.eventsOf(id, lastSeq)) write(e);
      }
    } catch (err) {
      fail(err);
    } finally {
      draining = false;
    }
  };
  const onLive = (e: BusEvent) => {
    queue.push(e.event as JobEvent);
    void drain();
  };
  // Progress reports (runs: output tokens so far), when asked for, go out as they come, between status events;
  // they carry no id, since they are not part of the replayable history (the Job holds the latest).
  const onProgress = (p: ProgressMessage) => {
    if (!ended) res.write(`event: progress\ndata: ${JSON.stringify(p)}\n\n`);
  };
  deps.bus.on(`job:${id}`, onLive);
  if (withProgress) deps.bus.on(`progress:${id}`, onProgress);
  deps.bus.on('connection-lost', onLost);
  const keepAlive = setInterval(() => res.write(`: keep-alive\n\n`), SSE_KEEPALIVE_MS);
  req.on('close', finish);
  // A stopping API ends its streams instead of holding shutdown for the grace period; clients reconnect elsewhere.
  if (deps.shutdown?.aborted) return finish();
  deps.shutdown?.addEventListener('abort', finish, { once: true });
  try {
    for (const e of await deps.jobs.eventsOf(id, lastSeq)) write(e);
    if (!ended) {
      // Resumed after the terminal event (or the job was deleted): nothing more will come.
      const now = await deps.jobs.findById(id);
      if (!now || (isTerminal(now.status) && lastSeq >= now.event_seq)) return finish();
    }
  } catch (err) {
    return fail(err);
  }
  void drain();
}
