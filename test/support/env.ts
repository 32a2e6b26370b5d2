/** Where the tests find their services; override with TEST_DATABASE_URL / TEST_REDIS_URL. */
export const PG_BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEMPLATE_DB = 'jobsvc_test_template';

export function databaseUrl(name: string): string {
  const u = new URL(PG_BASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
