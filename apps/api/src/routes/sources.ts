import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createJobBodySchema, fileTimeoutMessage, idSchema } from '@jobs/core';
import { pageLimitSchema } from '../query-schemas';
import { FileStore } from '@jobs/db';
import { FILE_PROCESS_TASK } from '@jobs/tasks';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import type { JobCommands } from '../job-commands';
import { actorOf } from '../middleware/auth';
import { parse, pathId } from '../middleware/validate';
import { setNextLink } from '../pagination';
import type { RouteTable } from '../route-table';
import { uploadReceiver } from './upload';
import { toApiFile, toApiSource } from '../presenters/file';

export const createSourceBodySchema = z.strictObject({ name: z.string().trim().min(1).max(255) });
/**
 * As the jobs list: keyset pages by `after`/`before` (ids of listed rows) in `order`, a `Link rel="next"` on a full
 * page, unknown parameters ignored; `organization_id` is an operator's choice of organization.
 */
export const listSourcesQuerySchema = z.object({
  organization_id: idSchema('org').optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: pageLimitSchema,
  after: idSchema('source').optional(),
  before: idSchema('source').optional(),
});
export const listFilesQuerySchema = z.object({
  check_status_updates: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: pageLimitSchema,
  after: idSchema('file').optional(),
  before: idSchema('file').optional(),
});

const PROCESS_ATTEMPTS = 3;
const PROCESS_BACKOFF_MS = 5000;

/** Sources, uploads and files (API.md "Sources and files", SPEC F10). */
export function sourceRoutes(deps: AppDeps, commands: JobCommands, table: RouteTable): Router {
  const r = Router();
  const files = new FileStore(deps.db);
  const storageDir = deps.settings.FILE_STORAGE_DIR;
  if (storageDir) mkdirSync(storageDir, { recursive: true });
  const receive = uploadReceiver({ maxBytes: deps.settings.MAX_UPLOAD_BYTES, ...(storageDir ? { storageDir } : {}) });

  table.add(r, 'post', '/api/sources', async (req: Request, res: Response) => {
    const body = parse(createSourceBodySchema, req.body);
    const source = await files.createSource(actorOf(req), body.name);
    res.setHeader('Location', `/api/sources/${source.id}`);
    res.status(201).json(toApiSource(source));
  });

  table.add(r, 'get', '/api/sources', async (req: Request, res: Response) => {
    const q = parse(listSourcesQuerySchema, req.query);
    const rows = await files.listSources(actorOf(req), q);
    if (rows.length === q.limit) setNextLink(req, res, rows[rows.length - 1]!.id);
    res.json(rows.map(toApiSource));
  });

  table.add(r, 'get', '/api/sources/:id', async (req: Request, res: Response) => {
    res.json(toApiSource(await files.getSource(actorOf(req), pathId('source', req.params['id']))));
  });

  table.add(r, 'delete', '/api/sources/:id', async (req: Request, res: Response) => {
    const { source, activeJobIds } = await files.deleteSource(actorOf(req), pathId('source', req.params['id']));
    // The files are gone; their running attempts are told to stop (each finds its file deleted anyway).
    await Promise.all(activeJobIds.map((id) => commands.cancelById(id, 'source deleted')));
    res.json(toApiSource(source));
  });

  table.add(r, 'post', '/api/sources/:id/upload', async (req: Request, res: Response) => {
    const actor = actorOf(req);
    // The source is checked before the body is read: a wrong id costs no upload.
    const source = await files.getSource(actor, pathId('source', req.params['id']));
    const upload = await receive(req, res);
    let file;
    try {
      file = await files.createFile(source, {
        name: upload.name,
        mimeType: upload.mimeType,
        sizeBytes: upload.sizeBytes,
        ...(upload.content ? { content: upload.content } : {}),
        ...(upload.storagePath ? { storagePath: upload.storagePath } : {}),
      });
    } catch (err) {
      if (upload.storagePath) await unlink(upload.storagePath).catch(() => undefined);
      throw err;
    }
    try {
      // A failing embeddings endpoint (after its own retries) gets two more job attempts; unreadable files fail at once.
      const create = createJobBodySchema.parse({
        task: FILE_PROCESS_TASK,
        input: { file_id: file.id },
        metadata: { source_id: source.id, file_name: file.name },
        max_attempts: PROCESS_ATTEMPTS,
        backoff_ms: PROCESS_BACKOFF_MS,
      });
      // The job belongs where the file does: an operator uploading to another organization's source creates it
      // there, so the file's owners can read its job (and the task, scoped to the job's organization, finds the file).
      const owner = { ...actor, organizationId: source.organization_id };
      const { job } = await commands.create(owner, create, 'job', { afterInsert: (row) => files.setJob(file.id, row.id) });
      res.setHeader('Location', `/api/files/${file.id}`);
      res.status(202).json({ ...toApiFile({ ...file, job_id: job.id }), job_id: job.id });
    } catch (err) {
      // No job, no file: the client's retry must not leave a `pending` file that nothing will process.
      await files.discard(file.id).catch(() => undefined);
      throw err;
    }
  });

  table.add(r, 'get', '/api/sources/:id/files', async (req: Request, res: Response) => {
    const actor = actorOf(req);
    const sourceId = pathId('source', req.params['id']);
    const q = parse(listFilesQuerySchema, req.query);
    await files.getSource(actor, sourceId);
    if (q.check_status_updates) {
      const minutes = deps.settings.FILE_PROCESSING_TIMEOUT_MINUTES;
      const timedOut = await files.timeOutOverdue(minutes, fileTimeoutMessage(deps.settings.FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE, minutes), { sourceId });
      await Promise.all(timedOut.filter((f) => f.job_id).map((f) => commands.cancelById(f.job_id!, 'file processing timed out', 'timeout')));
    }
    const rows = await files.listFiles(actor, sourceId, q);
    if (rows.length === q.limit) setNextLink(req, res, rows[rows.length - 1]!.id);
    res.json(rows.map(toApiFile));
  });

  table.add(r, 'get', '/api/files/:id', async (req: Request, res: Response) => {
    res.json(toApiFile(await files.getFile(actorOf(req), pathId('file', req.params['id']))));
  });

  table.add(r, 'get', '/api/files/:id/chunks', async (req: Request, res: Response) => {
    res.json(await files.listChunks(actorOf(req), pathId('file', req.params['id'])));
  });

  return r;
}
