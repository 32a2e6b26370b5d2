import type { Logger } from './logger';

/**
 * SIGTERM/SIGINT run `stop` once (a second signal while stopping is ignored), then exit 0,
 * or 1 when stopping failed. Shared by the API and worker entry points.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, meta: Record<string, unknown> = {}): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, ...meta });
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
