import { loadSettings, SettingsError } from '@jobs/core';
import { ensureDatabase, migrate } from '../migrate';

async function main(): Promise<void> {
  const settings = loadSettings();
  await ensureDatabase(settings.DATABASE_URL);
  const r = await migrate(settings.DATABASE_URL);
  const url = new URL(settings.DATABASE_URL);
  console.log(`migrations: ${r.applied.length} applied, ${r.skipped.length} already applied (database ${url.pathname.slice(1)} on ${url.host})`);
}

main().catch((err: unknown) => {
  if (err instanceof SettingsError) console.error(err.message);
  else console.error(`db:migrate failed: ${(err as Error).message}\nIs PostgreSQL running and DATABASE_URL right? (e.g. postgresql://postgres@127.0.0.1:5432/jobs)`);
  process.exit(1);
});
