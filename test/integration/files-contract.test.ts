import { Client } from 'pg';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { upload } from '../support/uploads';
import { waitFor } from '../support/wait';

/** The contract review of the files routes and task (API.md "Sources and files"): isolation, ownership, errors. */
interface ApiFile {
  id: string;
  status: string;
  error_message: string | null;
  job_id: string;
  total_chunks: number | null;
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

describe('files: organization ownership and error contract', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    stack = await startStack({ worker: true, env: { CHUNK_SIZE: '64', CHUNK_OVERLAP: '8', EVENT_LOOP_THREADPOOL_MAX_WORKERS: '1' } });
    a = await createTenant(stack, 'contract-a');
    b = await createTenant(stack, 'contract-b');
  });
  afterAll(async () => {
    await stack.stop();
  });

  const newSource = async (key?: string) => expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'docs' }, key), 201).id;
  const ended = (id: string, key?: string) =>
    waitFor(async () => {
      const f = (await stack.request('GET', `/api/files/${id}`, undefined, key)).body as ApiFile;
      return f.status === 'completed' || f.status === 'error' ? f : null;
    }, `file ${id} to end`, 60_000);
  const jobEnded = (id: string, key?: string) =>
    waitFor(async () => {
      const j = (await stack.request('GET', `/api/jobs/${id}`, undefined, key)).body as { status: string; attempts: number; error: { message: string } | null };
      return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : null;
    }, `job ${id} to end`, 60_000);

  it("a file.process job of organization B naming A's file fails as not found, and A's file and chunks are untouched", async () => {
    const source = await newSource(a.adminKey);
    const up = await upload(stack, source, 'a.txt', `secret of A ${'word '.repeat(200)}`, { key: a.adminKey, type: 'text/plain' });
    expect(up.status).toBe(202);
    const fileId = (up.body as unknown as ApiFile).id;
    const before = await ended(fileId, a.adminKey);
    expect(before.status).toBe('completed');
    const chunksBefore = await sql<{ index: number; text: string }>(stack, 'SELECT index, text FROM file_chunks WHERE file_id = $1 ORDER BY index', [fileId]);
    expect(chunksBefore.length).toBeGreaterThan(0);
    const rowBefore = await sql(stack, 'SELECT status, processing_attempt, updated_at, job_id FROM files WHERE id = $1', [fileId]);

    const created = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'file.process', input: { file_id: fileId }, background: true }, b.adminKey), 201);
    const job = await jobEnded(created.id, b.adminKey);
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.error!.message).toBe(`file ${fileId} not found`);

    expect(await sql(stack, 'SELECT status, processing_attempt, updated_at, job_id FROM files WHERE id = $1', [fileId])).toEqual(rowBefore);
    expect(await sql(stack, 'SELECT index, text FROM file_chunks WHERE file_id = $1 ORDER BY index', [fileId])).toEqual(chunksBefore);
    // The same answer for an id that exists nowhere: B learns nothing.
    const none = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'file.process', input: { file_id: 'file-00000000-0000-4000-8000-000000000000' }, background: true }, b.adminKey), 201);
    expect((await jobEnded(none.id, b.adminKey)).error!.message).toBe('file file-00000000-0000-4000-8000-000000000000 not found');
  });

  it("an operator's upload to another organization's source creates the job in the source's organization", async () => {
    const source = await newSource(a.adminKey);
    const up = await upload(stack, source, 'op.txt', 'uploaded by the operator', { type: 'text/plain' });
    expect(up.status).toBe(202);
    const file = up.body as unknown as ApiFile;
    const [job] = await sql<{ organization_id: string }>(stack, 'SELECT organization_id FROM jobs WHERE id = $1', [file.job_id]);
    expect(job!.organization_id).toBe(a.orgId);
    expect((await stack.request('GET', `/api/jobs/${file.job_id}`, undefined, a.memberKey)).status).toBe(200);
    expect((await ended(file.id, a.adminKey)).status).toBe('completed');
  });

  it("GET /api/sources: an operator's list is its own organization's unless it passes organization_id", async () => {
    const mine = await newSource();
    const theirs = await newSource(b.adminKey);
    const own = expectStatus<{ id: string }[]>(await stack.request('GET', '/api/sources?limit=200'), 200).map((s) => s.id);
    expect(own).toContain(mine);
    expect(own).not.toContain(theirs);
    const ofB = expectStatus<{ id: string }[]>(await stack.request('GET', `/api/sources?organization_id=${b.orgId}&limit=200`), 200);
    expect(ofB.map((s) => s.id)).toContain(theirs);
    // Not an operator: organization_id cannot widen the view (as in the jobs list).
    const asA = expectStatus<{ id: string }[]>(await stack.request('GET', `/api/sources?organization_id=${b.orgId}`, undefined, a.adminKey), 200).map((s) => s.id);
    expect(asA).not.toContain(theirs);
    expect((await stack.request('GET', '/api/sources?organization_id=nope')).status).toBe(400);
  });

  it('a text upload with a NUL byte anywhere (past the sniffed 64 KiB too) ends error as binary content at once, no retries', async () => {
    const source = await newSource();
    const bytes = Buffer.concat([Buffer.from('text '.repeat(20_000)), Buffer.from([0]), Buffer.from(' more text')]);
    const up = await upload(stack, source, 'late-nul.txt', bytes, { type: 'text/plain' });
    expect(up.status).toBe(202);
    const file = await ended((up.body as unknown as ApiFile).id);
    expect(file.status).toBe('error');
    expect(file.error_message).toBe('binary content: a NUL byte at offset 100000, not the UTF-8 text a text/plain file must be');
    expect(await jobEnded(file.job_id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('NUL characters in text extracted from a PDF are dropped, and the file completes', async () => {
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage();
    page.drawText('Before the raw line.', { x: 50, y: 700, size: 14, font });
    // Char code 0 shown in a font pdf.js cannot resolve comes out as U+0000, which a PostgreSQL text column refuses.
    page.node.addContentStream(doc.context.register(doc.context.stream('BT /F9 14 Tf 50 650 Td (NUL\\000HERE) Tj ET')));
    const source = await newSource();
    const up = await upload(stack, source, 'nul.pdf', await doc.save(), { type: 'application/pdf' });
    expect(up.status).toBe(202);
    const file = await ended((up.body as unknown as ApiFile).id);
    expect(file).toMatchObject({ status: 'completed', error_message: null });
    const chunks = expectStatus<{ text: string }[]>(await stack.request('GET', `/api/files/${file.id}/chunks`), 200);
    expect(chunks.map((c) => c.text).join(' ')).toContain('NULHERE');
  });

  it('an upload without a multipart body is a 400 naming `file`; an unsupported type stays 415', async () => {
    const source = await newSource();
    const path = `/api/sources/${source}/upload`;
    const auth = { authorization: `Bearer ${OPERATOR_KEY}` };
    for (const [what, init] of [
      ['no body', { method: 'POST', headers: auth }],
      ['JSON body', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"file":"x"}' }],
      ['plain text body', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' }],
    ] as const) {
      const res = await fetch(`${stack.url}${path}`, init);
      const body = (await res.json()) as { status: number; errors: { path: string }[] };
      expect([what, res.status, body.errors?.[0]?.path]).toEqual([what, 400, 'file']);
    }
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect((await upload(stack, source, 'image.png', png, { type: 'image/png' })).status).toBe(415);
    expect(await sql(stack, 'SELECT id FROM files WHERE source_id = $1', [source])).toEqual([]);
  });

  it('the sources and files lists page by after/before/order with Link rel="next", like the jobs list', async () => {
    const t = await createTenant(stack, 'contract-pages');
    const sources: string[] = [];
    for (let i = 0; i < 5; i++) sources.push(await newSource(t.adminKey));
    const get = (path: string) => stack.request('GET', path, undefined, t.adminKey);
    const walk = async (first: string) => {
      const seen: string[] = [];
      let next: string | null = first;
      while (next) {
        const r = await get(next);
        seen.push(...expectStatus<{ id: string }[]>(r, 200).map((x) => x.id));
        next = /<([^>]+)>; rel="next"/.exec(r.headers.get('link') ?? '')?.[1] ?? null;
      }
      return seen;
    };
    expect(await walk('/api/sources?limit=2')).toEqual([...sources].reverse());
    expect(await walk('/api/sources?limit=2&order=asc')).toEqual(sources);
    expect(expectStatus<{ id: string }[]>(await get(`/api/sources?order=asc&after=${sources[0]}&before=${sources[3]}`), 200).map((x) => x.id)).toEqual(sources.slice(1, 3));
    expect(expectStatus<{ id: string }[]>(await get(`/api/sources?before=${sources[1]}&limit=2`), 200).map((x) => x.id)).toEqual([sources[3], sources[2]]);
    // A cursor of another organization is unknown here.
    const foreign = await newSource(b.adminKey);
    const bad = await get(`/api/sources?after=${foreign}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: [{ path: 'after' }] });

    const source = sources[0]!;
    const fileIds: string[] = [];
    for (let i = 0; i < 3; i++) fileIds.push((((await upload(stack, source, `f${i}.txt`, `file ${i}`, { key: t.adminKey, type: 'text/plain' })).body as unknown) as ApiFile).id);
    expect(await walk(`/api/sources/${source}/files?limit=2`)).toEqual(fileIds);
    expect(await walk(`/api/sources/${source}/files?limit=1&order=desc`)).toEqual([...fileIds].reverse());
    expect((await get(`/api/sources/${source}/files?after=${fileIds[0]}`)).body).toEqual([expect.objectContaining({ id: fileIds[1] }), expect.objectContaining({ id: fileIds[2] })]);
    expect((await get(`/api/sources/${source}/files?after=source-00000000-0000-4000-8000-000000000000`)).status).toBe(400);
  });
});
