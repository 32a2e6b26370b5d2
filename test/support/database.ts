import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PG_BASE_URL, TEMPLATE_DB, TEST_DB_PREFIX, databaseUrl } from './env';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A private, migrated database for one test file, cloned from the template built in global setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: PG_BASE_URL });
  await admin.connect();
  try {
    // Clones need the template idle; retry briefly if another file is cloning at the same moment.
    for (let i = 0; ; i++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
        break;
      } catch (err) {
        if (i >= 50 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: databaseUrl(name),
    async drop() {
      const c = new Client({ connectionString: PG_BASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
