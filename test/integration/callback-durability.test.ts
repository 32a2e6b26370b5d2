import { Webhook } from 'standardwebhooks';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import { createJobBodySchema } from '../../packages/core/src';
import { CallbackStore, JobStore, createDb, type Db } from '../../packages/db/src';
import { enqueueMissingCallbacks } from '../../packages/service/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { CallbackReceiver, type ReceivedCallback } from '../fakes/callback-receiver';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix } from '../support/redis';
import { startStack, type TestStack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

/**
 * Issue 10 item 6: a delivery series lives in Postgres from its terminal transition on, so nothing that
 * happens to the job afterwards (deleted, retried) or to Redis (unreachable when the series should have
 * been queued) loses it. The API reaches Redis through a proxy the test can cut; the worker (callback
 * delivery and the sweep) talks to Redis directly.
 */
jest.setTimeout(90_000);

describe('callback series survive delete, retry and a Redis outage', () => {
  let stack: TestStack;
  let worker: WorkerProcess;
  let redisProxy: TcpProxy;
  let receiver: CallbackReceiver;
  let db: Db;
  let secret: string;

  beforeAll(async () => {
    receiver = await new CallbackReceiver().start();
    redisProxy = await TcpProxy.start(REDIS_URL);
    stack = await startStack({
      worker: false,
      env: { REDIS_URL: redisProxy.url(REDIS_URL), CALLBACK_BACKOFF_MS: '50', CALLBACK_TIMEOUT_MS: '2000', CALLBACK_MAX_ATTEMPTS: '4', SWEEP_INTERVAL_MS: '500' },
    });
    worker = createWorkerProcess({ ...stack.settings, REDIS_URL });
    await worker.start();
    db = createDb(stack.database.url, 2);
    const probe = (await stack.request('POST', '/api/jobs', { task: 'noop' })).body as Job;
    secret = ((await stack.request('GET', `/api/admin/organizations/${probe.organization_id}`)).body as { webhook_secret: string }).webhook_secret;
  });
  afterAll(async () => {
    await worker.stop();
    await stack.stop();
    await db.$disconnect();
    await redisProxy.close();
    await receiver.stop();
  });

  const create = async (body: Record<string, unknown>): Promise<Job> => {
    const r = await stack.request('POST', '/api/jobs', body);
    expect(r.status).toBe(201);
    return r.body as Job;
  };
  const getJob = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const deliveries = (path: string, n: number, timeoutMs = 30_000) =>
    waitFor(() => (receiver.at(path).length >= n ? receiver.at(path) : null), `${n} request(s) on ${path}`, timeoutMs);
  const verify = (req: ReceivedCallback) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>) as Record<string, unknown>;
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('delivers the callback of a job deleted while Redis was unreachable, once Redis is back', async () => {
    const path = '/deleted-during-outage';
    // Delayed far ahead: the job waits in the queue, so only the API touches it.
    const job = await create({ task: 'noop', delay_ms: 600_000, metadata: { order: 1 }, callback_url: receiver.url(path) });
    await redisProxy.pause();
    try {
      const del = await stack.request('DELETE', `/api/jobs/${job.id}`);
      expect(del.status).toBe(200);
      expect((del.body as Job).status).toBe('cancelled');
      // Give the API's fire-and-forget enqueue time to fail against the cut connection.
      await settle(2500);
    } finally {
      await redisProxy.resume();
    }
    const [req] = await deliveries(path, 1);
    expect(verify(req!)).toMatchObject({ type: 'job.cancelled', job_id: job.id, status: 'cancelled', stop_reason: 'cancelled', metadata: { order: 1 } });
    expect(req!.headers['webhook-id']).toMatch(new RegExp(`^msg_${job.id.slice(4)}_\\d+$`));
    await settle(1500);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('queues again a series whose queue entry Redis lost while it waited for its next attempt', async () => {
    const path = '/lost-in-redis';
    const job = await create({ task: 'noop', callback_url: receiver.url(path, [{ status: 503, headers: { 'retry-after': '2' } }]) });
    const [first] = await deliveries(path, 1);
    const attempted = await waitFor(async () => {
      const r = await getJob(job.id);
      return r.callback_attempts === 1 ? r : null;
    }, 'first attempt recorded');
    expect(attempted.callback_status_code).toBe(503);
    // Redis loses the callbacks queue (restart without persistence): the series' delayed entry is gone.
    await deleteKeysWithPrefix(`${stack.prefix}:callbacks`);
    await settle(3000);
    expect(receiver.at(path)).toHaveLength(1);
    // The sweep step, with no overdue margin (the default waits a minute past the due time).
    const queued = await enqueueMissingCallbacks(worker.callbacks.queue, new CallbackStore(db), { overdueMs: 0 });
    expect(queued).toBe(1);
    const [, second] = await deliveries(path, 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    const series = await waitFor(async () => {
      const rows = await db.$queryRawUnsafe<{ state: string; attempts: number }[]>('SELECT state, attempts FROM callback_deliveries WHERE job_id = $1', job.id);
      return rows[0]?.state === 'delivered' ? rows[0] : null;
    }, 'series delivered');
    expect(series.attempts).toBe(2);
    expect(await enqueueMissingCallbacks(worker.callbacks.queue, new CallbackStore(db), { overdueMs: 0 })).toBe(0);
  });

  it('still delivers a series that was never queued when the job is retried, and the new attempt gets its own', async () => {
    const path = '/retried-before-queued';
    const actor = await stack.api.deps.accounts.bootstrap('test-operator-key-0123456789');
    // A bare store has no transition listener: the series is written but never queued, as when the
    // worker died (or Redis was down) right after the terminal transition.
    const jobs = new JobStore(db);
    const { wait_ms: _w, ...body } = createJobBodySchema.parse({ task: 'noop', max_attempts: 1, callback_url: receiver.url(path) });
    const { job } = await jobs.create(actor, body);
    await jobs.transition(job.id, 'running', { from: ['created'] });
    const failed = (await jobs.transition(job.id, 'failed', { from: ['running'], error: { message: 'boom', code: 'task_error' }, stopReason: 'error' }))!;
    const oldId = failed.callback_webhook_id!;
    // Retried before the sweep could see the series (younger than its grace period).
    expect((await stack.request('POST', `/api/jobs/${job.id}/retry`)).status).toBe(200);

    const reqs = await deliveries(path, 2);
    const byId = new Map(reqs.map((r) => [r.headers['webhook-id'] as string, verify(r)]));
    expect(byId.size).toBe(2);
    expect(byId.get(oldId)).toMatchObject({ type: 'job.failed', status: 'failed', stop_reason: 'error' });
    const newId = [...byId.keys()].find((id) => id !== oldId)!;
    expect(byId.get(newId)).toMatchObject({ type: 'job.completed', status: 'completed' });
    // The job's callback fields belong to the new series only.
    const row = await waitFor(async () => {
      const r = await jobs.findById(job.id);
      return r && r.callback_attempts === 1 ? r : null;
    }, 'new series recorded');
    expect(row.callback_webhook_id).toBe(newId);
    await settle(1500);
    expect(receiver.at(path)).toHaveLength(2);
    expect(await getJob(job.id)).toMatchObject({ status: 'completed', callback_attempts: 1, callback_status_code: 200 });
  });
});
