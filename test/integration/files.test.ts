import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import { FileStore, createDb } from '../../packages/db/src';
import { registry } from '../../packages/observability/src';
import { HttpEmbedder } from '../../packages/tasks/src';
import { FakeEmbeddingsServer } from '../fakes/embeddings-server';
import { startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus } from '../support/tenants';
import { makePdf, upload } from '../support/uploads';
import { waitFor } from '../support/wait';

interface ApiFile {
  id: string;
  source_id: string;
  name: string;
  mime_type: string;
  size_bytes: number;
  status: string;
  error_message: string | null;
  total_chunks: number | null;
  chunks_embedded: number;
  job_id: string;
}
interface Chunk {
  index: number;
  text: string;
  embedding_dims: number;
}

async function sql<T>(stack: TestStack, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: stack.database.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const newSource = async (stack: TestStack, key?: string) => expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'docs' }, key), 201).id;
const getFile = async (stack: TestStack, id: string) => (await stack.request('GET', `/api/files/${id}`)).body as ApiFile;
const ended = (stack: TestStack, id: string, ms = 60_000) =>
  waitFor(async () => {
    const f = await getFile(stack, id);
    return f.status === 'completed' || f.status === 'error' ? f : null;
  }, `file ${id} to end`, ms);

describe('file processing (SPEC F10): upload, parse, chunk, embed', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true, env: { MAX_UPLOAD_BYTES: String(1024 * 1024), CHUNK_SIZE: '64', CHUNK_OVERLAP: '8', EVENT_LOOP_THREADPOOL_MAX_WORKERS: '2' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  const words = (n: number, word = 'lorem') => Array.from({ length: n }, (_, i) => `${word}${i % 50}`).join(' ');
  const formats: [string, string, Uint8Array | string | (() => Promise<Uint8Array>), string, RegExp][] = [
    ['notes.txt', 'text/plain', `Plain text. ${words(300)}`, 'text/plain', /Plain text\./],
    ['readme.md', 'text/markdown', `# Title\n\nSome *markdown* here. ${words(200)}`, 'text/markdown', /# Title/],
    ['data.json', 'application/json', JSON.stringify({ people: [{ name: 'Ada', born: 1815 }, { name: 'Grace', born: 1906 }] }), 'application/json', /"name": "Ada"/],
    ['table.csv', 'text/csv', 'name,born\nAda,1815\nGrace,1906\n', 'text/csv', /name: Ada, born: 1815/],
    ['page.html', 'text/html', '<html><head><title>t</title><script>var hidden = 1;</script></head><body><h1>Hello</h1><p>HTML <b>body</b> text.</p></body></html>', 'text/html', /HTML body text\./],
    ['doc.pdf', 'application/pdf', () => makePdf(3), 'application/pdf', /This is page 3 of the generated test document\./],
  ];

  it.each(formats)('%s is parsed, chunked and embedded to completed, with progress on the File and its Job', async (name, type, content, mime, expected) => {
    const source = await newSource(stack);
    const bytes = typeof content === 'function' ? await content() : content;
    const res = await upload(stack, source, name, bytes, { type });
    expect(res.status).toBe(202);
    const accepted = res.body as unknown as ApiFile;
    expect(accepted).toMatchObject({ source_id: source, name, mime_type: mime, status: 'pending' });
    expect(accepted.job_id).toMatch(/^job-/);
    const file = await ended(stack, accepted.id);
    expect(file).toMatchObject({ status: 'completed', error_message: null });
    expect(file.total_chunks).toBeGreaterThan(0);
    expect(file.chunks_embedded).toBe(file.total_chunks);
    const chunks = expectStatus<Chunk[]>(await stack.request('GET', `/api/files/${file.id}/chunks`), 200);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    expect(chunks.every((c) => c.embedding_dims === 256)).toBe(true);
    expect(chunks.map((c) => c.text).join(' ')).toMatch(expected);
    if (name === 'page.html') expect(chunks.map((c) => c.text).join(' ')).not.toMatch(/hidden/);
    const job = expectStatus<{ status: string; progress: { percent: number; message: string }; result: { pages: number | null } }>(await stack.request('GET', `/api/jobs/${file.job_id}`), 200);
    expect(job.status).toBe('completed');
    expect(job.progress).toMatchObject({ percent: 100, message: `${file.total_chunks}/${file.total_chunks} chunks embedded` });
    if (name === 'doc.pdf') expect(job.result.pages).toBe(3);
    expect(await registry.getSingleMetricAsString('jobsvc_file_stage_seconds')).toContain(`jobsvc_file_stage_seconds_count{stage="embed",mime_type="${mime}"}`);
    expect(await registry.getSingleMetricAsString('jobsvc_file_chunks_embedded_total')).toMatch(/jobsvc_file_chunks_embedded_total\{embedder="local-hashing"\} [1-9]/);
  });

  it('the worker pool has EVENT_LOOP_THREADPOOL_MAX_WORKERS threads, capped at the machine', () => {
    expect(stack.worker!.filePipeline.threads).toBe(Math.min(2, availableParallelism()));
  });

  it('chunks hold CHUNK_SIZE tokens and share CHUNK_OVERLAP with their neighbour', async () => {
    const source = await newSource(stack);
    const res = await upload(stack, source, 'long.txt', words(2000, 'token'), { type: 'text/plain' });
    const file = await ended(stack, (res.body as unknown as ApiFile).id);
    const rows = await sql<{ token_count: number }>(stack, 'SELECT token_count FROM file_chunks WHERE file_id = $1 ORDER BY index', [file.id]);
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.slice(0, -1).every((r) => r.token_count === 64)).toBe(true);
    const chunks = expectStatus<Chunk[]>(await stack.request('GET', `/api/files/${file.id}/chunks`), 200);
    // The tail of one chunk opens the next (8 shared tokens: at least the last few words).
    const tail = chunks[0]!.text.split(' ').slice(-2).join(' ');
    expect(chunks[1]!.text.startsWith(' ') ? chunks[1]!.text.trimStart() : chunks[1]!.text).toContain(tail.trim());
  });

  it('a corrupt PDF ends in error with a clear message, and its job fails without retrying', async () => {
    const source = await newSource(stack);
    const good = Buffer.from(await makePdf(1));
    const corrupt = Buffer.concat([good.subarray(0, 20), Buffer.from('garbage that is not a PDF body at all'.repeat(20))]);
    const res = await upload(stack, source, 'broken.pdf', corrupt, { type: 'application/pdf' });
    expect(res.status).toBe(202);
    const file = await ended(stack, (res.body as unknown as ApiFile).id);
    expect(file.status).toBe('error');
    expect(file.error_message).toMatch(/^Could not parse PDF: /);
    const job = expectStatus<{ status: string; attempts: number }>(await stack.request('GET', `/api/jobs/${file.job_id}`), 200);
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('over MAX_UPLOAD_BYTES: 413 while streaming, and nothing is stored', async () => {
    const source = await newSource(stack);
    const res = await upload(stack, source, 'big.txt', 'x'.repeat(1024 * 1024 + 1), { type: 'text/plain' });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ status: 413, errors: [{ path: 'file' }] });
    expect(await sql(stack, 'SELECT id FROM files WHERE source_id = $1', [source])).toEqual([]);
    expect(await sql(stack, `SELECT id FROM jobs WHERE task = 'file.process' AND source_id = $1`, [source])).toEqual([]);
    // At the limit exactly is accepted.
    expect((await upload(stack, source, 'edge.txt', 'y'.repeat(1024 * 1024), { type: 'text/plain' })).status).toBe(202);
  });

  it('unsupported types are 415 (by extension and by content); no file field is 400', async () => {
    const source = await newSource(stack);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect((await upload(stack, source, 'image.png', png, { type: 'image/png' })).status).toBe(415);
    expect((await upload(stack, source, 'fake.txt', png, { type: 'text/plain' })).status).toBe(415);
    expect((await upload(stack, source, 'fake.pdf', 'not a pdf', { type: 'application/pdf' })).status).toBe(415);
    const wrongField = await upload(stack, source, 'a.txt', 'hello', { field: 'document' });
    expect(wrongField.status).toBe(400);
    expect(wrongField.body).toMatchObject({ errors: [{ path: 'document' }] });
    const form = new FormData();
    form.append('note', 'no file here');
    const none = await fetch(`${stack.url}/api/sources/${source}/upload`, { method: 'POST', headers: { authorization: 'Bearer test-operator-key-0123456789' }, body: form });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ errors: [{ path: 'file' }] });
    expect(await sql(stack, 'SELECT id FROM files WHERE source_id = $1', [source])).toEqual([]);
  });

  it("another organization's source and file are 404 on every route and never listed", async () => {
    const a = await createTenant(stack, 'files-a');
    const b = await createTenant(stack, 'files-b');
    const source = await newSource(stack, a.adminKey);
    const up = await upload(stack, source, 'a.txt', 'secret of A', { key: a.adminKey, type: 'text/plain' });
    expect(up.status).toBe(202);
    const fileId = (up.body as unknown as ApiFile).id;
    await ended(stack, fileId);
    for (const [method, path] of [
      ['GET', `/api/sources/${source}`],
      ['GET', `/api/sources/${source}/files`],
      ['GET', `/api/sources/${source}/files?check_status_updates=true`],
      ['GET', `/api/files/${fileId}`],
      ['GET', `/api/files/${fileId}/chunks`],
      ['DELETE', `/api/sources/${source}`],
    ] as const) {
      expect([method, path, (await stack.request(method, path, undefined, b.adminKey)).status]).toEqual([method, path, 404]);
    }
    expect((await upload(stack, source, 'b.txt', 'from B', { key: b.adminKey, type: 'text/plain' })).status).toBe(404);
    const listed = expectStatus<{ id: string }[]>(await stack.request('GET', '/api/sources', undefined, b.adminKey), 200);
    expect(listed.map((s) => s.id)).not.toContain(source);
    expect(expectStatus<{ id: string }[]>(await stack.request('GET', '/api/sources', undefined, a.adminKey), 200).map((s) => s.id)).toContain(source);
    expect((await stack.request('GET', `/api/files/${fileId}`, undefined, a.memberKey)).status).toBe(200);
  });

  it('DELETE /api/sources/{id} removes its files and chunks', async () => {
    const source = await newSource(stack);
    const res = await upload(stack, source, 'gone.txt', words(300), { type: 'text/plain' });
    const file = await ended(stack, (res.body as unknown as ApiFile).id);
    expect((await stack.request('DELETE', `/api/sources/${source}`)).status).toBe(200);
    expect((await stack.request('GET', `/api/sources/${source}`)).status).toBe(404);
    expect((await stack.request('GET', `/api/files/${file.id}`)).status).toBe(404);
    expect(await sql(stack, 'SELECT file_id FROM file_chunks WHERE file_id = $1', [file.id])).toEqual([]);
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = expectStatus<{ paths: Record<string, Record<string, unknown>> }>(await stack.request('GET', '/api/openapi.json', undefined, null), 200);
    for (const [path, method] of [
      ['/api/sources', 'post'], ['/api/sources', 'get'], ['/api/sources/{id}', 'get'], ['/api/sources/{id}', 'delete'],
      ['/api/sources/{id}/upload', 'post'], ['/api/sources/{id}/files', 'get'], ['/api/files/{id}', 'get'], ['/api/files/{id}/chunks', 'get'],
    ]) {
      expect([path, method, doc.paths[path!]?.[method!] !== undefined]).toEqual([path, method, true]);
    }
  });

  it('a source deleted while its upload streamed in makes the upload a 404, not a 500', async () => {
    const source = await newSource(stack);
    const row = { id: source, organization_id: (await sql<{ organization_id: string }>(stack, 'SELECT organization_id FROM sources WHERE id = $1', [source]))[0]!.organization_id, name: 'docs', created_at: new Date() };
    expect((await stack.request('DELETE', `/api/sources/${source}`)).status).toBe(200);
    const db = createDb(stack.database.url, 1);
    try {
      await expect(new FileStore(db).createFile(row, { name: 'late.txt', mimeType: 'text/plain', sizeBytes: 1, content: Buffer.from('x') })).rejects.toMatchObject({ status: 404 });
    } finally {
      await db.$disconnect();
    }
  });

  it('bad input is a 400 naming the field', async () => {
    const r = await stack.request('POST', '/api/sources', { name: '' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ errors: [{ path: 'name' }] });
    expect((await stack.request('GET', '/api/files/not-an-id')).status).toBe(400);
    expect((await stack.request('GET', '/api/sources/source-00000000-0000-4000-8000-000000000000/files?check_status_updates=maybe')).status).toBe(400);
  });
});

