import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CallbackStore, createDb, type Db } from '../../packages/db/src';
import { CallbackQueue, createRedis } from '../../packages/queue/src';
import { enqueueMissingCallbacks } from '../../packages/service/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

/**
 * The callback sweep asks Redis about every long-overdue queued series (up to 500 a sweep). Those lookups
 * go out as one command, not one awaited command (one round trip) per series.
 */
describe('callback sweep: queue states of overdue series in one round trip', () => {
  let database: TestDatabase;
  let db: Db;
  let redis: Redis;
  let queue: CallbackQueue;
  const prefix = testPrefix();
  /** Names of the commands sent on the queue's connection, while `counting` is set. */
  const sent: string[] = [];
  let counting = false;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 2);
    redis = createRedis(REDIS_URL, 'producer');
    // A counting connection: every command the queue sends passes through sendCommand (pipelined ones too).
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      if (counting) sent.push(command.name);
      return send(command, stream);
    };
    queue = new CallbackQueue(redis, prefix, 1);
  });
  afterAll(async () => {
    await queue.close();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await db.$disconnect();
    await database.drop();
  });

  /** `n` series marked queued an hour ago, each alive (waiting) in the queue. */
  async function overdueSeries(n: number, tag: string): Promise<void> {
    await db.$executeRawUnsafe(
      `INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, state, next_attempt_at)
       SELECT 'msg_${tag}_' || i, 'job_${tag}_' || i, 'org_1', 1, 'http://127.0.0.1:9/cb', 'completed', 'queued', now() - interval '1 hour'
       FROM generate_series(1, $1::int) AS i`,
      n,
    );
    for (let i = 1; i <= n; i++) {
      await queue.enqueue({ job_id: `job_${tag}_${i}`, organization_id: 'org_1', webhook_id: `msg_${tag}_${i}`, callback_url: 'http://127.0.0.1:9/cb', status: 'completed', stop_reason: null, completed_at: null, metadata: {} });
    }
  }

  /** The commands one sweep sends when it finds `n` overdue series (the sweep postpones them, so they are used up). */
  async function commandsOfSweep(n: number, tag: string): Promise<string[]> {
    await overdueSeries(n, tag);
    sent.length = 0;
    counting = true;
    try {
      expect(await enqueueMissingCallbacks(queue, new CallbackStore(db), { overdueMs: 60_000 })).toBe(0);
    } finally {
      counting = false;
    }
    const left = await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM callback_deliveries WHERE state = 'queued' AND next_attempt_at < now() - interval '1 minute'`);
    expect(left[0]!.n).toBe(0);
    return [...sent];
  }

  it('queues every pending series of a page in one bulk add, leaving a series the queue still holds as it is', async () => {
    const n = 40;
    await db.$executeRawUnsafe(
      `INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, state, next_attempt_at)
       SELECT 'msg_pend_' || i, 'job_pend_' || i, 'org_1', 1, 'http://127.0.0.1:9/cb', 'completed', 'pending', now() - interval '1 hour'
       FROM generate_series(1, $1::int) AS i`,
      n,
    );
    // One of them is already in the queue (its writer's enqueue worked; its first attempt has not come yet).
    const held = { job_id: 'job_pend_1', organization_id: 'org_1', webhook_id: 'msg_pend_1', callback_url: 'http://127.0.0.1:9/cb', status: 'completed', stop_reason: null, completed_at: null, metadata: { held: true } };
    await queue.enqueue(held);
    sent.length = 0;
    counting = true;
    try {
      expect(await enqueueMissingCallbacks(queue, new CallbackStore(db))).toBe(n);
    } finally {
      counting = false;
    }
    // The adds: one script per series, sent together (BullMQ's addBulk), not one awaited add per series.
    expect(sent.filter((c) => c === 'evalsha' || c === 'eval').length).toBeLessThanOrEqual(n + 2);
    const left = await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM callback_deliveries WHERE webhook_id LIKE 'msg_pend_%' AND state = 'pending'`);
    expect(left[0]!.n).toBe(0);
    const states = await queue.states(Array.from({ length: n }, (_, i) => `msg_pend_${i + 1}`));
    expect(states.every((st) => st === 'waiting' || st === 'wait')).toBe(true);
    expect((await queue.queue.getJob('msg_pend_1'))?.data.metadata).toEqual({ held: true });
  });

  it('sends as many commands for 40 overdue series as for 2', async () => {
    const few = await commandsOfSweep(2, 'few');
    const many = await commandsOfSweep(40, 'many');
    expect(few.length).toBeGreaterThan(0);
    expect(many).toEqual(few);
  });

  it('answers for each series what getJobState answers', async () => {
    const add = (id: string, opts: { delay?: number; priority?: number } = {}) =>
      queue.queue.add('job.completed', { job_id: id, organization_id: 'org_1', webhook_id: id, callback_url: 'http://127.0.0.1:9/cb', status: 'completed', stop_reason: null, completed_at: null, metadata: {} }, { jobId: id, ...opts });
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    const workerConnection = createRedis(REDIS_URL, 'worker');
    // One at a time: while `s_active` holds the only slot, the entries added after it stay where they are.
    const worker = new Worker(
      queue.queue.name,
      async (job) => {
        if (job.id === 's_failed') throw new Error('fails');
        if (job.id === 's_active') await held;
      },
      { connection: workerConnection, prefix, concurrency: 1, skipVersionCheck: true },
    );
    try {
      await add('s_completed');
      await add('s_failed');
      await add('s_active');
      await waitFor(async () => ((await queue.queue.getJobState('s_active')) === 'active' ? true : null), 's_active to run', 30_000);
      await add('s_waiting');
      await add('s_delayed', { delay: 600_000 });
      await add('s_prioritized', { priority: 3 });
      const ids = ['s_completed', 's_failed', 's_active', 's_waiting', 's_delayed', 's_prioritized', 's_absent'];
      const one = await Promise.all(ids.map((id) => queue.queue.getJobState(id)));
      expect(one).toEqual(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized', 'unknown']);
      expect(await queue.states(ids)).toEqual(one);
      expect(await queue.states([])).toEqual([]);
    } finally {
      release();
      await worker.close();
      workerConnection.disconnect();
    }
  });
});
