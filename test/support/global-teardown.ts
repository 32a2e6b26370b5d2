import { Client } from 'pg';
import { PG_BASE_URL } from './env';

/** Drops test databases a crashed test file may have left behind. */
export default async function globalTeardown(): Promise<void> {
  const admin = new Client({ connectionString: PG_BASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'jobsvc_t_%'`);
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
