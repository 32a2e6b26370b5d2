import { Client } from 'pg';
import { createApiProcess } from '../../apps/api/src/api-process';
import { createWorkerProcess } from '../../apps/worker/src/worker-process';
import { loadSettings } from '../../packages/core/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent } from '../../packages/db/src/job-row';
import { closedPort } from '../support/closed-port';
import { createTestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { createKey } from '../support/keys';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

/** POST /api/jobs/bulk (API.md, second version): all or nothing, in the order given. */
describe('POST /api/jobs/bulk', () => {
  let stack: TestStack;
  let pg: Client;

  beforeAll(async () => {
    stack = await startStack({ worker: true, checkContract: true });
    pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await stack.stop();
  });

  const count = async (table: 'jobs' | 'job_events' = 'jobs') =>
    // Creation events only: the worker appends the later ones of earlier tests' jobs meanwhile.
    Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}${table === 'job_events' ? ' WHERE seq = 1' : ''}`)).rows[0]!.n);
  const bulk = (jobs: unknown[], key?: string | null, headers?: Record<string, string>) => stack.request('POST', '/api/jobs/bulk', { jobs }, key, headers);
  const paths = (body: unknown) => ((body as Problem).errors ?? []).map((e) => e.path);

  it('creates every job, answering 201 with the jobs in the order given, queued and with a creation event', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ task: 'noop', metadata: { i }, priority: (i % 100) + 1 }));
    const r = await bulk(items);
    expect(r.status).toBe(201);
    const jobs = (r.body as { jobs: Job[] }).jobs;
    expect(jobs.map((j) => j.metadata['i'])).toEqual(items.map((_, i) => i));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(20);
    for (const [i, j] of jobs.entries()) {
      expect(j).toMatchObject({ job_type: 'job', task: 'noop', background: true, priority: (i % 100) + 1, input: {} });
      expect(j.id).toMatch(/^job-/);
      expect(['pending', 'running', 'completed']).toContain(j.status);
    }
    const single = await stack.request('POST', '/api/jobs', { task: 'noop' });
    expect(Object.keys(jobs[0]!).sort()).toEqual(Object.keys(single.body as Job).sort());
    // Every job runs to completion, with the same history as a single create.
    for (const j of jobs) {
      await waitFor(async () => ((await stack.request('GET', `/api/jobs/${j.id}`)).body as Job).status === 'completed', `job ${j.id} completed`);
    }
    const events = (await stack.request('GET', `/api/jobs/${jobs[7]!.id}/events`)).body as JobEvent[];
    expect(events.map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
  });

  it('applies delay, expires_at and task input defaults to each item', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const r = await bulk([
      { task: 'sleep', input: { ms: 1 } },
      { task: 'noop', delay_ms: 600_000, expires_at: expires },
    ]);
    expect(r.status).toBe(201);
    const [sleep, delayed] = (r.body as { jobs: Job[] }).jobs;
    expect(sleep!.input).toMatchObject({ ms: 1 });
    expect(delayed).toMatchObject({ status: 'pending', delay_ms: 600_000, expires_at: expires });
  });

  it('refuses an invalid item with a 400 naming it, and creates nothing', async () => {
    const before = await count();
    const events = await count('job_events');
    const items: unknown[] = Array.from({ length: 6 }, () => ({ task: 'noop' }));
    items[3] = { task: 'sleep', input: { ms: 'long' } };
    const r = await bulk(items);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(paths(r.body)).toEqual(['jobs.3.input.ms']);
    // Fields of the create body itself, in any item.
    items[5] = { task: 'noop', priority: 0, unknown: 1 };
    const fields = await bulk(items);
    expect(fields.status).toBe(400);
    expect(paths(fields.body)).toEqual(expect.arrayContaining(['jobs.5.priority', 'jobs.5.unknown']));
    expect(await count()).toBe(before);
    expect(await count('job_events')).toBe(events);
  });

  it('names task input errors that only the task schema finds, and unknown tasks, by item', async () => {
    const before = await count();
    const r = await bulk([{ task: 'noop' }, { task: 'sleep', input: { ms: 5, extra: 1 } }, { task: 'nope' }]);
    expect(r.status).toBe(400);
    expect(paths(r.body)).toEqual(expect.arrayContaining(['jobs.1.input.extra', 'jobs.2.task']));
    expect(await count()).toBe(before);
  });

  it('names a callback_url refused by the host guard by item', async () => {
    const guarded = await startStack({ env: { CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false' }, checkContract: true });
    try {
      const r = await guarded.request('POST', '/api/jobs/bulk', { jobs: [{ task: 'noop', callback_url: 'https://8.8.8.8/hook' }, { task: 'noop', callback_url: 'http://127.0.0.1:9/hook' }] });
      expect(r.status).toBe(400);
      expect(paths(r.body)).toEqual(['jobs.1.callback_url']);
      expect((await guarded.request('GET', '/api/jobs')).body).toEqual([]);
    } finally {
      await guarded.stop();
    }
  });

  it('refuses an empty list, more than 1000 items, a missing list, unknown fields and background: false', async () => {
    const before = await count();
    const empty = await bulk([]);
    expect(empty.status).toBe(400);
    expect(paths(empty.body)).toEqual(['jobs']);
    const many = await bulk(Array.from({ length: 1001 }, () => ({ task: 'noop' })));
    expect(many.status).toBe(400);
    expect(paths(many.body)).toEqual(['jobs']);
    const missing = await stack.request('POST', '/api/jobs/bulk', {});
    expect(missing.status).toBe(400);
    expect(paths(missing.body)).toEqual(['jobs']);
    const extra = await stack.request('POST', '/api/jobs/bulk', { jobs: [{ task: 'noop' }], wait: true });
    expect(extra.status).toBe(400);
    expect(paths(extra.body)).toEqual(['wait']);
    const waiting = await bulk([{ task: 'noop' }, { task: 'noop', background: false }, { task: 'noop', wait_ms: 5 }]);
    expect(waiting.status).toBe(400);
    expect(paths(waiting.body)).toEqual(expect.arrayContaining(['jobs.1.background', 'jobs.2.wait_ms']));
    const header = await bulk([{ task: 'noop' }], undefined, { 'idempotency-key': 'k' });
    expect(header.status).toBe(400);
    expect(paths(header.body)).toEqual(['idempotency_key']);
    expect(await count()).toBe(before);
  });

  it('creates exactly 1000 items', async () => {
    const r = await bulk(Array.from({ length: 1000 }, (_, i) => ({ task: 'noop', metadata: { i } })));
    expect(r.status).toBe(201);
    const jobs = (r.body as { jobs: Job[] }).jobs;
    expect(jobs).toHaveLength(1000);
    expect(jobs[999]!.metadata['i']).toBe(999);
  });

  it('answers an item whose key was used before with the same body with the existing job, in its place', async () => {
    const key = `bulk-${Date.now()}`;
    const first = await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { n: 1 }, idempotency_key: `${key}-a` });
    expect(first.status).toBe(201);
    const before = await count();
    const r = await bulk([
      { task: 'noop', metadata: { n: 0 } },
      { task: 'noop', metadata: { n: 1 }, idempotency_key: `${key}-a` },
      { task: 'noop', metadata: { n: 2 }, idempotency_key: `${key}-b` },
    ]);
    expect(r.status).toBe(201);
    const jobs = (r.body as { jobs: Job[] }).jobs;
    expect(jobs[1]!.id).toBe((first.body as Job).id);
    expect(jobs[2]!.idempotency_key).toBe(`${key}-b`);
    expect(await count()).toBe(before + 2);
    // The whole request again: every item answers its job, nothing new.
    const again = await bulk([
      { task: 'noop', metadata: { n: 1 }, idempotency_key: `${key}-a` },
      { task: 'noop', metadata: { n: 2 }, idempotency_key: `${key}-b` },
    ]);
    expect(again.status).toBe(201);
    expect((again.body as { jobs: Job[] }).jobs.map((j) => j.id)).toEqual([jobs[1]!.id, jobs[2]!.id]);
    expect(await count()).toBe(before + 2);
  });

  it('answers 409 for a key used before with another body, and creates nothing', async () => {
    const key = `bulk-conflict-${Date.now()}`;
    expect((await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { n: 1 }, idempotency_key: key })).status).toBe(201);
    const before = await count();
    const r = await bulk([{ task: 'noop', idempotency_key: `${key}-new` }, { task: 'noop' }, { task: 'noop', metadata: { n: 2 }, idempotency_key: key }]);
    expect(r.status).toBe(409);
    expect(await count()).toBe(before);
  });

  it('takes a key repeated within one request as one job when the bodies match, and answers 409 when they differ', async () => {
    const key = `bulk-twice-${Date.now()}`;
    const before = await count();
    const same = await bulk([{ task: 'noop', idempotency_key: key }, { task: 'noop' }, { task: 'noop', idempotency_key: key }]);
    expect(same.status).toBe(201);
    const jobs = (same.body as { jobs: Job[] }).jobs;
    expect(jobs[2]!.id).toBe(jobs[0]!.id);
    expect(await count()).toBe(before + 2);
    const differ = await bulk([{ task: 'noop', idempotency_key: `${key}-x` }, { task: 'noop', metadata: { other: true }, idempotency_key: `${key}-x` }]);
    expect(differ.status).toBe(409);
    expect(await count()).toBe(before + 2);
  });

  it('needs a key, and creates in the caller organization whatever its role', async () => {
    expect((await bulk([{ task: 'noop' }], null)).status).toBe(401);
    expect((await bulk([{ task: 'noop' }], 'not-a-key')).status).toBe(401);
    for (const role of ['member', 'admin'] as const) {
      const k = await createKey(stack, role);
      const r = await bulk([{ task: 'noop' }, { task: 'noop' }], k.key);
      expect(r.status).toBe(201);
      const jobs = (r.body as { jobs: Job[] }).jobs;
      const rows = await pg.query<{ organization_id: string }>('SELECT organization_id FROM jobs WHERE id = ANY($1)', [jobs.map((j) => j.id)]);
      expect(rows.rows.map((x) => x.organization_id)).toEqual([k.organization_id, k.organization_id]);
    }
  });

  it.each([
    ['without idempotency keys', false],
    ['with idempotency keys (in a transaction)', true],
  ])('leaves no row at all when the database fails half-way through the insert, %s', async (_what, keyed) => {
    await pg.query(`
      CREATE OR REPLACE FUNCTION test_fail_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.metadata ? 'boom' THEN RAISE EXCEPTION 'injected failure of one row'; END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS test_fail_boom ON jobs;
      CREATE TRIGGER test_fail_boom BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION test_fail_boom();`);
    const before = await count();
    const events = await count('job_events');
    try {
      const stamp = Date.now();
      const items = Array.from({ length: 200 }, (_, i) => ({
        task: 'noop',
        metadata: i === 150 ? { boom: true } : { i },
        ...(keyed ? { idempotency_key: `boom-${stamp}-${i}` } : {}),
      }));
      // An injected fault answers 500, which no contract names: this request bypasses the contract check.
      const r = await fetch(`${stack.url}/api/jobs/bulk`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jobs: items }),
      });
      await r.text();
      expect(r.status).toBeGreaterThanOrEqual(500);
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS test_fail_boom ON jobs');
    }
    expect(await count()).toBe(before);
    expect(await count('job_events')).toBe(events);
  });
});

describe('POST /api/jobs/bulk with Redis unreachable', () => {
  const launch = async (env: Record<string, string>, worker = false) => {
    const settings = loadSettings({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      SHUTDOWN_GRACE_MS: '1000',
      DB_POOL_SIZE: '4',
      SWEEP_INTERVAL_MS: '1000',
      BOOTSTRAP_API_KEY: OPERATOR_KEY,
      ...env,
    });
    const api = createApiProcess(settings);
    const url = await api.listen(0, '127.0.0.1');
    const workerProcess = worker ? createWorkerProcess(settings) : undefined;
    await workerProcess?.start();
    const request = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    return {
      request,
      stop: async () => {
        await workerProcess?.stop();
        await api.stop();
      },
    };
  };

  it('answers 201 with every job `created`, and the reconciler queues them once Redis is back', async () => {
    const database = await createTestDatabase();
    const prefix = testPrefix();
    try {
      const down = await launch({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, QUEUE_PREFIX: prefix });
      let jobs: Job[];
      try {
        const r = await down.request('POST', '/api/jobs/bulk', { jobs: [{ task: 'noop' }, { task: 'noop' }, { task: 'noop' }] });
        expect(r.status).toBe(201);
        jobs = (r.body as { jobs: Job[] }).jobs;
        expect(jobs.map((j) => j.status)).toEqual(['created', 'created', 'created']);
      } finally {
        await down.stop();
      }
      const healthy = await launch({ DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix }, true);
      try {
        for (const j of jobs) {
          const done = await waitFor(async () => {
            const now = (await healthy.request('GET', `/api/jobs/${j.id}`)).body as Job;
            return now.status === 'completed' ? now : null;
          }, `job ${j.id} queued by the reconciler and completed`, 30_000, 200);
          expect(done.attempts).toBe(1);
        }
      } finally {
        await healthy.stop();
      }
    } finally {
      await deleteKeysWithPrefix(prefix);
      await database.drop();
    }
  });
});
