import { loadSettings, SettingsError } from '@jobs/core';
import { createLogger } from '@jobs/observability';
import { createApiProcess } from './api-process';

async function main(): Promise<void> {
  const settings = loadSettings();
  const logger = createLogger({ level: settings.LOG_LEVEL, service: 'api' });
  const proc = createApiProcess(settings, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    proc.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await proc.listen();
}

main().catch((err: unknown) => {
  console.error(err instanceof SettingsError ? err.message : `api failed to start: ${String(err)}`);
  process.exit(1);
});
