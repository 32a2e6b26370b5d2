import { createApiProcess } from '../../apps/api/src/api-process';
import { createWorkerProcess } from '../../apps/worker/src/worker-process';
import { loadSettings } from '../../packages/core/src';
import { PoolCapacityError, checkPoolCapacity, createDb, poolsFit, type Db } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { testPrefix } from '../support/redis';

describe('PostgreSQL pool sizing at startup', () => {
  let database: TestDatabase;
  let db: Db;
  let maxConnections: number;
  let reserved: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 1);
    const rows = await db.$queryRawUnsafe<{ m: string; r: string }[]>(`SELECT current_setting('max_connections') AS m, current_setting('superuser_reserved_connections') AS r`);
    maxConnections = Number(rows[0]!.m);
    reserved = Number(rows[0]!.r);
  });
  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });

  it('reads max_connections and the reserved slots from the server and accepts pools that fit', async () => {
    const c = await checkPoolCapacity(db, 5, 2);
    expect(c).toEqual({ maxConnections, reserved, poolSize: 5, processes: 2 });
  });

  it('accepts pools that fill the server exactly and refuses one connection more', () => {
    const usable = maxConnections - reserved;
    expect(poolsFit({ maxConnections, reserved, poolSize: usable, processes: 1 })).toBe(true);
    expect(poolsFit({ maxConnections, reserved, poolSize: usable + 1, processes: 1 })).toBe(false);
  });

  it('refuses processes x DB_POOL_SIZE beyond max_connections minus the reserved slots, naming both', async () => {
    const processes = Math.ceil(maxConnections / 10) + 1;
    const err = await checkPoolCapacity(db, 10, processes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolCapacityError);
    expect((err as Error).message).toBe(
      `DB_POOL_SIZE (10) x EXPECTED_PROCESSES (${processes}) = ${10 * processes} connections, but PostgreSQL max_connections (${maxConnections}) ` +
        `minus ${reserved} reserved leaves ${maxConnections - reserved}: lower DB_POOL_SIZE, run fewer processes, or raise max_connections`,
    );
  });

  const oversized = () =>
    loadSettings({
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: testPrefix(),
      LOG_LEVEL: 'error',
      DB_POOL_SIZE: '50',
      EXPECTED_PROCESSES: String(Math.ceil(maxConnections / 50) + 1),
    });

  it('an API process whose pools cannot fit refuses to listen', async () => {
    const api = createApiProcess(oversized());
    try {
      await expect(api.listen(0, '127.0.0.1')).rejects.toThrow(/DB_POOL_SIZE \(50\) x EXPECTED_PROCESSES .* max_connections/);
      expect(api.server).toBeUndefined();
    } finally {
      await api.stop();
    }
  });

  it('a worker process whose pools cannot fit refuses to start', async () => {
    const worker = createWorkerProcess(oversized());
    try {
      await expect(worker.start()).rejects.toThrow(PoolCapacityError);
    } finally {
      await worker.stop();
    }
  });
});
