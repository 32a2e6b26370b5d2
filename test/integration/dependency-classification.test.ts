import { Redis } from 'ioredis';
import { Client } from 'pg';
import { isDependencyDown } from '../../packages/core/src';
import { createDb, rawRows } from '../../packages/db/src/client';
import { schedulerLastRunKey, POLL_LLM_BATCHES } from '../../packages/queue/src/names';
import { createRedis } from '../../packages/queue/src/redis';
import { closedPort } from '../support/closed-port';
import { REDIS_URL } from '../support/env';
import { startStack, type TestStack } from '../support/stack';

/** The error a promise rejects with (fails the test if it resolves). */
async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * SPEC F5/API.md: "Dependency down (Postgres/Redis): 503". An outage is recognised by the error's type and
 * code (SQLSTATE classes 08 and 57P, Prisma's connection errors, ioredis's connection errors, socket error
 * codes), never by words in a message: a bug or a client's data that mentions "Redis" is not an outage.
 * Every error here is produced for real by the clients the service uses.
 */
describe('what counts as a dependency outage', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('real connection failures of Postgres and Redis are outages', async () => {
    const port = await closedPort();
    const down = createDb(`postgresql://postgres@127.0.0.1:${port}/nowhere`, 1);
    const redisDown = createRedis(`redis://127.0.0.1:${port}`, 'command');
    const retrying = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    retrying.on('error', () => undefined);
    const live = createDb(stack.database.url, 2);
    try {
      // Prisma over the pg adapter (P1001) and the raw pool path (a socket error from node-postgres).
      expect(isDependencyDown(await errorOf(down.apiKey.findUnique({ where: { keyHash: 'x' } })))).toBe('postgres');
      expect(isDependencyDown(await errorOf(rawRows(down, 'SELECT 1', [])))).toBe('postgres');
      // The server ends the session (57P01 admin_shutdown), through Prisma and through pg.
      expect(isDependencyDown(await errorOf(live.$queryRawUnsafe('SELECT pg_terminate_backend(pg_backend_pid())')))).toBe('postgres');
      expect(isDependencyDown(await errorOf(rawRows(live, `DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '08006', MESSAGE = 'connection failure'; END $$`, [])))).toBe('postgres');
      // ioredis: a fail-fast client with no connection, and one out of retries.
      expect(isDependencyDown(await errorOf(redisDown.get('k')))).toBe('redis');
      expect(isDependencyDown(await errorOf(retrying.get('k')))).toBe('redis');
    } finally {
      redisDown.disconnect();
      retrying.disconnect();
      await down.$disconnect();
      await live.$disconnect();
    }
  });

  it('errors that merely mention Redis, a connection or a Prisma code are not outages', async () => {
    const live = createDb(stack.database.url, 2);
    const redis = new Redis(REDIS_URL);
    try {
      // A bug: a property named redis read from undefined.
      let bug: unknown;
      try {
        const deps = undefined as unknown as { redis: { get(): void } };
        deps.redis.get();
      } catch (err) {
        bug = err;
      }
      expect(bug).toBeInstanceOf(TypeError);
      expect(isDependencyDown(bug)).toBe(false);
      expect(isDependencyDown(new Error('Redis said: the value you stored is too large'))).toBe(false);
      expect(isDependencyDown(await errorOf(Promise.resolve().then(() => JSON.parse('Redis is down'))))).toBe(false);
      // A database error raised by a statement (not a connection problem) whose text names Redis, a closed
      // connection and a Prisma connection code.
      const raised = await errorOf(rawRows(live, `DO $$ BEGIN RAISE EXCEPTION 'Redis connection closed: P1001 ECONNREFUSED'; END $$`, []));
      expect(isDependencyDown(raised)).toBe(false);
      expect(isDependencyDown(await errorOf(live.$queryRawUnsafe(`DO $$ BEGIN RAISE EXCEPTION 'Redis connection closed: P1001 ECONNREFUSED'; END $$`)))).toBe(false);
      // A Redis command error (a bug, not an outage): its reply names Redis' own terms.
      await redis.set(`${stack.prefix}:classification:string`, 'x');
      expect(isDependencyDown(await errorOf(redis.lpush(`${stack.prefix}:classification:string`, 'y')))).toBe(false);
    } finally {
      redis.disconnect();
      await live.$disconnect();
    }
  });

  it('a route failing with an error that mentions Redis answers 500, not a 503 outage', async () => {
    // A corrupt scheduler summary: the route's JSON.parse fails with a message quoting the stored text.
    const redis = new Redis(REDIS_URL);
    try {
      await redis.set(schedulerLastRunKey(stack.prefix, POLL_LLM_BATCHES), 'Redis snapshot, not JSON');
      const r = await stack.request('GET', '/api/admin/scheduler/status');
      expect(r.status).toBe(500);
      expect(r.headers.get('retry-after')).toBeNull();
    } finally {
      await redis.del(schedulerLastRunKey(stack.prefix, POLL_LLM_BATCHES));
      redis.disconnect();
    }
  });

  it('leaves the database usable (sanity: the stack still answers)', async () => {
    const pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    await pg.end();
    expect((await stack.request('GET', '/api/jobs')).status).toBe(200);
  });
});
