import { PermanentError, idSchema } from '@jobs/core';
import { fileBytesProcessed, fileChunksEmbedded, fileStageDuration } from '@jobs/observability';
import { z } from 'zod';
import type { Embedder } from '../files/embedders';
import type { FileProcessingStore } from '../files/file-processing-store';
import { FILE_MIME_TYPES, type FileMimeType } from '../files/file-types';
import type { FilePipeline } from '../files/pipeline-pool';
import { defineTask } from '../task';

export const FILE_PROCESS_TASK = 'file.process';

/** What the worker gives `file.process` (TaskClients.fileProcessing). */
export interface FileProcessingClients {
  store: FileProcessingStore;
  pipeline: FilePipeline;
  embedder: Embedder;
  chunkSize: number;
  chunkOverlap: number;
}

/** The file no longer accepts this attempt's writes (timed out, deleted, ended): stop without a retry. */
function gone(fileId: string, file: { status: string; error_message: string | null } | null): PermanentError {
  // Deleted, or of another organization: the same words, so a job cannot probe other organizations' ids.
  if (!file) return new PermanentError(`file ${fileId} not found`, 'file_not_found');
  return new PermanentError(file.error_message ?? `file ${fileId} is ${file.status}`, 'file_ended');
}

/**
 * `pending → parsing → embedding → completed` (SPEC F10). Parsing and chunking run on the thread pool; chunks are
 * embedded in the embedder's batches and stored with the progress in one guarded statement, so the File's
 * `chunks_embedded` and the Job's progress advance together. A new attempt starts over from `parsing`.
 * Errors leave the file to the job's ending (file-job-link in @jobs/db): a failed job's file is `error`.
 */
export const fileProcessTask = defineTask({
  name: FILE_PROCESS_TASK,
  input: z.strictObject({ file_id: idSchema('file') }),
  async run({ input, organizationId, attempt, signal, reportProgress, clients, logger }) {
    const fp = clients.fileProcessing as FileProcessingClients | undefined;
    if (!fp) throw new PermanentError('this worker has no file processing configured', 'not_configured');
    const id = input.file_id;
    const file = await fp.store.startParsing(id, organizationId, attempt);
    if (!file) throw gone(id, await fp.store.findFile(id, organizationId));
    if (!(FILE_MIME_TYPES as string[]).includes(file.mime_type)) throw new PermanentError(`unsupported file type ${file.mime_type}`);
    await reportProgress(0, 'parsing');
    const bytes = await fp.store.content(id);
    // Read before the call: the pool moves the bytes to its thread, leaving this Buffer empty.
    const size = bytes.length;
    const started = process.hrtime.bigint();
    const parsed = await fp.pipeline.parseAndChunk(bytes, file.mime_type as FileMimeType, { size: fp.chunkSize, overlap: fp.chunkOverlap }, signal);
    const parseMs = Number(process.hrtime.bigint() - started) / 1e6;
    fileStageDuration.observe({ stage: 'parse', mime_type: file.mime_type }, parseMs / 1000);
    fileBytesProcessed.inc({ mime_type: file.mime_type }, size);
    logger.info('file parsed', { file_id: id, bytes: size, chars: parsed.chars, pages: parsed.pages, chunks: parsed.chunks.length, parse_ms: Math.round(parseMs) });

    const total = parsed.chunks.length;
    if (!(await fp.store.startEmbedding(id, attempt, total))) throw gone(id, await fp.store.findFile(id, organizationId));
    await reportProgress(total === 0 ? 100 : 0, `0/${total} chunks embedded`);
    let dims = 0;
    const embedStarted = process.hrtime.bigint();
    for (let from = 0; from < total; from += fp.embedder.batchSize) {
      signal.throwIfAborted();
      const batch = parsed.chunks.slice(from, from + fp.embedder.batchSize);
      const vectors = await fp.embedder.embed(batch.map((c) => c.text), signal);
      dims = vectors[0]?.length ?? dims;
      const stored = await fp.store.storeChunks(
        id,
        attempt,
        batch.map((c, i) => ({ index: from + i, text: c.text, tokenCount: c.tokens, embedding: vectors[i]! })),
      );
      if (!stored) throw gone(id, await fp.store.findFile(id, organizationId));
      fileChunksEmbedded.inc({ embedder: fp.embedder.name }, batch.length);
      const done = from + batch.length;
      await reportProgress((done / total) * 100, `${done}/${total} chunks embedded`);
    }
    signal.throwIfAborted();
    fileStageDuration.observe({ stage: 'embed', mime_type: file.mime_type }, Number(process.hrtime.bigint() - embedStarted) / 1e9);
    if (!(await fp.store.complete(id, attempt))) throw gone(id, await fp.store.findFile(id, organizationId));
    return {
      result: { file_id: id, total_chunks: total, embedding_dims: dims, pages: parsed.pages, chars: parsed.chars, embedder: fp.embedder.name, parse_ms: Math.round(parseMs) },
    };
  },
});
