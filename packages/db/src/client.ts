import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export type Db = PrismaClient;

/** One Prisma client (and its pg pool) per process. */
export function createDb(databaseUrl: string, poolSize = 20): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    // Keeps a dead database from hanging a request: statements give up instead of queueing forever.
    statement_timeout: 30_000,
  });
  return new PrismaClient({ adapter });
}
