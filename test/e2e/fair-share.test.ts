import { createDb, type Db } from '../../packages/db/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { createRedis, type RedisClient } from '../../packages/queue/src';
import { REDIS_URL } from '../support/env';
import { startWorker, type ServiceProcess } from '../support/processes';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

const STALL = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };

/**
 * Fair share across organizations (SPEC F16) with the API in this process and real worker processes: the turn
 * order between organizations under load, a concurrency key bounded across two workers, and a kill -9 of a
 * worker holding every slot of a key.
 */
describe('fair share across organizations (real worker processes)', () => {
  let stack: TestStack;
  let db: Db;
  let redis: RedisClient;
  let orgA: Tenant;
  let orgB: Tenant;
  const workers: ServiceProcess[] = [];
  const worker = async (name: string) => {
    const w = await startWorker(
      { DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info', WORKER_ID: name, WORKER_CONCURRENCY: '2', FAIR_TICK_MS: '250', ...STALL },
      name,
    );
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    stack = await startStack();
    db = createDb(stack.database.url, 2);
    redis = createRedis(REDIS_URL, 'command');
    [orgA, orgB] = [await createTenant(stack, 'flooder'), await createTenant(stack, 'neighbour')];
    await Promise.all([worker('w1'), worker('w2')]);
  }, 60_000);
  afterAll(async () => {
    for (const w of workers.splice(0)) await w.kill();
    redis?.disconnect();
    await db?.$disconnect();
    await stack?.stop();
  });

  const bulk = async (key: string, jobs: Record<string, unknown>[]) =>
    expectStatus<{ jobs: Job[] }>(await stack.request('POST', '/api/jobs/bulk', { jobs }, key), 201).jobs.map((j) => j.id);
  const countWhere = async (sql: string) => Number((await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM jobs WHERE ${sql}`))[0]!.n);
  const allDone = (ids: string[], ms: number) =>
    waitFor(async () => (await countWhere(`id IN (${ids.map((id) => `'${id}'`).join(',')}) AND status = 'completed'`)) === ids.length, `${ids.length} jobs completed`, ms, 100);
  /** Samples the running jobs of a key every 10 ms until `stop` resolves; returns the most seen at once. */
  const sampleRunning = async (key: string, stop: Promise<unknown>) => {
    let most = 0;
    let done = false;
    void stop.finally(() => (done = true));
    while (!done) {
      most = Math.max(most, await countWhere(`status = 'running' AND concurrency_key = '${key}'`));
      await new Promise((r) => setTimeout(r, 10));
    }
    return most;
  };

  it("starts a second organization's jobs before the first one's backlog drains", async () => {
    const flood = await bulk(orgA.adminKey, Array.from({ length: 300 }, () => ({ task: 'sleep', input: { ms: 5 } })));
    const few: string[] = [];
    for (let i = 0; i < 5; i++) few.push(expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 5 } }, orgB.adminKey), 201).id);
    await allDone([...flood, ...few], 60_000);
    const starts = await db.$queryRawUnsafe<{ id: string; organization_id: string }[]>(
      `SELECT id, organization_id FROM jobs WHERE id IN (${[...flood, ...few].map((id) => `'${id}'`).join(',')}) ORDER BY started_at, id`,
    );
    const lastB = starts.map((s) => s.organization_id).lastIndexOf(orgB.orgId);
    const aAfter = starts.slice(lastB + 1).filter((s) => s.organization_id === orgA.orgId).length;
    console.log(`[measured] the neighbour's 5 jobs all started with ${aAfter} of the flooder's 300 still to start`);
    // Without fair dispatch they would start after every one of the flooder's jobs.
    expect(aAfter).toBeGreaterThan(200);
  });

  it('runs at most concurrency_limit jobs of a key at once across two workers, and reaches the limit', async () => {
    const all = await bulk(orgA.adminKey, Array.from({ length: 40 }, () => ({ task: 'sleep', input: { ms: 100 }, concurrency_key: 'render', concurrency_limit: 3 })));
    // The last one is still staged behind its key: a cancel takes it out, and it never starts.
    const cancelled = all.pop()!;
    expectStatus(await stack.request('PATCH', `/api/jobs/${cancelled}/cancel`, undefined, orgA.adminKey), 200);
    const ids = all;
    const finished = allDone(ids, 60_000);
    // The per-organization gauges, from Redis at scrape: the key's backlog is waiting, up to its limit running.
    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } }).then((r) => r.text());
    const waiting = Number(new RegExp(`jobsvc_organization_jobs\\{organization="${orgA.orgId}",state="waiting"\\} (\\d+)`).exec(metrics)?.[1]);
    const running = Number(new RegExp(`jobsvc_organization_jobs\\{organization="${orgA.orgId}",state="running"\\} (\\d+)`).exec(metrics)?.[1]);
    expect(waiting).toBeGreaterThan(0);
    expect(running).toBeLessThanOrEqual(3);
    const most = await sampleRunning('render', finished);
    await finished;
    expect(most).toBe(3);
    expect(await stack.request('GET', `/api/jobs/${cancelled}`, undefined, orgA.adminKey)).toMatchObject({ body: { status: 'cancelled', attempts: 0, started_at: null } });
    expect(await redis.hexists(`${stack.prefix}:fair:job`, cancelled)).toBe(0);
    const byWorker = await db.$queryRawUnsafe<{ worker_id: string }[]>(
      `SELECT DISTINCT worker_id FROM job_events WHERE to_status = 'running' AND job_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
    );
    expect(byWorker.map((w) => w.worker_id).sort()).toEqual(['w1', 'w2']);
  });

  it('kill -9 of the worker holding every slot of a key: the slots lapse with their lease and every job completes', async () => {
    // One worker left, so it takes both slots of the key.
    await workers.find((w) => w.name === 'w2')!.stop(5000);
    const ids = await bulk(orgA.adminKey, Array.from({ length: 6 }, () => ({ task: 'sleep', input: { ms: 1500 }, concurrency_key: 'crash', concurrency_limit: 2 })));
    await waitFor(async () => (await countWhere(`status = 'running' AND concurrency_key = 'crash'`)) === 2, 'two jobs of the key running', 20_000, 50);
    const held = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM jobs WHERE status = 'running' AND concurrency_key = 'crash'`);
    const killedAt = Date.now();
    expect(await workers.find((w) => w.name === 'w1')!.kill('SIGKILL')).toBeNull();
    await worker('w3');
    await allDone(ids, 60_000);
    const firstOther = await db.$queryRawUnsafe<{ at: Date }[]>(
      `SELECT min(at) AS at FROM job_events WHERE to_status = 'running' AND worker_id = 'w3' AND job_id IN (${ids.filter((id) => !held.some((h) => h.id === id)).map((id) => `'${id}'`).join(',')})`,
    );
    console.log(`[measured] after kill -9 of the worker holding the key, a waiting job of the key started ${((firstOther[0]!.at.getTime() - killedAt) / 1000).toFixed(1)} s later on a worker started after the kill (LOCK_DURATION_MS=2000, FAIR_TICK_MS=250)`);
    // Nothing of the key is left holding a slot once every job is done.
    expect(await redis.zcard(`${stack.prefix}:fair:kr:${orgA.orgId}:crash`)).toBe(0);
    const histories = await db.$queryRawUnsafe<{ job_id: string; terminal: bigint }[]>(
      `SELECT job_id, count(*) FILTER (WHERE to_status IN ('completed','failed','cancelled','expired')) AS terminal FROM job_events WHERE job_id IN (${ids.map((id) => `'${id}'`).join(',')}) GROUP BY job_id`,
    );
    expect(histories.map((h) => Number(h.terminal))).toEqual(Array(6).fill(1));
  });
});
