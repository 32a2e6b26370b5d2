import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../packages/observability/src';

/** A logger of the service's own format (redaction included) whose JSON lines the test can read. */
export function capturingLogger(opts: { level?: string; service?: string } = {}): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: opts.level ?? 'info', service: opts.service ?? 'api' });
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
          done();
        },
      }),
    }),
  );
  return { logger, lines };
}
