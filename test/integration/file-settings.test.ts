import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadSettings } from '../../packages/core/src';
import { FilePipelinePool } from '../../packages/tasks/src';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { upload } from '../support/uploads';
import { waitFor } from '../support/wait';

async function rows<T>(stack: TestStack, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: stack.database.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const newSource = async (stack: TestStack) => expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 's' }), 201).id;

describe('MAX_UPLOAD_BYTES', () => {
  for (const limit of [2048, 8192]) {
    describe(`= ${limit}`, () => {
      let stack: TestStack;
      beforeAll(async () => {
        stack = await startStack({ env: { MAX_UPLOAD_BYTES: String(limit) } });
      });
      afterAll(async () => {
        await stack.stop();
      });

      it('accepts a file of the limit and refuses one byte more with 413', async () => {
        const source = await newSource(stack);
        expect((await upload(stack, source, 'a.txt', 'a'.repeat(limit), { type: 'text/plain' })).status).toBe(202);
        expect((await upload(stack, source, 'b.txt', 'b'.repeat(limit + 1), { type: 'text/plain' })).status).toBe(413);
        expect((await upload(stack, source, 'c.txt', 'c'.repeat(4096), { type: 'text/plain' })).status).toBe(limit >= 4096 ? 202 : 413);
        expect((await rows<{ n: string }>(stack, 'SELECT count(*) AS n FROM files'))[0]!.n).toBe(limit >= 4096 ? '2' : '1');
      });
    });
  }
});

describe('EVENT_LOOP_THREADPOOL_MAX_WORKERS', () => {
  const text = new TextEncoder().encode('many words of text for the pool '.repeat(30_000));

  async function threadsUsed(setting: string): Promise<{ threads: number; distinct: number }> {
    const settings = loadSettings({ EVENT_LOOP_THREADPOOL_MAX_WORKERS: setting });
    const pool = new FilePipelinePool(settings.effectiveThreadpoolWorkers);
    try {
      const parsed = await Promise.all(Array.from({ length: 6 }, () => pool.parseAndChunk(new Uint8Array(text), 'text/plain', { size: 512, overlap: 64 })));
      return { threads: pool.threads, distinct: new Set(parsed.map((p) => p.threadId)).size };
    } finally {
      await pool.close();
    }
  }

  it('close() ends the threads, and the pool takes no more work', async () => {
    const pool = new FilePipelinePool(1);
    await pool.parseAndChunk(new TextEncoder().encode('start a thread'), 'text/plain', { size: 64, overlap: 8 });
    expect(pool.size).toBe(1);
    await pool.close();
    expect(pool.size).toBe(0);
    await expect(pool.parseAndChunk(new TextEncoder().encode('late'), 'text/plain', { size: 64, overlap: 8 })).rejects.toThrow();
  });

  it('is capped at the machine parallelism (the default 43 included)', () => {
    expect(loadSettings({}).effectiveThreadpoolWorkers).toBe(Math.min(43, availableParallelism()));
    expect(loadSettings({ EVENT_LOOP_THREADPOOL_MAX_WORKERS: '1' }).effectiveThreadpoolWorkers).toBe(1);
  });

  it('1 runs every parse on one thread; 2 spreads concurrent parses over two (where the machine has two)', async () => {
    const one = await threadsUsed('1');
    expect(one).toEqual({ threads: 1, distinct: 1 });
    const two = await threadsUsed('2');
    expect(two.threads).toBe(Math.min(2, availableParallelism()));
    expect(two.distinct).toBe(Math.min(2, availableParallelism()));
  }, 120_000);
});

describe('FILE_STORAGE_DIR', () => {
  let stack: TestStack;
  const dir = mkdtempSync(join(tmpdir(), 'jobsvc-files-'));
  beforeAll(async () => {
    stack = await startStack({ worker: true, env: { FILE_STORAGE_DIR: dir, MAX_UPLOAD_BYTES: '4096' } });
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps uploads in the directory instead of the row, processes them from there, and removes them with the source', async () => {
    const source = await newSource(stack);
    const res = await upload(stack, source, 'disk.txt', 'stored on disk '.repeat(50), { type: 'text/plain' });
    expect(res.status).toBe(202);
    const id = (res.body as { id: string }).id;
    const [row] = await rows<{ content: Buffer | null; storage_path: string }>(stack, 'SELECT content, storage_path FROM files WHERE id = $1', [id]);
    expect(row!.content).toBeNull();
    expect(row!.storage_path.startsWith(dir)).toBe(true);
    await waitFor(async () => ((await stack.request('GET', `/api/files/${id}`)).body as { status: string }).status === 'completed', 'completed');
    // Over the limit and unsupported types leave nothing behind in the directory either.
    expect((await upload(stack, source, 'big.txt', 'x'.repeat(5000), { type: 'text/plain' })).status).toBe(413);
    expect((await upload(stack, source, 'bin.txt', Buffer.from([0, 1, 2, 3]), { type: 'text/plain' })).status).toBe(415);
    expect(readdirSync(dir)).toHaveLength(1);
    expect((await stack.request('DELETE', `/api/sources/${source}`)).status).toBe(200);
    expect(readdirSync(dir)).toHaveLength(0);
  });
});
