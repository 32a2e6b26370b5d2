import { Webhook } from 'standardwebhooks';
import { createDb, type Db } from '../../packages/db/src';
import { Registry } from 'prom-client';
import { LeaderLock, clusterMetrics, createRedis, leaderLockKey, metricsProcessId, redisTarget, schedulerRunsKey, type RedisClient } from '../../packages/queue/src';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { LocalRedisCluster } from '../support/redis-cluster';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
  organization_id: string;
  callback_attempts: number;
}
interface Event {
  seq: number;
  from: string | null;
  to: string;
  attempt: number;
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];

/**
 * The service against a real Redis Cluster (3 masters, 3 replicas) started for this file: an in-process API and
 * worker whose every Redis client is a cluster client (REDIS_CLUSTER_NODES), under a hash-tagged prefix.
 */
describe('on a Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let admin: RedisClient;
  let db: Db;

  beforeAll(async () => {
    cluster = await LocalRedisCluster.start();
    receiver = await new CallbackReceiver().start();
    stack = await startStack({
      worker: true,
      env: { REDIS_CLUSTER_NODES: cluster.nodesSetting, SWEEP_INTERVAL_MS: '500', CALLBACK_BACKOFF_MS: '50', POLL_LOCK_TTL_MS: '1500', POLL_LOCK_RETRY_INTERVAL_SECONDS: '1' },
    });
    admin = createRedis(redisTarget(stack.settings), 'command');
    db = createDb(stack.database.url, 2);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    admin?.disconnect();
    await db?.$disconnect();
    await receiver?.stop();
    await cluster?.stop();
  });

  const create = async (body: Record<string, unknown>, status = 201) => expectStatus<Job>(await stack.request('POST', '/api/jobs', body), status);
  const get = async (id: string) => expectStatus<Job>(await stack.request('GET', `/api/jobs/${id}`), 200);
  const events = async (id: string) => expectStatus<Event[]>(await stack.request('GET', `/api/jobs/${id}/events`), 200);
  const settled = (id: string, ms = 20_000) =>
    waitFor(async () => {
      const j = await get(id);
      return TERMINAL.includes(j.status) ? j : null;
    }, `job ${id} terminal`, ms);

  it('hash-tags the queue prefix', () => {
    expect(stack.settings.QUEUE_PREFIX).toBe(`{${stack.prefix}}`);
  });

  it('runs a job from create to completed, in the background and in the foreground', async () => {
    const bg = await create({ task: 'sleep', input: { ms: 20 } });
    expect(await settled(bg.id)).toMatchObject({ status: 'completed' });
    expect((await events(bg.id)).map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
    // background:false waits on the job bus (pub/sub on the cluster) for the terminal transition.
    const fg = await create({ task: 'noop', background: false }, 200);
    expect(fg.status).toBe('completed');
  });

  it('cancels a running job: the cancel message reaches the worker through cluster pub/sub', async () => {
    const job = await create({ task: 'sleep', input: { ms: 30_000 } });
    await waitFor(async () => (await get(job.id)).status === 'running', 'running');
    expectStatus(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`), 200);
    expect(await settled(job.id)).toMatchObject({ status: 'cancelled' });
    // The worker aborted the attempt (no run left), so the slot is free for the next job at once.
    await waitFor(() => stack.worker!.runner.runningJobIds().length === 0, 'the attempt to stop', 5000);
  });

  it('retries a failing job up to max_attempts', async () => {
    const job = await create({ task: 'sleep', input: { ms: 1, fail: true }, max_attempts: 3, backoff_ms: 50 });
    expect(await settled(job.id)).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await events(job.id)).filter((e) => e.to === 'running').map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('delivers a signed callback', async () => {
    const job = await create({ task: 'noop', callback_url: receiver.url('/cluster-hook') });
    const [req] = await waitFor(() => (receiver.at('/cluster-hook').length ? receiver.at('/cluster-hook') : null), 'the callback');
    const org = expectStatus<{ webhook_secret: string }>(await stack.request('GET', `/api/admin/organizations/${job.organization_id}`), 200);
    const payload = new Webhook(org.webhook_secret).verify(req!.body, req!.headers as Record<string, string>) as Record<string, unknown>;
    expect(payload).toMatchObject({ type: 'job.completed', job_id: job.id, status: 'completed' });
    await waitFor(async () => (await get(job.id)).callback_attempts === 1, 'the attempt recorded');
  });

  it('streams a job as Server-Sent Events until its terminal event', async () => {
    const job = await create({ task: 'sleep', input: { ms: 500 } });
    const res = await fetch(`${stack.url}/api/jobs/${job.id}/events`, {
      headers: { authorization: 'Bearer test-operator-key-0123456789', accept: 'text/event-stream' },
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    const tos = [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as Event).to);
    expect(tos).toEqual(['created', 'pending', 'running', 'completed']);
  });

  it('elects one leader that runs the schedulers; a second contender follows', async () => {
    await waitFor(() => stack.worker!.scheduler.isLeader(), 'the worker to lead');
    const key = leaderLockKey(stack.settings.QUEUE_PREFIX);
    const rival = new LeaderLock(admin, { key, ttlMs: 1500, retryIntervalMs: 200, instanceId: 'rival' });
    rival.start();
    try {
      await new Promise((r) => setTimeout(r, 800));
      expect(rival.isLeader()).toBe(false);
      expect(await rival.holder()).toMatch(new RegExp(`^${stack.worker!.runner.workerId}:`));
    } finally {
      await rival.stop();
    }
    // The leader's sweep runs on its schedule and records its runs.
    const runs = await waitFor(async () => ((await admin.llen(schedulerRunsKey(stack.settings.QUEUE_PREFIX))) >= 2 ? true : null), 'scheduled sweeps', 10_000);
    expect(runs).toBe(true);
  });

  it('after FLUSHALL on every master, the reconciler requeues from PostgreSQL and every job completes', async () => {
    const jobs = await Promise.all(Array.from({ length: 20 }, () => create({ task: 'noop', delay_ms: 2500 })));
    await cluster.flushAll();
    const done = await Promise.all(jobs.map((j) => settled(j.id, 30_000)));
    expect(done.map((j) => j.status)).toEqual(jobs.map(() => 'completed'));
    // Leadership comes back too: the lock vanished with the data and the worker takes it again.
    await waitFor(async () => (await admin.get(leaderLockKey(stack.settings.QUEUE_PREFIX))) !== null, 'a leader again', 10_000);
    // One terminal transition per job, whatever the reconciler re-added.
    const rows = await db.$queryRawUnsafe<{ job_id: string; n: bigint }[]>(
      `SELECT job_id::text, count(*) AS n FROM job_events WHERE job_id::text = ANY($1) AND to_status IN ('completed','failed','cancelled','expired') GROUP BY job_id`,
      jobs.map((j) => j.id),
    );
    expect(rows.map((r) => Number(r.n))).toEqual(jobs.map(() => 1));
  });

  it('reports Redis healthy, counts requests in the shared rate limiter and merges metrics through the cluster', async () => {
    expect(expectStatus<{ checks: { redis: string } }>(await stack.request('GET', '/api/health'), 200).checks.redis).toBe('ok');
    // The limiter fails open, so a broken one would go unnoticed by the requests above: its counters (which live one
    // second, and are taken in leases, so not every request reaches Redis) must show up while requests come in.
    await waitFor(async () => {
      expectStatus(await stack.request('GET', '/api/jobs?limit=1'), 200);
      return [...(await cluster.keysPerMaster(`${stack.settings.QUEUE_PREFIX}:ratelimit*`)).values()].flat().length > 0;
    }, 'rate limiter counters in the cluster', 10_000, 20);
    // The metrics exchange: snapshots published with MULTI (SET + ZADD), read back with ZRANGE + MGET of several keys.
    const k = { index: `${stack.settings.QUEUE_PREFIX}:metrics:processes`, snapshot: `${stack.settings.QUEUE_PREFIX}:metrics:process:peer` };
    const peer = [{ name: 'jobsvc_cluster_probe_total', help: 'probe', type: 'counter', aggregator: 'sum', values: [{ value: 3, labels: {} }] }];
    await admin.set(k.snapshot, JSON.stringify(peer), 'PX', 60_000);
    await admin.zadd(k.index, Date.now(), 'peer');
    const text = await waitFor(async () => {
      const t = await clusterMetrics(admin, stack.settings.QUEUE_PREFIX, new Registry(), 'reader');
      return t.includes(`process="${metricsProcessId()}"`) ? t : null;
    }, 'this process\'s published snapshot', 15_000);
    expect(text).toContain('jobsvc_cluster_probe_total{process="peer"} 3');
    expect(expectStatus<string>(await stack.request('GET', '/metrics'), 200)).toContain('jobsvc_cluster_probe_total{process="peer"} 3');
  });

  it('keeps every key of the service in the one slot of its hash tag (no cross-slot command can arise)', async () => {
    const owner = await cluster.masterOf(stack.settings.QUEUE_PREFIX);
    const perMaster = await cluster.keysPerMaster(`${stack.settings.QUEUE_PREFIX}*`);
    expect(perMaster.get(owner)!.length).toBeGreaterThan(0);
    for (const [port, keys] of perMaster) if (port !== owner) expect(keys).toEqual([]);
  });
});
