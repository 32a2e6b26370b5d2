import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiProcess } from '../../apps/api/src/api-process';
import { createApp } from '../../apps/api/src/app';
import { loadSettings } from '../../packages/core/src';
import { closedPort } from '../support/closed-port';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { testPrefix } from '../support/redis';

/**
 * The API's real dependencies and app, with one of them pointed at a port nothing listens on. The app is
 * served directly rather than through `listen`, which needs both services (bootstrap key, bus subscription).
 */
async function healthWith(env: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }> {
  const proc = createApiProcess(loadSettings({ QUEUE_PREFIX: testPrefix(), LOG_LEVEL: 'error', ...env }));
  const { app, close } = createApp(proc.deps);
  const server: Server = app.listen(0, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/health`);
    return { status: res.status, body: await res.json(), headers: res.headers };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close();
    await proc.stop();
  }
}

describe('GET /api/health', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('is ok when Postgres and Redis answer', async () => {
    const r = await healthWith({ DATABASE_URL: database.url, REDIS_URL });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers 503 degraded naming Postgres when it is down', async () => {
    const port = await closedPort();
    const r = await healthWith({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/jobs`, REDIS_URL });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'degraded', checks: { postgres: 'down', redis: 'ok' } });
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('answers 503 degraded naming Redis when it is down', async () => {
    const port = await closedPort();
    const r = await healthWith({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'degraded', checks: { postgres: 'ok', redis: 'down' } });
  });

  it('reports both when both are down, and answers within the checks bound', async () => {
    const [pg, rd] = [await closedPort(), await closedPort()];
    const started = Date.now();
    const r = await healthWith({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${pg}/jobs`, REDIS_URL: `redis://127.0.0.1:${rd}` });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'degraded', checks: { postgres: 'down', redis: 'down' } });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
