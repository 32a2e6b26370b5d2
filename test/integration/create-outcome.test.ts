import { Client } from 'pg';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent } from '../../packages/db/src/job-row';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Issue 10 item 8, "201 or nothing": once the row is written the create succeeds (the client's retry after a
 * 5xx would create a duplicate). The row is inserted already `pending` with both creation events, so nothing is
 * written after the BullMQ add: no later write can fail the create, and none costs the request a round trip.
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

  const jobCount = async () => Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM jobs')).rows[0]!.n);

  it.each([['a single create', 1], ['another', 2]])('%s writes its row once, `pending` with both creation events, and queues it', async (_what, n) => {
    // A trigger counts every UPDATE of jobs: the create must make none (it used to write `pending` after the add).
    await pg.query(`
      CREATE TABLE IF NOT EXISTS test_job_updates (id text, old_status text, new_status text);
      CREATE OR REPLACE FUNCTION test_count_updates() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO test_job_updates VALUES (NEW.id, OLD.status, NEW.status); RETURN NEW; END $$;
      DROP TRIGGER IF EXISTS test_count_updates ON jobs;
      CREATE TRIGGER test_count_updates AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_count_updates();`);
    const before = await jobCount();
    let job: Job;
    try {
      const r = await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { case: n } });
      expect(r.status).toBe(201);
      job = r.body as Job;
      expect(job.status).toBe('pending');
      expect(r.headers.get('location')).toBe(`/api/jobs/${job.id}`);
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS test_count_updates ON jobs');
    }
    expect((await pg.query('SELECT * FROM test_job_updates WHERE id = $1', [job.id])).rows).toEqual([]);
    expect(await jobCount()).toBe(before + 1);
    expect(((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status).toBe('pending');
    const events = (await stack.request('GET', `/api/jobs/${job.id}/events`)).body as JobEvent[];
    expect(events.map((e) => [e.seq, e.from, e.to, e.attempt, e.worker_id, e.reason])).toEqual([
      [1, null, 'created', 0, null, null],
      [2, 'created', 'pending', 0, null, 'queued'],
    ]);
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
    // A row left behind (`pending` as inserted) would be queued by the reconciler: a job that runs after an error answer.
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
