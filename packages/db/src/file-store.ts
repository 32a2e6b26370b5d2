import { readFile, unlink } from 'node:fs/promises';
import {
  ACTIVE_FILE_STATUSES,
  NotFoundError,
  canSeeOrganization,
  fileStatusesBefore,
  newId,
  type Actor,
  type FileStatus,
} from '@jobs/core';
import { rawRows, type Db } from './client';
import { keysetPage, type KeysetQuery } from './keyset-page';

export interface SourceRow {
  id: string;
  organization_id: string;
  name: string;
  created_at: Date;
}

export interface FileRow {
  id: string;
  organization_id: string;
  source_id: string;
  name: string;
  mime_type: string;
  size_bytes: bigint;
  status: FileStatus;
  error_message: string | null;
  total_chunks: number | null;
  chunks_embedded: number;
  job_id: string | null;
  storage_path: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ChunkToStore {
  index: number;
  text: string;
  tokenCount: number;
  embedding: Float32Array;
}

/** A file moved to `error` by the timeout, with the job to cancel. */
export interface TimedOutFile {
  id: string;
  job_id: string | null;
}

/** Bytes per read of an upload kept in the row. */
const CONTENT_SLICE = 1024 * 1024;

const FILE_COLUMNS = `id, organization_id, source_id, name, mime_type, size_bytes, status, error_message, total_chunks,
  chunks_embedded, job_id, storage_path, created_at, updated_at`;

/** Little-endian float32s: the same bytes on every host, whatever its endianness. */
function encodeEmbedding(v: Float32Array): Buffer {
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i]!, i * 4);
  return b;
}

/**
 * Sources, files and chunks (SPEC F10). Reads and writes on behalf of a client take its actor and answer 404
 * for another organization's rows; the worker-side calls (by id) are used by the `file.process` task only.
 * Every status write is guarded by the predecessors of core's file state machine.
 */
export class FileStore {
  constructor(private readonly db: Db) {}

  async createSource(actor: Actor, name: string): Promise<SourceRow> {
    const rows = await rawRows<SourceRow>(this.db, 'INSERT INTO sources (id, organization_id, name) VALUES ($1, $2, $3) RETURNING *', [newId('source'), actor.organizationId, name]);
    return rows[0]!;
  }

  async getSource(actor: Actor, id: string): Promise<SourceRow> {
    const rows = await rawRows<SourceRow>(this.db, 'SELECT * FROM sources WHERE id = $1', [id]);
    const row = rows[0];
    if (!row || !canSeeOrganization(actor, row.organization_id)) throw new NotFoundError(`Source ${id} not found`);
    return row;
  }

  /**
   * The organization's sources, newest first. As the jobs list (API.md): an operator's list covers its own
   * organization unless it names another with `organization_id`; anyone else's `organization_id` is ignored.
   */
  async listSources(actor: Actor, query: KeysetQuery & { organization_id?: string | undefined }): Promise<SourceRow[]> {
    const org = query.organization_id && actor.role === 'operator' ? query.organization_id : actor.organizationId;
    return keysetPage<SourceRow>(this.db, { from: 'sources', select: '*', key: ['created_at', 'id'], scope: { organization_id: org }, query, unknownCursor: 'unknown source id' });
  }

  /**
   * Deletes the source with its files and chunks (cascade). Returns the jobs of files still processing, for
   * the caller to cancel, and removes the uploads kept under FILE_STORAGE_DIR.
   */
  async deleteSource(actor: Actor, id: string): Promise<{ source: SourceRow; activeJobIds: string[] }> {
    const source = await this.getSource(actor, id);
    const files = await rawRows<{ job_id: string | null; status: FileStatus; storage_path: string | null }>(
      this.db,
      'DELETE FROM files WHERE source_id = $1 RETURNING job_id, status, storage_path',
      [id],
    );
    await rawRows(this.db, 'DELETE FROM sources WHERE id = $1', [id]);
    await Promise.all(files.filter((f) => f.storage_path).map((f) => unlink(f.storage_path!).catch(() => undefined)));
    const activeJobIds = files.filter((f) => f.job_id && ACTIVE_FILE_STATUSES.includes(f.status)).map((f) => f.job_id!);
    return { source, activeJobIds };
  }

