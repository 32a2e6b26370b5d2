import winston from 'winston';
import { currentLogContext } from './log-context';
import { redactInfo } from './redact';

export type Logger = winston.Logger;

/**
 * JSON lines on stdout. Context (service, worker id, job id, request id) rides on child loggers so every
 * line carries it. The console transport writes asynchronously through the stream, keeping the hot path free.
 */
export function createLogger(opts: { level?: string; service: string; defaultMeta?: Record<string, unknown> }): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { service: opts.service, pid: process.pid, ...opts.defaultMeta },
    // Redaction runs last before serialising, so it also sees what the errors format made of an Error.
    format: winston.format.combine(winston.format.timestamp(), context(), winston.format.errors({ stack: true }), redact(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: [] })],
  });
}

/** Adds the fields of the current log context; a line's own fields win. */
const context = winston.format((info) => {
  const ctx = currentLogContext();
  if (ctx) for (const [k, v] of Object.entries(ctx)) if (info[k] === undefined) info[k] = v;
  return info;
});

/** Secrets never reach the log, whatever a caller passes as metadata, at any depth (see redact.ts). */
const redact = winston.format((info) => redactInfo(info));
