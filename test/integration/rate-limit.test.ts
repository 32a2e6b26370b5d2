import express from 'express';
import type { AddressInfo } from 'node:net';
import { createApiProcess, type ApiProcess } from '../../apps/api/src/api-process';
import { problemHandler } from '../../apps/api/src/middleware/problem';
import { rateLimit } from '../../apps/api/src/middleware/rate-limit';
import { createLogger } from '../../packages/observability/src';
import { createRedis } from '../../packages/queue/src';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

const LIMIT = 5;

describe('per-key rate limit (RATE_LIMIT_PER_SECOND)', () => {
  let stack: TestStack;
  let second: ApiProcess;
  let secondUrl: string;
  let t: Tenant;

  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_PER_SECOND: String(LIMIT) } });
    // A second API process on the same Postgres and Redis prefix: the limit must hold across both.
    second = createApiProcess(stack.settings);
    secondUrl = await second.listen(0, '127.0.0.1');
    t = await createTenant(stack, 'limited');
    // Let the second that createTenant spent on the operator key pass.
    await new Promise((r) => setTimeout(r, 1100));
  });
  afterAll(async () => {
    await second.stop();
    await stack.stop();
  });

  const get = (base: string, key: string) => fetch(`${base}/api/jobs?limit=1`, { headers: { authorization: `Bearer ${key}` } });

  it('answers 429 with Retry-After and a problem document past the limit', async () => {
    const responses = await Promise.all(Array.from({ length: LIMIT * 3 }, () => get(stack.url, t.memberKey)));
    const limited = responses.filter((r) => r.status === 429);
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length + limited.length).toBe(responses.length);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(LIMIT * 2); // at most two windows if the burst straddles a second
    expect(limited.length).toBeGreaterThan(0);
    const r = limited[0]!;
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await r.json()).toMatchObject({ status: 429, title: 'Too Many Requests', detail: expect.stringContaining(String(LIMIT)) });
    expect(ok[0]!.headers.get('ratelimit-limit')).toBe(String(LIMIT));
  });

  it('counts per API key: another key is not limited by the first one', async () => {
    await waitFor(async () => (await get(stack.url, t.memberKey)).status === 429 || null, 'first key limited', 10_000, 0);
    expect((await get(stack.url, t.adminKey)).status).toBe(200);
  });

  it('holds across API processes (the counters are in Redis)', async () => {
    // Exhaust the key on the first process, then ask the second at once; a window boundary in between
    // could reset the count, so a few tries are allowed.
    let crossLimited = false;
    for (let i = 0; i < 5 && !crossLimited; i++) {
      await waitFor(async () => (await get(stack.url, t.adminKey)).status === 429 || null, 'limited on process 1', 10_000, 0);
      crossLimited = (await get(secondUrl, t.adminKey)).status === 429;
    }
    expect(crossLimited).toBe(true);
  });

  it('recovers after the window', async () => {
    await waitFor(async () => (await get(stack.url, OPERATOR_KEY)).status === 429 || null, 'operator limited', 10_000, 0);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(stack.url, OPERATOR_KEY)).status).toBe(200);
  });

  it('never limits health or the OpenAPI document', async () => {
    const rs = await Promise.all(Array.from({ length: LIMIT * 3 }, () => fetch(`${stack.url}/api/health/live`)));
    expect(rs.every((r) => r.status === 200)).toBe(true);
  });
});

describe('rate limiter without Redis', () => {
  /** A tiny app with only the limiter, an actor stub and the problem handler. */
  async function serve(perSecond: number, redisUrl: string) {
    // lazyConnect: the client never reaches Redis, like one whose server is down (and it leaves no
    // reconnect timers behind to keep jest waiting).
    const redis = createRedis(redisUrl, 'command', { lazyConnect: true });
    const logger = createLogger({ level: 'error', service: 'test' });
    const app = express();
    app.use((req, _res, next) => {
      req.actor = { keyId: 'key-test', userId: 'user-test', organizationId: 'org-test', role: 'member' };
      next();
    });
    app.use(rateLimit({ redis, perSecond, prefix: `rl-test-${process.pid}`, logger }));
    app.get('/x', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(problemHandler(logger));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    return {
      url,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        redis.disconnect();
      },
    };
  }

  it('fails open when Redis is unreachable (never 500, never 429)', async () => {
    const s = await serve(1, 'redis://127.0.0.1:1'); // nothing listens on port 1
    try {
      const started = Date.now();
      const rs = await Promise.all(Array.from({ length: 10 }, () => fetch(s.url)));
      expect(rs.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await s.close();
    }
  });

  it('is off when RATE_LIMIT_PER_SECOND is 0', async () => {
    const s = await serve(0, 'redis://127.0.0.1:1');
    try {
      const rs = await Promise.all(Array.from({ length: 20 }, () => fetch(s.url)));
      expect(rs.every((r) => r.status === 200)).toBe(true);
      expect(rs[0]!.headers.get('ratelimit-limit')).toBeNull();
    } finally {
      await s.close();
    }
  });
});
