import { Redis } from 'ioredis';
import { Scheduler } from '../../apps/worker/src/scheduler/scheduler';
import { createLogger } from '../../packages/observability/src';
import { LeaderLock, createRedis, leaderLockKey, schedulerRunsKey } from '../../packages/queue/src';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

/** Two schedulers in one process stand in for two workers: only the lock holder may run scheduled work. */
describe('Scheduler', () => {
  const prefix = testPrefix();
  const logger = createLogger({ level: 'error', service: 'test' });
  const clients: Redis[] = [];
  const schedulers: Scheduler[] = [];
  let admin: Redis;
  const make = (id: string, handler: (signal: AbortSignal) => Promise<unknown>, ttlMs = 900) => {
    const command = createRedis(REDIS_URL, 'command');
    const connection = createRedis(REDIS_URL, 'worker');
    clients.push(command, connection);
    const lock = new LeaderLock(command, { key: leaderLockKey(prefix), ttlMs, retryIntervalMs: 60_000, instanceId: id });
    const s = new Scheduler({ connection, redis: command, prefix, lock, entries: [{ name: 'tick', everyMs: 100, handler }], logger });
    schedulers.push(s);
    return s;
  };
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    for (const c of clients.splice(0)) c.disconnect();
    await deleteKeysWithPrefix(prefix);
  });
  afterAll(() => admin.disconnect());

  it('runs the scheduled handler on the leader only', async () => {
    const runs: string[] = [];
    const a = make('a', async () => void runs.push('a'));
    const b = make('b', async () => void runs.push('b'));
    a.start();
    await waitFor(() => a.isLeader(), 'a leads');
    b.start();
    await waitFor(() => runs.length >= 5, 'five runs', 15_000);
    expect(b.isLeader()).toBe(false);
    expect(new Set(runs)).toEqual(new Set(['a']));
    const recorded = (await admin.lrange(schedulerRunsKey(prefix), 0, -1)).map((r) => JSON.parse(r) as { instance_id: string });
    expect(new Set(recorded.map((r) => r.instance_id))).toEqual(new Set([a.instanceId]));
  });

  it('aborts running work at once and runs nothing more when the lock is lost', async () => {
    let started = 0;
    let abortedAt = 0;
    const a = make('a', (signal) => {
      started++;
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve((abortedAt = Date.now())), { once: true }));
    });
    a.start();
    await waitFor(() => started > 0, 'handler running');
    const stolenAt = Date.now();
    await admin.set(leaderLockKey(prefix), 'intruder', 'PX', 10_000);
    await waitFor(() => abortedAt > 0, 'handler aborted', 5000, 10);
    expect(abortedAt - stolenAt).toBeLessThanOrEqual(900 / 3 + 200); // the next renewal notices
    expect(a.isLeader()).toBe(false);
    const after = started;
    await new Promise((r) => setTimeout(r, 800));
    expect(started).toBe(after);
  });
});
