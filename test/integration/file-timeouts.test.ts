import { Client } from 'pg';
import { FakeEmbeddingsServer } from '../fakes/embeddings-server';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { upload } from '../support/uploads';
import { waitFor } from '../support/wait';

interface ApiFile {
  id: string;
  status: string;
  error_message: string | null;
  job_id: string;
  chunks_embedded: number;
}

async function sql(stack: TestStack, text: string, params: unknown[] = []): Promise<void> {
  const c = new Client({ connectionString: stack.database.url });
  await c.connect();
  try {
    await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** Ages a file (and its job) as if it had been uploaded `minutes` ago. */
const age = (stack: TestStack, fileId: string, minutes: number) => sql(stack, `UPDATE files SET created_at = now() - make_interval(mins => $2) WHERE id = $1`, [fileId, minutes]);

async function uploaded(stack: TestStack, text = 'some text to process '.repeat(200)): Promise<ApiFile> {
  const source = expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'timeouts' }), 201).id;
  const res = await upload(stack, source, 'slow.txt', text, { type: 'text/plain' });
  expect(res.status).toBe(202);
  return { ...(res.body as unknown as ApiFile), source_id: source } as ApiFile & { source_id: string };
}

const MESSAGE = 'Took longer than {} minute(s); upload it again.';

describe('the file processing timeout on read (check_status_updates=true)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // No worker: uploads stay `pending`, as behind a stuck or absent worker fleet.
    stack = await startStack({ env: { FILE_PROCESSING_TIMEOUT_MINUTES: '1', FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE: MESSAGE } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('moves an overdue file to error with the message (its {} = the minutes) and cancels its job; only with the flag', async () => {
    const file = (await uploaded(stack)) as ApiFile & { source_id: string };
    await age(stack, file.id, 2);
    const plain = expectStatus<ApiFile[]>(await stack.request('GET', `/api/sources/${file.source_id}/files`), 200);
    expect(plain[0]).toMatchObject({ id: file.id, status: 'pending' });
    const checked = expectStatus<ApiFile[]>(await stack.request('GET', `/api/sources/${file.source_id}/files?check_status_updates=true`), 200);
    expect(checked[0]).toMatchObject({ id: file.id, status: 'error', error_message: 'Took longer than 1 minute(s); upload it again.' });
    const job = expectStatus<{ status: string; stop_reason: string }>(await stack.request('GET', `/api/jobs/${file.job_id}`), 200);
    expect(job).toMatchObject({ status: 'cancelled', stop_reason: 'timeout' });
  });

  it('leaves a file younger than FILE_PROCESSING_TIMEOUT_MINUTES alone', async () => {
    const file = (await uploaded(stack)) as ApiFile & { source_id: string };
    await sql(stack, `UPDATE files SET created_at = now() - interval '50 seconds' WHERE id = $1`, [file.id]);
    const checked = expectStatus<ApiFile[]>(await stack.request('GET', `/api/sources/${file.source_id}/files?check_status_updates=true`), 200);
    expect(checked[0]).toMatchObject({ id: file.id, status: 'pending', error_message: null });
  });
});

describe('FILE_PROCESSING_TIMEOUT_MINUTES changes which files are overdue', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { FILE_PROCESSING_TIMEOUT_MINUTES: '5' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('with 5 minutes, a file 2 minutes old is not overdue, one 6 minutes old is, with the default message', async () => {
    const file = (await uploaded(stack)) as ApiFile & { source_id: string };
    await age(stack, file.id, 2);
    let listed = expectStatus<ApiFile[]>(await stack.request('GET', `/api/sources/${file.source_id}/files?check_status_updates=true`), 200);
    expect(listed[0]!.status).toBe('pending');
    await age(stack, file.id, 6);
    listed = expectStatus<ApiFile[]>(await stack.request('GET', `/api/sources/${file.source_id}/files?check_status_updates=true`), 200);
    expect(listed[0]).toMatchObject({ status: 'error', error_message: 'File processing timed out after 5 minutes. Please try again.' });
  });
});

describe('the file processing timeout by the sweep', () => {
  let stack: TestStack;
  const fake = new FakeEmbeddingsServer(8);
  beforeAll(async () => {
    await fake.start();
    // Every embeddings answer takes a minute: the file sits in `embedding` until the sweep times it out.
    fake.delayMs = 60_000;
    stack = await startStack({
      worker: true,
      env: { FILE_PROCESSING_TIMEOUT_MINUTES: '1', FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE: MESSAGE, EMBEDDINGS_URL: fake.url, SWEEP_INTERVAL_MS: '3600000' },
    });
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('cancelling the processing job stops it and ends the file in error', async () => {
    const file = await uploaded(stack);
    await waitFor(async () => ((await stack.request('GET', `/api/files/${file.id}`)).body as ApiFile).status === 'embedding', 'the file in embedding');
    expect((await stack.request('PATCH', `/api/jobs/${file.job_id}/cancel`)).status).toBe(200);
    const after = await waitFor(async () => {
      const f = (await stack.request('GET', `/api/files/${file.id}`)).body as ApiFile;
      return f.status === 'error' ? f : null;
    }, 'the file in error');
    expect(after.error_message).toBe('File processing was cancelled.');
    await waitFor(() => stack.worker!.runner.runningJobIds().length === 0, 'the attempt gone from the worker', 15_000);
  });

  it('moves a file stuck in embedding to error, cancels its job and fires the handler\'s AbortSignal', async () => {
    const file = await uploaded(stack);
    await waitFor(async () => ((await stack.request('GET', `/api/files/${file.id}`)).body as ApiFile).status === 'embedding', 'the file in embedding');
    await waitFor(() => fake.requests.length > 0, 'an embeddings request in flight');
    await age(stack, file.id, 2);
    await stack.worker!.reconciler.sweepOnce();
    const after = expectStatus<ApiFile>(await stack.request('GET', `/api/files/${file.id}`), 200);
    expect(after).toMatchObject({ status: 'error', error_message: 'Took longer than 1 minute(s); upload it again.' });
    const job = expectStatus<{ status: string; stop_reason: string }>(await stack.request('GET', `/api/jobs/${file.job_id}`), 200);
    expect(job).toMatchObject({ status: 'cancelled', stop_reason: 'timeout' });
    // The attempt stops well before the embeddings answer (a minute away): its signal aborted the request.
    await waitFor(() => fake.aborted > 0, 'the in-flight embeddings request aborted', 15_000);
    await waitFor(() => stack.worker!.runner.runningJobIds().length === 0, 'the attempt gone from the worker', 15_000);
    // Terminal is final: nothing the stopped attempt does afterwards changes the file.
    await new Promise((r) => setTimeout(r, 500));
    expect(expectStatus<ApiFile>(await stack.request('GET', `/api/files/${file.id}`), 200)).toMatchObject({ status: 'error', chunks_embedded: 0 });
  });
});
