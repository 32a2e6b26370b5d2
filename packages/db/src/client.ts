import { createHash } from 'node:crypto';
import { backgroundErrorListener } from '@jobs/observability';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, types, type QueryResultRow } from 'pg';
import { PrismaClient } from './generated/prisma/client';

export type Db = PrismaClient;

const INT8_OID = 20;
/** Row values as Prisma's raw queries return them (BIGINT as bigint), so both paths yield the same JobRow. */
const rowTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => BigInt(v)
      : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
};

const pools = new WeakMap<Db, Pool>();

/** One Prisma client (and its pg pool) per process. */
export function createDb(databaseUrl: string, poolSize = 20): Db {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    // Keeps a dead database from hanging a request: statements give up instead of queueing forever.
    statement_timeout: 30_000,
    // Plans that cannot fall off a cliff. Each connection caches plans (our named statements' generic plans and
    // PostgreSQL's own foreign-key checks, e.g. job_events → jobs per event) and keeps them until the table is
    // next analysed. Planned while `jobs` was a page or two (every new deployment's first seconds), they read the
    // table sequentially, so each job's cost grew with the table until autovacuum's ANALYZE, minutes later.
    // Every statement of the service reads by an index; this keeps that so whatever the estimates say (a
    // sequential scan stays possible where no index applies).
    options: '-c enable_seqscan=off',
    types: rowTypes,
  });
  // Idle clients die with their server (restart, failover, a dropped test database); without a listener
  // the pool would throw that as an uncaught error. The next query simply opens a new connection; the error
  // is counted and logged (rate-limited) so an outage shows.
  pool.on('error', backgroundErrorListener('postgres_pool'));
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  // Prisma ends the pool only if it ever connected through it; the raw hot path may be all a process used.
  const disconnect = db.$disconnect.bind(db);
  db.$disconnect = async () => {
    await disconnect();
    if (!pool.ended) await pool.end();
  };
  pools.set(db, pool);
  return db;
}

/**
 * Runs one raw statement on the pool under `db` when it was made by createDb, skipping Prisma's
 * raw-query layer (a measurable share of the CPU per job on the hot path); otherwise through Prisma.
 *
 * `prepare` names the statement: each connection parses it once, and after five runs PostgreSQL may keep
 * one generic plan. Used for the per-job statements (insert, transitions), where it saves about a fifth of
 * their server CPU. Such a plan outlives the table size it was made for; createDb's connections therefore
 * rule out sequential scans where an index applies. Other statements are planned per call.
 */
export async function rawRows<T extends QueryResultRow>(db: Db, sql: string, params: unknown[], opts: { prepare?: boolean } = {}): Promise<T[]> {
  const pool = pools.get(db);
  if (!pool) return db.$queryRawUnsafe<T[]>(sql, ...params);
  const query = opts.prepare ? { name: statementName(sql), text: sql, values: params } : { text: sql, values: params };
  return (await pool.query<T>(query)).rows;
}

const names = new Map<string, string>();
function statementName(sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `jobsvc_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    // Statement shapes are few (they vary only with which options a call sets), so this stays small.
    if (names.size < 1000) names.set(sql, name);
  }
  return name;
}
