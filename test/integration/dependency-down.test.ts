import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import { loadSettings } from '../../packages/core/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { OPERATOR_KEY } from '../support/stack';
import { closedPort } from '../support/closed-port';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
}

/** An API (and optionally a worker) in this process, on whatever Postgres/Redis URLs the test gives. */
async function launch(env: Record<string, string>, opts: { worker?: boolean; bootstrap?: boolean } = {}) {
  const settings = loadSettings({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    SHUTDOWN_GRACE_MS: '1000',
    DB_POOL_SIZE: '4',
    SWEEP_INTERVAL_MS: '1000',
    ...(opts.bootstrap === false ? {} : { BOOTSTRAP_API_KEY: OPERATOR_KEY }),
    ...env,
  });
  const api: ApiProcess = createApiProcess(settings);
  const url = await api.listen(0, '127.0.0.1');
  let worker: WorkerProcess | undefined;
  if (opts.worker) {
    worker = createWorkerProcess(settings);
    await worker.start();
  }
  const request = async (method: string, path: string, body?: unknown) => {
    const started = Date.now();
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as unknown, ms: Date.now() - started };
  };
  return {
    api,
    worker,
    request,
    async stop() {
      await worker?.stop();
      await api.stop();
    },
  };
}

const expect503 = (r: { status: number; headers: Headers; ms: number }) => {
  expect(r.status).toBe(503);
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.ms).toBeLessThan(8000);
};

describe('a dependency that is down', () => {
  let database: TestDatabase;
  const prefix = testPrefix();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    await database.drop();
  });

  it('Postgres unreachable: the API answers 503 with Retry-After, quickly', async () => {
    const port = await closedPort();
    const app = await launch({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/nowhere`, REDIS_URL, QUEUE_PREFIX: prefix }, { bootstrap: false });
    try {
      expect503(await app.request('GET', '/api/jobs'));
      expect503(await app.request('POST', '/api/jobs', { task: 'noop' }));
      const health = await app.request('GET', '/api/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'degraded', checks: { postgres: 'down', redis: 'ok' } });
    } finally {
      await app.stop();
    }
  });

  it('Redis unreachable: a create still answers 201 with status created, and the reconciler queues it later', async () => {
    const port = await closedPort();
    const app = await launch({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${port}`, QUEUE_PREFIX: prefix });
    let id: string;
    try {
      const created = await app.request('POST', '/api/jobs', { task: 'noop' });
      expect(created.status).toBe(201);
      expect(created.ms).toBeLessThan(8000);
      expect((created.body as Job).status).toBe('created');
      id = (created.body as Job).id;
      expect((await app.request('GET', `/api/jobs/${id}`)).status).toBe(200);
      const health = await app.request('GET', '/api/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ checks: { postgres: 'ok', redis: 'down' } });
    } finally {
      await app.stop();
    }
    // Redis is back (a healthy worker and API on the real one): the row is queued by the sweep and runs.
    const healthy = await launch({ DATABASE_URL: database.url, REDIS_URL, QUEUE_PREFIX: prefix }, { worker: true });
    try {
      const done = await waitFor(async () => {
        const j = (await healthy.request('GET', `/api/jobs/${id}`)).body as Job;
        return j.status === 'completed' ? j : null;
      }, 'job queued by the reconciler and completed', 30_000, 200);
      expect(done.attempts).toBe(1);
    } finally {
      await healthy.stop();
    }
  });

  it('Postgres goes away mid-life: 503 while down; the worker hands jobs back and resumes by itself', async () => {
    const pg = await TcpProxy.start(database.url);
    const app = await launch({ DATABASE_URL: pg.url(database.url), REDIS_URL, QUEUE_PREFIX: prefix }, { worker: true });
    try {
      const delayed = (await app.request('POST', '/api/jobs', { task: 'noop', delay_ms: 1000 })).body as Job;
      await pg.pause();
      expect503(await app.request('GET', `/api/jobs/${delayed.id}`));
      // The delayed job comes due while Postgres is away; the worker must not burn or lose it.
      await new Promise((r) => setTimeout(r, 3000));
      await pg.resume();
      const done = await waitFor(async () => {
        const r = await app.request('GET', `/api/jobs/${delayed.id}`);
        return r.status === 200 && (r.body as Job).status === 'completed' ? (r.body as Job) : null;
      }, 'job completed after Postgres returned', 30_000, 200);
      expect(done.attempts).toBe(1);
    } finally {
      await app.stop();
      await pg.close();
    }
  });

  it('Redis goes away mid-life: creates answer 201 created; after it returns everything runs', async () => {
    const redis = await TcpProxy.start(REDIS_URL);
    const app = await launch({ DATABASE_URL: database.url, REDIS_URL: redis.url(REDIS_URL), QUEUE_PREFIX: prefix }, { worker: true });
    try {
      const before = (await app.request('POST', '/api/jobs', { task: 'noop' })).body as Job;
      await waitFor(async () => ((await app.request('GET', `/api/jobs/${before.id}`)).body as Job).status === 'completed', 'first job completed');
      await redis.pause();
      const during = await app.request('POST', '/api/jobs', { task: 'noop' });
      expect(during.status).toBe(201);
      expect(during.ms).toBeLessThan(8000);
      expect((during.body as Job).status).toBe('created');
      // Long enough for every connection to fail its reconnects and the workers' fetch loops to hit errors.
      await new Promise((r) => setTimeout(r, 5000));
      await redis.resume();
      const back = Date.now();
      const done = await waitFor(async () => {
        const j = (await app.request('GET', `/api/jobs/${(during.body as Job).id}`)).body as Job;
        return j.status === 'completed' ? j : null;
      }, 'job created during the outage completed', 40_000, 200);
      expect(done.attempts).toBe(1);
      const late = (await app.request('POST', '/api/jobs', { task: 'noop' })).body as Job;
      await waitFor(async () => ((await app.request('GET', `/api/jobs/${late.id}`)).body as Job).status === 'completed', 'a job created after the outage completed', 40_000, 50);
      console.log(`[measured] after a 5 s Redis outage: the job created during it completed, and one created afterwards, ${Date.now() - back} ms after Redis returned`);
    } finally {
      await app.stop();
      await redis.close();
    }
  }, 90_000);
});
