import { Redis } from 'ioredis';
import { createDb, type Db } from '../../packages/db/src';
import { leaderLockKey } from '../../packages/queue/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { startApi, startWorker, type ServiceProcess } from '../support/processes';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

const JOBS = 3000;
const TTL_MS = 2000;
const OPERATOR_KEY = 'e2e-scale-out-operator-key-0123';

/**
 * Two API and three worker processes (the built apps) on one Redis and one database: the work is shared, one
 * process leads, nothing runs twice, and a killed leader is replaced.
 */
describe('many API and worker processes on one Redis', () => {
  let database: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let db: Db;
  const apis: { proc: ServiceProcess; url: string }[] = [];
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    prefix = testPrefix();
    redis = new Redis(REDIS_URL);
    db = createDb(database.url, 2);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      BOOTSTRAP_API_KEY: OPERATOR_KEY,
      DB_POOL_SIZE: '5',
      EXPECTED_PROCESSES: '5',
      WORKER_CONCURRENCY: '25',
      POLL_LOCK_TTL_MS: String(TTL_MS),
      POLL_LOCK_RETRY_INTERVAL_SECONDS: '1',
      SWEEP_INTERVAL_MS: '2000',
    };
    // One API first: it creates the bootstrap key the second then finds.
    apis.push(await startApi(env));
    apis.push(await startApi(env));
    workers.push(...(await Promise.all(['w1', 'w2', 'w3'].map((name) => startWorker({ ...env, WORKER_ID: name }, name)))));
  }, 90_000);
  afterAll(async () => {
    await Promise.all([...workers, ...apis.map((a) => a.proc)].map((p) => p.stop(5000)));
    redis?.disconnect();
    await db?.$disconnect();
    await deleteKeysWithPrefix(prefix);
    await database?.drop();
  });

  const holder = () => redis.get(leaderLockKey(prefix));
  const rows = <T>(sql: string) => db.$queryRawUnsafe<T[]>(sql);

  it('shares 3,000 jobs between three workers, each job running once, under exactly one leader', async () => {
    let next = 0;
    const holders = new Set<string>();
    const watch = setInterval(() => void holder().then((h) => h && holders.add(h), () => undefined), 200);
    try {
      await Promise.all(
        Array.from({ length: 50 }, async (_, lane) => {
          const api = apis[lane % apis.length]!;
          while (next < JOBS) {
            next++;
            const r = await fetch(`${api.url}/api/jobs`, {
              method: 'POST',
              headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
              body: JSON.stringify({ task: 'sleep', input: { ms: 20 } }),
            });
            expect(r.status).toBe(201);
            await r.arrayBuffer();
          }
        }),
      );
      await waitFor(async () => Number((await rows<{ n: bigint }>(`SELECT count(*) AS n FROM jobs WHERE status = 'completed'`))[0]!.n) === JOBS, 'every job completed', 120_000, 500);
    } finally {
      clearInterval(watch);
    }
    expect(Number((await rows<{ n: bigint }>(`SELECT count(*) AS n FROM jobs`))[0]!.n)).toBe(JOBS);
    // Nothing crashed, so no job ran twice: one running transition per job.
    const runs = await rows<{ n: bigint; jobs: bigint }>(`SELECT count(*) AS n, count(DISTINCT job_id) AS jobs FROM job_events WHERE to_status = 'running'`);
    expect({ n: Number(runs[0]!.n), jobs: Number(runs[0]!.jobs) }).toEqual({ n: JOBS, jobs: JOBS });
    // Each worker took a share.
    const shares = await rows<{ worker_id: string; n: bigint }>(`SELECT worker_id, count(*) AS n FROM job_events WHERE to_status = 'running' GROUP BY worker_id ORDER BY worker_id`);
    expect(shares.map((s) => s.worker_id)).toEqual(['w1', 'w2', 'w3']);
    for (const s of shares) expect(Number(s.n)).toBeGreaterThan(JOBS / 20);
    // One leader the whole time, and only it ever said it took the lead.
    expect(holders.size).toBe(1);
    const acquired = workers.map((w) => w.logs.filter((l) => l.message === 'leadership acquired').length);
    expect(acquired.reduce((a, b) => a + b, 0)).toBe(1);
  }, 240_000);

  it('kill -9 of the leader: another worker leads within POLL_LOCK_TTL_MS + 5 s', async () => {
    const first = await waitFor(holder, 'a leader', 15_000);
    const leader = workers.find((w) => first.startsWith(`${w.name}:`))!;
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const next = await waitFor(async () => {
      const h = await holder();
      return h && h !== first ? h : null;
    }, 'a new leader', TTL_MS + 30_000, 20);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(TTL_MS + 5000);
    expect(workers.filter((w) => w !== leader).some((w) => next.startsWith(`${w.name}:`))).toBe(true);
  }, 60_000);
});
