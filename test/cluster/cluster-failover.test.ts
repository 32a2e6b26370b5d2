import { createDb, type Db } from '../../packages/db/src';
import { LocalRedisCluster } from '../support/redis-cluster';
import { startStack, type TestStack } from '../support/stack';
import { stackWorkers } from '../support/stack-workers';
import { waitFor } from '../support/wait';

const JOBS = 1000;
const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];

/** Runs `fn` over `items` with at most `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * A master of a real Redis Cluster dies (kill -9) while 1,000 jobs are in flight on two worker processes: its
 * replica takes over, writes the dead master had not yet replicated are lost, and the stalled-job check and
 * the reconciler (from PostgreSQL) finish the work. Every job must end, with exactly one terminal transition.
 */
describe('Redis Cluster failover with jobs in flight', () => {
  let cluster: LocalRedisCluster;
  let stack: TestStack;
  let db: Db;
  const workers = stackWorkers(
    () => stack,
    () => ({ REDIS_CLUSTER_NODES: cluster.nodesSetting, WORKER_CONCURRENCY: '100', SWEEP_INTERVAL_MS: '1000', POLL_LOCK_TTL_MS: '2000', POLL_LOCK_RETRY_INTERVAL_SECONDS: '1' }),
  );

  beforeAll(async () => {
    cluster = await LocalRedisCluster.start();
    stack = await startStack({ env: { REDIS_CLUSTER_NODES: cluster.nodesSetting } });
    db = createDb(stack.database.url, 2);
    await workers.start('w1');
    await workers.start('w2');
  }, 60_000);
  afterAll(async () => {
    await workers.killAll();
    await stack?.stop();
    await db?.$disconnect();
    await cluster?.stop();
  });

  const count = async (sql: string) => Number((await db.$queryRawUnsafe<{ n: bigint }[]>(sql))[0]!.n);

  it('ends every job exactly once after kill -9 of the master that holds the queues', async () => {
    const ids: string[] = [];
    await eachLimit(Array.from({ length: JOBS }, (_, i) => i), 50, async () => {
      const r = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 500 } });
      expect(r.status).toBe(201);
      ids.push((r.body as { id: string }).id);
    });
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM jobs WHERE status = 'completed'`)) >= 100, 'some jobs done', 60_000);
    const victim = await cluster.masterOf(stack.settings.QUEUE_PREFIX);
    await cluster.kill(victim);
    await cluster.waitHealthy(30_000);
    expect(await cluster.masterOf(stack.settings.QUEUE_PREFIX)).not.toBe(victim);

    await waitFor(
      async () => (await count(`SELECT count(*) AS n FROM jobs WHERE status IN ('completed','failed','cancelled','expired')`)) === JOBS,
      'every job terminal',
      120_000,
      500,
    );
    const statuses = await db.$queryRawUnsafe<{ status: string; n: bigint }[]>(`SELECT status, count(*) AS n FROM jobs GROUP BY status`);
    expect(statuses.every((s) => TERMINAL.includes(s.status))).toBe(true);
    const terminalTransitions = await db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM job_events WHERE to_status IN ('completed','failed','cancelled','expired') GROUP BY job_id`,
    );
    expect(terminalTransitions).toHaveLength(JOBS);
    expect(terminalTransitions.every((t) => Number(t.n) === 1)).toBe(true);
    expect(new Set(ids).size).toBe(JOBS);
  }, 240_000);
});
