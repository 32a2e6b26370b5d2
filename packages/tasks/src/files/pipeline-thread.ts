/**
 * The worker-thread side of the file pipeline (loaded by piscina, never imported by the main thread): the
 * CPU-heavy steps run here so the worker's event loop, and the BullMQ lock renewals on it, never wait for them.
 */
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { chunkText, type TextChunk } from './chunk-text';
import { packChunks, type PackedChunks } from './packed-chunks';
import { extractText, UnreadableFileError } from './extract-text';
import type { FileMimeType } from './file-types';
import { hashEmbed } from './hash-embed';

export type PipelineRequest =
  | { op: 'parse-and-chunk'; bytes: Uint8Array; mimeType: FileMimeType; chunkSize: number; chunkOverlap: number }
  | { op: 'hash-embed'; texts: string[]; dims: number }
  | { op: 'thread-id' };

export interface ParsedFile {
  chunks: TextChunk[];
  pages: number | null;
  chars: number;
  threadId: number;
}

/** What a thread answers: errors travel as values, since piscina would lose an Error subclass's identity. */
export type PipelineResponse =
  | { ok: true; packed?: PackedChunks; vectors?: Float32Array; threadId: number }
  | { ok: false; unreadable: boolean; message: string };

/**
 * Pool threads yield the CPU to the event loop: on Linux a nice value is per thread, and this thread's kernel id
 * is the first field of /proc/thread-self/stat. When the cores are busy (other processes, N threads on N cores),
 * the main thread's timers and lock renewals then run first and bulk parsing waits. Elsewhere this is a no-op.
 */
function lowerOwnPriority(): void {
  try {
    const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not permitted: the thread keeps the process's priority.
  }
}
lowerOwnPriority();

export default async function run(req: PipelineRequest): Promise<PipelineResponse> {
  try {
    switch (req.op) {
      case 'parse-and-chunk': {
        const { text, pages } = await extractText(req.bytes, req.mimeType);
        const packed = packChunks(chunkText(text, req.chunkSize, req.chunkOverlap), pages, text.length);
        return { ok: true, threadId, packed };
      }
      case 'hash-embed': {
        // One array for the whole batch: a single memcpy to clone, instead of one object per vector.
        const vectors = new Float32Array(req.texts.length * req.dims);
        req.texts.forEach((t, i) => vectors.set(hashEmbed(t, req.dims), i * req.dims));
        return { ok: true, threadId, vectors };
      }
      case 'thread-id':
        return { ok: true, threadId };
    }
  } catch (err) {
    return { ok: false, unreadable: err instanceof UnreadableFileError, message: err instanceof Error ? err.message : String(err) };
  }
}
