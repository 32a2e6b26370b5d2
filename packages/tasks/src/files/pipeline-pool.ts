import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PermanentError } from '@jobs/core';
import { Piscina } from 'piscina';
import type { FileMimeType } from './file-types';
import { unpackChunks } from './packed-chunks';
import type { ParsedFile, PipelineRequest, PipelineResponse } from './pipeline-thread';

/**
 * The compiled thread module. From src/ (tests under ts-jest) and from dist/ alike this is
 * packages/tasks/dist/files/pipeline-thread.js: threads run plain JavaScript, so the package must be built.
 */
const THREAD_FILE = resolve(__dirname, '../../dist/files/pipeline-thread.js');

export interface FilePipeline {
  readonly threads: number;
  /** Takes ownership of `bytes`: they are moved to the thread (detached here) when they own their ArrayBuffer. */
  parseAndChunk(bytes: Uint8Array, mimeType: FileMimeType, chunking: { size: number; overlap: number }, signal?: AbortSignal): Promise<ParsedFile>;
  hashEmbed(texts: string[], dims: number, signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/**
 * A piscina pool of `threads` worker threads (EVENT_LOOP_THREADPOOL_MAX_WORKERS capped at the machine's
 * parallelism, settings.effectiveThreadpoolWorkers) for parsing, chunking and hashing. Threads start on demand
 * and stop when idle; an aborted call's thread is terminated (piscina), so a cancelled parse stops at once.
 */
export class FilePipelinePool implements FilePipeline {
  private readonly pool: Piscina;
  private closed = false;

  constructor(readonly threads: number) {
    if (!existsSync(THREAD_FILE)) throw new Error(`${THREAD_FILE} is missing: build the packages first (npm run build)`);
    this.pool = new Piscina({ filename: THREAD_FILE, minThreads: 0, maxThreads: threads, idleTimeout: 30_000, concurrentTasksPerWorker: 1 });
  }

  private async run(req: PipelineRequest, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<PipelineResponse & { ok: true }> {
    // Piscina would start new threads for work arriving after close(), and they would keep a stopping process alive.
    if (this.closed) throw new Error('the file pipeline pool is closed (the worker is shutting down)');
    const res = (await this.pool.run(req, { transferList: transfer, ...(signal ? { signal } : {}) })) as PipelineResponse;
    if (!res.ok) throw res.unreadable ? new PermanentError(res.message) : new Error(res.message);
    return res;
  }

  async parseAndChunk(bytes: Uint8Array, mimeType: FileMimeType, chunking: { size: number; overlap: number }, signal?: AbortSignal): Promise<ParsedFile> {
    // Moved to the thread, not cloned. A Buffer sharing its ArrayBuffer (Node's pool of small Buffers) is copied
    // first: transferring it would detach its neighbours.
    const owns = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const own = owns ? bytes : new Uint8Array(bytes);
    const res = await this.run({ op: 'parse-and-chunk', bytes: own, mimeType, chunkSize: chunking.size, chunkOverlap: chunking.overlap }, [own.buffer as ArrayBuffer], signal);
    const packed = res.packed!;
    return { chunks: unpackChunks(packed), pages: packed.pages, chars: packed.chars, threadId: res.threadId };
  }

  async hashEmbed(texts: string[], dims: number, signal?: AbortSignal): Promise<Float32Array[]> {
    const flat = (await this.run({ op: 'hash-embed', texts, dims }, [], signal)).vectors!;
    return texts.map((_, i) => flat.subarray(i * dims, (i + 1) * dims));
  }

  /** Which thread answered (tests see the pool's size at work). */
  async threadId(): Promise<number> {
    return (await this.run({ op: 'thread-id' }, [])).threadId;
  }

  get size(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close({ force: true });
  }
}
