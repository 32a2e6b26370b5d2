import { isDependencyDown } from '@jobs/core';
import { type Db, rawRows } from './client';

/** What the server can hold and what the deployment asks of it. */
export interface PoolCapacity {
  maxConnections: number;
  /** Slots ordinary roles cannot take: superuser_reserved_connections, plus reserved_connections from PostgreSQL 16. */
  reserved: number;
  poolSize: number;
  processes: number;
}

export class PoolCapacityError extends Error {
  constructor(readonly capacity: PoolCapacity) {
    const { maxConnections, reserved, poolSize, processes } = capacity;
    super(
      `DB_POOL_SIZE (${poolSize}) x EXPECTED_PROCESSES (${processes}) = ${poolSize * processes} connections, but PostgreSQL ` +
        `max_connections (${maxConnections}) minus ${reserved} reserved leaves ${maxConnections - reserved}: ` +
        `lower DB_POOL_SIZE, run fewer processes, or raise max_connections`,
    );
    this.name = 'PoolCapacityError';
  }
}

/** True when every expected process can open its whole pool at once. */
export function poolsFit(c: PoolCapacity): boolean {
  return c.poolSize * c.processes <= c.maxConnections - c.reserved;
}

/**
 * Refuses a deployment whose pools the server cannot hold. A process cannot see the pools of processes on other
 * hosts before they open, so the count of processes is declared (EXPECTED_PROCESSES) rather than guessed from
 * the connections open now. A server that cannot be reached is not checked (undefined): the process starts
 * degraded and answers 503 until PostgreSQL is back, as it would had PostgreSQL gone away later.
 */
export async function checkPoolCapacity(db: Db, poolSize: number, processes: number): Promise<PoolCapacity | undefined> {
  let rows: { name: string; setting: string }[];
  try {
    rows = await rawRows<{ name: string; setting: string }>(
      db,
      `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')`,
      [],
    );
  } catch (err) {
    if (isDependencyDown(err) === 'postgres') return undefined;
    throw err;
  }
  const value = (name: string) => Number(rows.find((r) => r.name === name)?.setting ?? 0);
  const capacity: PoolCapacity = {
    maxConnections: value('max_connections'),
    reserved: value('superuser_reserved_connections') + value('reserved_connections'),
    poolSize,
    processes,
  };
  if (!poolsFit(capacity)) throw new PoolCapacityError(capacity);
  return capacity;
}