describe('the HTTP embedder against an OpenAI-compatible endpoint', () => {
  let stack: TestStack;
  const fake = new FakeEmbeddingsServer(16);
  beforeAll(async () => {
    await fake.start();
    stack = await startStack({
      worker: true,
      env: { EMBEDDINGS_URL: fake.url, EMBEDDINGS_MODEL: 'test-embed', EMBEDDINGS_API_KEY: 'sk-test-embeddings', EMBEDDINGS_BATCH_SIZE: '4', EMBEDDINGS_BACKOFF_MS: '50', CHUNK_SIZE: '32', CHUNK_OVERLAP: '4' },
    });
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('sends the chunks in batches, retries a 500 with backoff, and stores the returned vectors', async () => {
    fake.failNext(1, 500);
    const source = await newSource(stack);
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const res = await upload(stack, source, 'e.txt', text, { type: 'text/plain' });
    const file = await ended(stack, (res.body as unknown as ApiFile).id);
    expect(file.status).toBe('completed');
    const served = fake.requests.filter((r) => r.status === 200);
    expect(fake.requests[0]!.status).toBe(500);
    expect(served.reduce((n, r) => n + (r.body.input as string[]).length, 0)).toBe(file.total_chunks);
    expect(served.every((r) => (r.body.input as string[]).length <= 4 && r.body.model === 'test-embed')).toBe(true);
    expect(served.length).toBe(Math.ceil(file.total_chunks! / 4));
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-test-embeddings');
    const chunks = expectStatus<Chunk[]>(await stack.request('GET', `/api/files/${file.id}/chunks`), 200);
    expect(chunks.every((c) => c.embedding_dims === 16)).toBe(true);
  });

  describe('HttpEmbedder on its own', () => {
    const embedder = (maxAttempts = 3) => new HttpEmbedder({ url: fake.url, model: 'm', batchSize: 8, maxAttempts, backoffMs: 20 });

    it('honours Retry-After on 429 and succeeds on the next try', async () => {
      fake.failNext(1, 429);
      const before = fake.requests.length;
      const started = Date.now();
      const vectors = await embedder().embed(['a', 'b'], new AbortController().signal);
      // Retry-After: 1 (seconds) wins over the 20 ms backoff.
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(vectors.map((v) => v.length)).toEqual([16, 16]);
      expect(fake.requests.slice(before).map((r) => r.status)).toEqual([429, 200]);
    });

    it('fails at once on a 4xx other than 429 (a permanent error, no retry)', async () => {
      fake.failNext(1, 401);
      const before = fake.requests.length;
      await expect(embedder().embed(['a'], new AbortController().signal)).rejects.toMatchObject({ permanent: true, message: expect.stringContaining('HTTP 401') });
      expect(fake.requests.length - before).toBe(1);
    });

    it('gives up after maxAttempts 5xx answers, naming the last one', async () => {
      fake.failNext(3, 503);
      await expect(embedder(3).embed(['a'], new AbortController().signal)).rejects.toThrow(/failed after 3 attempts: embeddings endpoint answered HTTP 503/);
    });

    it('aborts the request in flight when its signal fires', async () => {
      fake.delayMs = 10_000;
      try {
        const abortedBefore = fake.aborted;
        const ctl = new AbortController();
        const call = embedder().embed(['slow'], ctl.signal);
        await waitFor(() => fake.requests.length > 0 && fake.requests[fake.requests.length - 1]!.body.input !== undefined, 'the request sent');
        setTimeout(() => ctl.abort(new Error('stop')), 100);
        await expect(call).rejects.toThrow('stop');
        await waitFor(() => fake.aborted > abortedBefore, 'the server to see the request abandoned');
      } finally {
        fake.delayMs = 0;
      }
    });
  });
});
