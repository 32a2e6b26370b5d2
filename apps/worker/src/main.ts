import { loadSettings, SettingsError } from '@jobs/core';
import { createLogger, stopOnSignals } from '@jobs/observability';
import { createWorkerProcess } from './worker-process';

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger({ level: settings.LOG_LEVEL, service: 'worker' });
  const proc = createWorkerProcess(settings, logger);
  stopOnSignals(() => proc.stop(), logger, { grace_ms: settings.SHUTDOWN_GRACE_MS });
  await proc.start();
}

main().catch((err: unknown) => {
  console.error(err instanceof SettingsError ? err.message : `worker failed to start: ${String(err)}`);
  process.exit(1);
});
