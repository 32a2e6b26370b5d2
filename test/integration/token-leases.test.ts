import { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { TokenLeases, type PointsStore } from '../../apps/api/src/middleware/token-leases';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';

/** The counting store of the rate limit on the real Redis, with its calls counted. */
function countingStore(redis: Redis, prefix: string, limit: number): PointsStore & { calls: number } {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points: limit, duration: 1 });
  const store = {
    calls: 0,
    consume(key: string, points: number): Promise<RateLimiterRes> {
      store.calls++;
      return limiter.consume(key, points);
    },
  };
  return store;
}

// Every test uses keys of its own: a window begins with a key's first request (the store's fixed window).
describe('rate-limit token leases (real Redis)', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    prefix = testPrefix();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });

  const takeMany = async (leases: TokenLeases, key: string, n: number) => {
    const decisions = [];
    for (let i = 0; i < n; i++) decisions.push(await leases.take(key));
    return decisions;
  };

  it('serves a whole window with one store call per lease, and refuses past the limit without asking again', async () => {
    const store = countingStore(redis, `${prefix}:a`, 100);
    const leases = new TokenLeases(store, 100);
    expect(leases.leaseSize).toBe(5);
    const d = await takeMany(leases, 'k1', 130);
    expect(d.filter((x) => x.allowed)).toHaveLength(100);
    expect(d.slice(0, 100).every((x) => x.allowed)).toBe(true);
    expect(d[100]).toMatchObject({ allowed: false, remaining: 0 });
    expect(d[100]!.msBeforeNext).toBeGreaterThan(0);
    expect(d[100]!.msBeforeNext).toBeLessThanOrEqual(1000);
    // 20 leases of 5; the one that reached the limit marked the window spent, so the 30 refusals asked nobody.
    expect(store.calls).toBe(20);
  });

  it('concurrent requests of one key share a single lease request', async () => {
    const store = countingStore(redis, `${prefix}:b`, 100);
    const leases = new TokenLeases(store, 100);
    const d = await Promise.all(Array.from({ length: 5 }, () => leases.take('k2')));
    expect(d.every((x) => x.allowed)).toBe(true);
    expect(store.calls).toBe(1);
  });

  it('holds across processes sharing the counter: never more than the limit, at most the unused leases fewer', async () => {
    const limit = 60;
    const a = new TokenLeases(countingStore(redis, `${prefix}:c`, limit), limit);
    const b = new TokenLeases(countingStore(redis, `${prefix}:c`, limit), limit);
    const [da, db] = await Promise.all([takeMany(a, 'k3', 50), takeMany(b, 'k3', 50)]);
    const allowed = [...da, ...db].filter((x) => x.allowed).length;
    expect(allowed).toBeLessThanOrEqual(limit);
    expect(allowed).toBeGreaterThanOrEqual(limit - (a.leaseSize - 1));
  });

  it('keys are counted apart, and a new window grants again', async () => {
    const store = countingStore(redis, `${prefix}:d`, 2);
    const leases = new TokenLeases(store, 2);
    expect(leases.leaseSize).toBe(1);
    const d = await takeMany(leases, 'k4', 3);
    expect(d.map((x) => x.allowed)).toEqual([true, true, false]);
    expect((await leases.take('k5')).allowed).toBe(true);
    // The window is the store's (it starts with the key's first request), and the refusal said when it ends.
    await new Promise((r) => setTimeout(r, d[2]!.msBeforeNext + 20));
    expect((await leases.take('k4')).allowed).toBe(true);
  });

  it('passes store failures to the caller (the middleware fails open on them)', async () => {
    const failing: PointsStore = { consume: () => Promise.reject(new Error('redis down')) };
    await expect(new TokenLeases(failing, 10).take('k6')).rejects.toThrow('redis down');
  });
});
