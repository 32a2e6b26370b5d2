import { Client } from 'pg';
import { FakeEmbeddingsServer } from '../fakes/embeddings-server';
import { startStack, type TestStack } from '../support/stack';
import { stackWorkers } from '../support/stack-workers';
import { expectStatus } from '../support/tenants';
import { upload } from '../support/uploads';
import { waitFor } from '../support/wait';

interface ApiFile {
  id: string;
  status: string;
  error_message: string | null;
  total_chunks: number | null;
  chunks_embedded: number;
  job_id: string;
}

/** kill -9 of a real worker process in the middle of embedding a file. */
describe('file processing survives a worker killed during embedding', () => {
  let stack: TestStack;
  const fake = new FakeEmbeddingsServer(8);
  const workers = stackWorkers(
    () => stack,
    () => ({
      EMBEDDINGS_URL: fake.url,
      EMBEDDINGS_BATCH_SIZE: '2',
      CHUNK_SIZE: '32',
      CHUNK_OVERLAP: '4',
      EVENT_LOOP_THREADPOOL_MAX_WORKERS: '2',
    }),
  );
  const worker = (name: string) => workers.start(name);

  beforeAll(async () => {
    await fake.start();
    stack = await startStack();
  });
  afterAll(async () => {
    await workers.killAll();
    await stack.stop();
    await fake.stop();
  });

  it('another worker takes the job over and the file ends completed, each chunk stored once', async () => {
    // 200 ms per embeddings request of 2 chunks: the file is mid-embedding for several seconds.
    fake.delayMs = 200;
    const a = await worker('worker-a');
    const source = expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'crash' }), 201).id;
    const text = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(' ');
    const res = await upload(stack, source, 'crash.txt', text, { type: 'text/plain' });
    expect(res.status).toBe(202);
    const id = (res.body as { id: string }).id;
    const mid = await waitFor(
      async () => {
        const f = (await stack.request('GET', `/api/files/${id}`)).body as ApiFile;
        return f.status === 'embedding' && f.chunks_embedded >= 4 ? f : null;
      },
      'the file part-way through embedding',
      30_000,
      50,
    );
    expect(await a.kill('SIGKILL')).toBeNull();
    fake.delayMs = 0;
    await worker('worker-b');

    const done = await waitFor(
      async () => {
        const f = (await stack.request('GET', `/api/files/${id}`)).body as ApiFile;
        return f.status === 'completed' || f.status === 'error' ? f : null;
      },
      'the file to end after the crash',
      60_000,
      100,
    );
    console.log(
      `[measured] killed at ${mid.chunks_embedded}/${mid.total_chunks} chunks; the file ended ${done.status} (${done.chunks_embedded}/${done.total_chunks})`,
    );
    expect(done.status).toBe('completed');
    expect(done.chunks_embedded).toBe(done.total_chunks);
    const c = new Client({ connectionString: stack.database.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ n: string; distinct_idx: string; max_idx: number }>(
        'SELECT count(*) AS n, count(DISTINCT index) AS distinct_idx, max(index) AS max_idx FROM file_chunks WHERE file_id = $1',
        [id],
      );
      expect(rows[0]).toEqual({
        n: String(done.total_chunks),
        distinct_idx: String(done.total_chunks),
        max_idx: done.total_chunks! - 1,
      });
    } finally {
      await c.end();
    }
    const job = expectStatus<{ status: string; attempts: number }>(
      await stack.request('GET', `/api/jobs/${done.job_id}`),
      200,
    );
    expect(job.status).toBe('completed');
    expect(job.attempts).toBe(2);
  });
});
