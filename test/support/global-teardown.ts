import { Client } from 'pg';
import { PG_BASE_URL, RUN_ID } from './env';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Drops this run's template and any database a crashed test file left behind, plus leftovers of earlier
 * runs whose process is gone. Databases of runs still going (other worktrees) are left alone.
 */
export default async function globalTeardown(): Promise<void> {
  const admin = new Client({ connectionString: PG_BASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname ~ '^jobsvc_(t|tpl)_[0-9]+'`);
    for (const { datname } of rows) {
      const run = /^jobsvc_(?:t|tpl)_(\d+)/.exec(datname)![1]!;
      if (run === RUN_ID || !alive(Number(run))) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
