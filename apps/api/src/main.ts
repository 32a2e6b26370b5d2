import { loadSettings, SettingsError } from '@jobs/core';
import { createLogger, stopOnSignals } from '@jobs/observability';
import { createApiProcess } from './api-process';

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger({ level: settings.LOG_LEVEL, service: 'api' });
  const proc = createApiProcess(settings, logger);
  stopOnSignals(() => proc.stop(), logger);
  await proc.listen();
}

main().catch((err: unknown) => {
  console.error(err instanceof SettingsError ? err.message : `api failed to start: ${String(err)}`);
  process.exit(1);
});
