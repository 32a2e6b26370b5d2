import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { startApi, startWorker, type LogLine, type ServiceProcess } from '../support/processes';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  stop_reason: string | null;
  result: unknown;
  attempts: number;
  completed_at: string | null;
}
interface JobEvent {
  seq: number;
  from: string | null;
  to: string;
  worker_id: string | null;
}

const KEY = 'e2e-operator-key-0123456789abcdef';

/**
 * The real thing: `node apps/api/dist/main.js` and two `node apps/worker/dist/main.js` processes, as
 * `npm run start:api` / `start:worker` run them, on a private database and Redis prefix.
 */
describe('e2e: API and two worker processes', () => {
  let database: TestDatabase;
  let prefix: string;
  let api: { proc: ServiceProcess; url: string };
  const workers: ServiceProcess[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? (JSON.parse(text) as unknown) : null, text };
  };
  const job = async (id: string) => (await call('GET', `/api/jobs/${id}`)).body as Job;

  beforeAll(async () => {
    database = await createTestDatabase();
    prefix = testPrefix();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      BOOTSTRAP_API_KEY: KEY,
      LOG_LEVEL: 'http',
      SHUTDOWN_GRACE_MS: '3000',
      DB_POOL_SIZE: '4',
      // Two slots per worker: four long jobs then occupy both workers, so cancels reach each of them.
      WORKER_CONCURRENCY: '2',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    api = await startApi(env);
    const [w1, w2] = await Promise.all([startWorker({ ...env, WORKER_ID: 'e2e-w1' }, 'worker-1'), startWorker({ ...env, WORKER_ID: 'e2e-w2' }, 'worker-2')]);
    workers.push(w1, w2);
  }, 90_000);

  afterAll(async () => {
    const codes = await Promise.all([...workers.map((w) => w.stop()), api?.proc.stop()]);
    await deleteKeysWithPrefix(prefix);
    await database.drop();
    // Graceful shutdown on SIGTERM exits 0.
    expect(codes).toEqual(codes.map(() => 0));
  }, 60_000);

  it('creates a noop job that completes', async () => {
    const created = await call('POST', '/api/jobs', { task: 'noop' });
    expect(created.status).toBe(201);
    const id = (created.body as Job).id;
    expect(created.headers.get('location')).toBe(`/api/jobs/${id}`);
    const done = await waitFor(async () => {
      const j = await job(id);
      return j.status === 'completed' ? j : null;
    }, 'noop completed', 30_000);
    expect(done).toMatchObject({ result: {}, stop_reason: 'end_turn', attempts: 1 });
    const events = (await call('GET', `/api/jobs/${id}/events`)).body as JobEvent[];
    expect(events.map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
    expect(['e2e-w1', 'e2e-w2']).toContain(events[2]!.worker_id);
  });

  it('background:false answers 200 with the terminal job', async () => {
    const r = await call('POST', '/api/jobs', { task: 'sleep', input: { ms: 200 }, background: false, wait_ms: 20_000 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'completed', result: { slept_ms: 200 }, background: false });
    const failed = await call('POST', '/api/jobs', { task: 'sleep', input: { ms: 10, fail: true }, background: false, wait_ms: 20_000 });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 'failed', stop_reason: 'error', error: { message: expect.stringContaining('failed on request') } });
  });

  it('cancel while running reaches the handler on whichever worker runs it; the late outcome never overwrites it', async () => {
    // Several at once so both workers hold some; each cancel must cross processes to the one running it.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(((await call('POST', '/api/jobs', { task: 'sleep', input: { ms: 4000, progress_steps: 4 } })).body as Job).id);
    await waitFor(async () => (await Promise.all(ids.map(job))).every((j) => j.status === 'running'), 'all four running', 30_000, 100);
    const runners = new Map<string, string>();
    for (const id of ids) {
      const events = (await call('GET', `/api/jobs/${id}/events`)).body as JobEvent[];
      runners.set(id, events.find((e) => e.to === 'running')!.worker_id!);
    }
    expect(new Set(runners.values())).toEqual(new Set(['e2e-w1', 'e2e-w2']));
    const cancelledAt = Date.now();
    for (const id of ids) {
      const r = await call('PATCH', `/api/jobs/${id}/cancel`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id, status: 'cancelled', stop_reason: 'cancelled', completed_at: expect.any(String) });
    }
    // The AbortSignal fired on the worker that ran each job, before its sleep ended.
    for (const id of ids) {
      const runner = workers.find((w) => w.name === (runners.get(id) === 'e2e-w1' ? 'worker-1' : 'worker-2'))!;
      const line = await runner.waitForLog((l: LogLine) => l.job_id === id && l.message === 'attempt aborted' && l.cause === 'cancelled', 10_000);
      expect(line.worker_id).toBe(runners.get(id));
    }
    // (Had a sleep run to its end, its worker would have logged a discarded late result instead.)
    // Past the time the handler would have finished, the jobs are still cancelled with no later event.
    await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - cancelledAt))));
    for (const id of ids) {
      expect((await job(id)).status).toBe('cancelled');
      const events = (await call('GET', `/api/jobs/${id}/events`)).body as JobEvent[];
      expect(events[events.length - 1]!.to).toBe('cancelled');
      expect(events.filter((e) => e.to === 'completed')).toEqual([]);
    }
  }, 60_000);

  it('cancel of a pending job removes it from the queue: it never runs', async () => {
    const r = await call('POST', '/api/jobs', { task: 'noop', delay_ms: 1500 });
    const id = (r.body as Job).id;
    expect((await call('PATCH', `/api/jobs/${id}/cancel`)).status).toBe(200);
    await new Promise((res) => setTimeout(res, 2500));
    const j = await job(id);
    expect(j).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = await fetch(`${api.url}/api/openapi.json`);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    const docs = await fetch(`${api.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('<html');
  });

  it('logs JSON lines: request id on every API request line, job and worker id on the worker’s job lines', async () => {
    const requestLines = api.proc.logs.filter((l) => l.message === 'request');
    expect(requestLines.length).toBeGreaterThan(5);
    for (const l of requestLines) expect(l).toMatchObject({ request_id: expect.any(String), method: expect.any(String), status: expect.any(Number) });
    const jobLines = workers.flatMap((w) => w.logs).filter((l) => typeof l.job_id === 'string');
    expect(jobLines.length).toBeGreaterThan(0);
    // Every JSON line of a worker names it, job lines and process lines alike.
    for (const w of workers) {
      for (const l of w.logs.filter((x) => x.level !== undefined)) expect(l.worker_id).toBe(w.name === 'worker-1' ? 'e2e-w1' : 'e2e-w2');
    }
    for (const l of [...api.proc.logs, ...workers.flatMap((w) => w.logs)]) {
      expect(l.level).toEqual(expect.any(String));
      expect(l.raw).not.toContain(KEY);
    }
  });
});