  /** A new `pending` file of `source` (and of its organization) holding `content` (bytea), or naming the upload kept at `storagePath`. */
  async createFile(
    source: SourceRow,
    file: { id?: string; name: string; mimeType: string; sizeBytes: number; content?: Buffer; storagePath?: string },
  ): Promise<FileRow> {
    try {
      const rows = await rawRows<FileRow>(
        this.db,
        `INSERT INTO files (id, organization_id, source_id, name, mime_type, size_bytes, content, storage_path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${FILE_COLUMNS}`,
        [file.id ?? newId('file'), source.organization_id, source.id, file.name, file.mimeType, file.sizeBytes, file.content ?? null, file.storagePath ?? null],
      );
      return rows[0]!;
    } catch (err) {
      // The source was deleted while the upload streamed in.
      if ((err as { code?: string }).code === '23503') throw new NotFoundError(`Source ${source.id} not found`);
      throw err;
    }
  }

  async setJob(fileId: string, jobId: string): Promise<void> {
    await rawRows(this.db, 'UPDATE files SET job_id = $2 WHERE id = $1', [fileId, jobId]);
  }

  /** Removes a file whose processing job could not be created (the client got an error, so nothing stays). */
  async discard(fileId: string): Promise<void> {
    const rows = await rawRows<{ storage_path: string | null }>(this.db, 'DELETE FROM files WHERE id = $1 RETURNING storage_path', [fileId]);
    if (rows[0]?.storage_path) await unlink(rows[0].storage_path).catch(() => undefined);
  }

  async getFile(actor: Actor, id: string): Promise<FileRow> {
    const row = await this.fileById(id);
    if (!row || !canSeeOrganization(actor, row.organization_id)) throw new NotFoundError(`File ${id} not found`);
    return row;
  }

  private async fileById(id: string): Promise<FileRow | null> {
    return (await rawRows<FileRow>(this.db, `SELECT ${FILE_COLUMNS} FROM files WHERE id = $1`, [id]))[0] ?? null;
  }

  /** The worker's read for a job of `organizationId`: another organization's file is not found. */
  async findFile(id: string, organizationId: string): Promise<FileRow | null> {
    return (await rawRows<FileRow>(this.db, `SELECT ${FILE_COLUMNS} FROM files WHERE id = $1 AND organization_id = $2`, [id, organizationId]))[0] ?? null;
  }

  /** The source's files, oldest first unless `order` is desc, paged by keyset like the jobs list. */
  async listFiles(actor: Actor, sourceId: string, query: KeysetQuery): Promise<FileRow[]> {
    await this.getSource(actor, sourceId);
    return keysetPage<FileRow>(this.db, { from: 'files', select: FILE_COLUMNS, key: ['created_at', 'id'], scope: { source_id: sourceId }, query, unknownCursor: 'unknown file id' });
  }

  async listChunks(actor: Actor, fileId: string): Promise<{ index: number; text: string; embedding_dims: number }[]> {
    await this.getFile(actor, fileId);
    return rawRows(this.db, 'SELECT index, text, embedding_dims FROM file_chunks WHERE file_id = $1 ORDER BY index', [fileId]);
  }

