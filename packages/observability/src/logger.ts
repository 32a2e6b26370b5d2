import winston from 'winston';
import { currentLogContext } from './log-context';

export type Logger = winston.Logger;

/**
 * JSON lines on stdout. Context (service, worker id, job id, request id) rides on child loggers so every
 * line carries it. The console transport writes asynchronously through the stream, keeping the hot path free.
 */
export function createLogger(opts: { level?: string; service: string; defaultMeta?: Record<string, unknown> }): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { service: opts.service, pid: process.pid, ...opts.defaultMeta },
    format: winston.format.combine(winston.format.timestamp(), context(), redact(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: [] })],
  });
}

/** Adds the fields of the current log context; a line's own fields win. */
const context = winston.format((info) => {
  const ctx = currentLogContext();
  if (ctx) for (const [k, v] of Object.entries(ctx)) if (info[k] === undefined) info[k] = v;
  return info;
});

const SECRET_KEYS = /^(authorization|api_key|key|webhook_secret|secret|password|token)$/i;

/** Secrets never reach the log, whatever a caller passes as metadata. */
const redact = winston.format((info) => {
  for (const k of Object.keys(info)) {
    if (SECRET_KEYS.test(k)) (info as Record<string, unknown>)[k] = '[redacted]';
  }
  return info;
});
