import { Client } from 'pg';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent } from '../../packages/db/src/job-row';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Issue 10 item 8, "201 or nothing": once the BullMQ add has succeeded the job will run, so a failure of
 * the following `created → pending` write must not turn into a 5xx (the client's retry would create a
 * duplicate). A trigger in the test database makes exactly that write fail, with a connection-class
 * SQLSTATE (what an outage looks like) and with a plain error.
 */
describe('create answers 2xx once the job is queued (201 or nothing)', () => {
  let stack: TestStack;
  let pg: Client;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    // Polling on: the batch route refuses batches while it is off, and the batch case needs the create to run.
    stack = await startStack({ worker: false, env: { ENABLE_BATCH_JOB_POLLING: 'true' } });
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await worker?.stop();
    await pg.end();
    await stack.stop();
  });

  const failPendingWrites = (sqlstate: string) =>
    pg.query(`
      CREATE OR REPLACE FUNCTION test_fail_pending() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status = 'created' AND NEW.status = 'pending' THEN
          RAISE EXCEPTION 'injected failure of the pending write' USING ERRCODE = '${sqlstate}';
        END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS test_fail_pending ON jobs;
      CREATE TRIGGER test_fail_pending BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_fail_pending();`);
  const healPendingWrites = () => pg.query('DROP TRIGGER IF EXISTS test_fail_pending ON jobs');
  const jobCount = async () => Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM jobs')).rows[0]!.n);

  it.each([
    ['an outage-class error (57P01)', '57P01'],
    ['any other error (P0001)', 'P0001'],
  ])('answers 201 with the job `created` when the pending write fails with %s after the enqueue', async (_what, sqlstate) => {
    await failPendingWrites(sqlstate);
    const before = await jobCount();
    let job: Job;
    try {
      const r = await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { case: sqlstate } });
      expect(r.status).toBe(201);
      job = r.body as Job;
      expect(job.status).toBe('created');
      expect(r.headers.get('location')).toBe(`/api/jobs/${job.id}`);
    } finally {
      await healPendingWrites();
    }
    // Exactly one row, and it is queued (or staged for its turn): it will run without any help from the client.
    expect(await jobCount()).toBe(before + 1);
    expect(['prioritized', 'waiting', 'staged']).toContain(await stack.api.deps.queue.state(job.id));
  });

  it('leaves no job behind when a create fails before its enqueue (a batch whose items cannot be stored)', async () => {
    await pg.query(`
      CREATE OR REPLACE FUNCTION test_fail_items() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure of the items insert'; END $$;
      CREATE TRIGGER test_fail_items BEFORE INSERT ON llm_batch_items FOR EACH STATEMENT EXECUTE FUNCTION test_fail_items();`);
    const before = await jobCount();
    try {
      const r = await stack.request('POST', '/api/batches', {
        requests: [{ custom_id: 'q1', params: { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } }],
      });
      expect(r.status).toBeGreaterThanOrEqual(500);
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS test_fail_items ON llm_batch_items');
    }
    // A row left `created` would be queued by the reconciler: a job that runs after an error answer.
    expect(await jobCount()).toBe(before);
  });

  it('runs those jobs exactly once when a worker comes, with the usual history', async () => {
    worker = createWorkerProcess({ ...stack.settings, ENABLE_BATCH_JOB_POLLING: false });
    await worker.start();
    const jobs = (await stack.request('GET', '/api/jobs?limit=100')).body as Job[];
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      const done = await waitFor(async () => {
        const row = (await stack.request('GET', `/api/jobs/${j.id}`)).body as Job;
        return row.status === 'completed' ? row : null;
      }, `job ${j.id} completed`, 30_000);
      expect(done.attempts).toBe(1);
      const events = (await stack.request('GET', `/api/jobs/${j.id}/events`)).body as JobEvent[];
      expect(events.map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
    }
  });
});
