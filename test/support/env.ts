/** Where the tests find their services; override with TEST_DATABASE_URL / TEST_REDIS_URL. */
export const PG_BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * One jest run's id (the pid of the process that ran global setup; workers inherit it through the
 * environment). Databases are named after it so concurrent runs on one server never touch each other's.
 */
export const RUN_ID = (process.env.JOBSVC_TEST_RUN ??= String(process.pid));
export const TEMPLATE_DB = `jobsvc_tpl_${RUN_ID}`;
export const TEST_DB_PREFIX = `jobsvc_t_${RUN_ID}_`;

export function databaseUrl(name: string): string {
  const u = new URL(PG_BASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
