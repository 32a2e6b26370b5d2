import { Client } from 'pg';
import { migrate } from '../../packages/db/src/migrate';
import { PG_BASE_URL, TEMPLATE_DB, databaseUrl } from './env';

/** Builds a freshly migrated template database; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export default async function globalSetup(): Promise<void> {
  const admin = new Client({ connectionString: PG_BASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  await migrate(databaseUrl(TEMPLATE_DB));
}