  /**
   * The upload's bytes, from the row or from FILE_STORAGE_DIR. The row is read in CONTENT_SLICE pieces: one
   * 20 MB bytea would arrive as a 40 MB hex string parsed in one go on the event loop (a 300 ms stall measured),
   * slices keep each parse to a few milliseconds (the column is stored EXTERNAL, so a slice reads only its pages).
   */
  async content(fileId: string): Promise<Buffer> {
    const rows = await rawRows<{ size: number | null; storage_path: string | null }>(this.db, 'SELECT octet_length(content) AS size, storage_path FROM files WHERE id = $1', [fileId]);
    const row = rows[0];
    if (!row) throw new NotFoundError(`File ${fileId} not found`);
    if (row.storage_path) return readFile(row.storage_path);
    const size = row.size ?? 0;
    const out = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; at += CONTENT_SLICE) {
      const [part] = await rawRows<{ part: Buffer }>(this.db, 'SELECT substring(content FROM $2 FOR $3) AS part FROM files WHERE id = $1', [fileId, at + 1, CONTENT_SLICE]);
      if (!part) throw new NotFoundError(`File ${fileId} not found`);
      part.part.copy(out, at);
    }
    return out;
  }

  /**
   * Attempt `attempt` of the processing job takes the file over: `parsing`, with an earlier attempt's chunks
   * removed. The writes below are fenced on that attempt, so an older attempt still running (stalled, not dead)
   * cannot add chunks or finish the file; a stale attempt cannot take it back either.
   */
  async startParsing(fileId: string, organizationId: string, attempt: number): Promise<FileRow | null> {
    const rows = await rawRows<FileRow>(
      this.db,
      `UPDATE files SET status = 'parsing', processing_attempt = $3, total_chunks = NULL, chunks_embedded = 0, updated_at = now()
       WHERE id = $1 AND organization_id = $4 AND status = ANY($2::text[]) AND (processing_attempt IS NULL OR processing_attempt <= $3)
       RETURNING ${FILE_COLUMNS}`,
      [fileId, [...fileStatusesBefore('parsing')], attempt, organizationId],
    );
    const row = rows[0];
    if (!row) return null;
    await rawRows(this.db, 'DELETE FROM file_chunks WHERE file_id = $1', [fileId]);
    return row;
  }

  /** parsing → embedding with the chunk count known. */
  async startEmbedding(fileId: string, attempt: number, totalChunks: number): Promise<boolean> {
    const rows = await rawRows(
      this.db,
      `UPDATE files SET status = 'embedding', total_chunks = $3, chunks_embedded = 0, updated_at = now()
       WHERE id = $1 AND processing_attempt = $2 AND status = 'parsing' RETURNING id`,
      [fileId, attempt, totalChunks],
    );
    return rows.length > 0;
  }

  /**
   * Stores embedded chunks and advances `chunks_embedded` by the rows actually inserted, in one statement guarded
   * on `embedding` and the attempt: a file that timed out, was deleted or was taken over takes no more chunks.
   * False when the guard failed.
   */
  async storeChunks(fileId: string, attempt: number, chunks: readonly ChunkToStore[]): Promise<boolean> {
    if (chunks.length === 0) return true;
    const rows = await rawRows(
      this.db,
      `WITH f AS (
         SELECT id FROM files WHERE id = $1 AND processing_attempt = $2 AND status = 'embedding' FOR UPDATE
       ), ins AS (
         INSERT INTO file_chunks (file_id, index, text, token_count, embedding, embedding_dims)
         SELECT f.id, c.index, c.text, c.token_count, c.embedding, c.dims
         FROM f, unnest($3::int[], $4::text[], $5::int[], $6::bytea[], $7::int[]) AS c(index, text, token_count, embedding, dims)
         ON CONFLICT (file_id, index) DO NOTHING
         RETURNING 1
       )
       UPDATE files SET chunks_embedded = chunks_embedded + (SELECT count(*) FROM ins), updated_at = now()
       WHERE id IN (SELECT id FROM f) RETURNING id`,
      [
        fileId,
        attempt,
        chunks.map((c) => c.index),
        chunks.map((c) => c.text),
        chunks.map((c) => c.tokenCount),
        chunks.map((c) => encodeEmbedding(c.embedding)),
        chunks.map((c) => c.embedding.length),
      ],
    );
    return rows.length > 0;
  }

  /** embedding → completed, by the attempt that owns the file. */
  async complete(fileId: string, attempt: number): Promise<boolean> {
    const rows = await rawRows(
      this.db,
      `UPDATE files SET status = 'completed', updated_at = now() WHERE id = $1 AND processing_attempt = $2 AND status = 'embedding' RETURNING id`,
      [fileId, attempt],
    );
    return rows.length > 0;
  }

  /**
   * The seed's timeout: files not terminal `minutes` after creation move to `error` with `message`. Scoped to one
   * source (the list route with check_status_updates=true) or all of them (the sweep).
   */
  async timeOutOverdue(minutes: number, message: string, scope: { sourceId?: string; limit?: number } = {}): Promise<TimedOutFile[]> {
    const params: unknown[] = [[...ACTIVE_FILE_STATUSES], minutes, message, scope.limit ?? 1000];
    const bySource = scope.sourceId ? `AND source_id = $${params.push(scope.sourceId)}` : '';
    return rawRows<TimedOutFile>(
      this.db,
      `UPDATE files SET status = 'error', error_message = $3, updated_at = now()
       WHERE id IN (
         SELECT id FROM files WHERE status = ANY($1::text[]) AND created_at < now() - make_interval(mins => $2::int) ${bySource}
         ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED
       ) AND status = ANY($1::text[])
       RETURNING id, job_id`,
      params,
    );
  }

  /** The file of a processing job that ended without completing: `error` with the job's reason, unless terminal. */
  async failByJob(jobId: string, message: string): Promise<void> {
    await rawRows(
      this.db,
      `UPDATE files SET status = 'error', error_message = $3, updated_at = now() WHERE job_id = $1 AND status = ANY($2::text[])`,
      [jobId, [...ACTIVE_FILE_STATUSES], message],
    );
  }
}
