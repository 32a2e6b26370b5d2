import { Scheduler } from '../../apps/worker/src/scheduler/scheduler';
import { createLogger, leaderGauge } from '../../packages/observability/src';
import { LeaderLock, createRedis, leaderLockKey, type LostReason } from '../../packages/queue/src';
import { PrivateRedis } from '../support/redis-server';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const USER = { name: 'jobsvc', password: 'scheduler-acl-test' };
const TTL_MS = 900;

interface Status {
  leader: boolean;
  repeatable_jobs: { name: string; every_ms: number | null; next_run_at: string | null; last_success_at?: string | null }[];
  last_runs?: Record<string, { last_success_at: string | null; last_error_at: string | null }>;
}

/**
 * Issue 10 item 2, on a private redis-server: the service's Redis user may not run HMSET, which BullMQ's
 * job-scheduler registration needs and the lock does not, so a process wins the lock but cannot register
 * its schedulers (as under OOM with noeviction or READONLY in a failover). Such a leader must give the lock
 * up and try again, never keep it while nothing runs; once the fault clears the schedulers run and the
 * status route and /metrics tell when each handler last succeeded.
 */
describe('a scheduler leader serves its schedulers or gives the lock up', () => {
  let redis: PrivateRedis;
  let stack: TestStack;
  let scheduler: Scheduler | undefined;
  const clients: ReturnType<typeof createRedis>[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    await redis.admin.call('ACL', 'SETUSER', USER.name, 'on', `>${USER.password}`, '~*', '&*', '+@all', '-hmset');
    stack = await startStack({ env: { REDIS_URL: redis.url(USER), POLL_LOCK_TTL_MS: String(TTL_MS) } });
  });
  afterAll(async () => {
    await scheduler?.stop();
    for (const c of clients) c.disconnect();
    await stack?.stop();
    await redis?.stop();
  });

  it('releases and retries leadership while registration fails, then runs and reports the last success', async () => {
    const url = redis.url(USER);
    const command = createRedis(url, 'command');
    const connection = createRedis(url, 'worker');
    clients.push(command, connection);
    const lock = new LeaderLock(command, { key: leaderLockKey(stack.prefix), ttlMs: TTL_MS, retryIntervalMs: 60_000, instanceId: 'w1' });
    let acquired = 0;
    const lost: LostReason[] = [];
    lock.on('acquired', () => acquired++);
    lock.on('lost', (r) => lost.push(r));
    let ticks = 0;
    scheduler = new Scheduler({
      connection,
      redis: command,
      prefix: stack.prefix,
      lock,
      entries: [{ name: 'tick', everyMs: 200, handler: async () => ({ tick: ++ticks }) }],
      logger: createLogger({ level: 'error', service: 'test' }),
      abdicatePauseMs: 300,
    });
    scheduler.start();

    // While the fault lasts: the lock is taken, given up and taken again; the gauge never says "leader".
    const gauge = async () => (await leaderGauge.get()).values[0]?.value ?? 0;
    const samples: number[] = [];
    await waitFor(
      async () => {
        samples.push(await gauge());
        return acquired >= 3 && lost.filter((r) => r === 'abdicated').length >= 2;
      },
      'leadership to be given up and retried',
      20_000,
      20,
    );
    expect(samples.every((v) => v === 0)).toBe(true);
    expect(ticks).toBe(0);
    const during = (await stack.request('GET', '/api/admin/scheduler/status')).body as Status;
    expect(during.last_runs?.['tick']?.last_success_at ?? null).toBeNull();

    // The fault clears: the next leadership registers the scheduler and the handler runs.
    const clearedAt = Date.now();
    await redis.admin.call('ACL', 'SETUSER', USER.name, '+hmset');
    await waitFor(() => ticks >= 2, 'the scheduled handler to run', 20_000);
    expect(await gauge()).toBe(1);
    expect(scheduler.isLeader()).toBe(true);

    const status = await waitFor(async () => {
      const s = (await stack.request('GET', '/api/admin/scheduler/status')).body as Status;
      return s.last_runs?.['tick']?.last_success_at ? s : null;
    }, 'the status to show the last success', 10_000);
    const last = Date.parse(status.last_runs!['tick']!.last_success_at!);
    expect(last).toBeGreaterThanOrEqual(clearedAt);
    expect(status.leader).toBe(true);
    expect(status.repeatable_jobs).toEqual([{ name: 'tick', every_ms: 200, next_run_at: expect.any(String), last_success_at: expect.any(String) }]);

    const metrics = await stack.request('GET', '/metrics');
    const text = metrics.body as string;
    const line = text.split('\n').find((l) => l.startsWith('jobsvc_scheduler_last_success_timestamp_seconds{name="tick"}'));
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').pop()) * 1000).toBeGreaterThanOrEqual(clearedAt - 1000);
    expect(text).toMatch(/^jobsvc_scheduler_leader(\{[^}]*\})? 1$/m);
  }, 60_000);
});
