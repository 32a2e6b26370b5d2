import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, DependencyDownError, fieldErrorsFromIssues, isDependencyDown, type FieldError } from '@jobs/core';
import type { Logger } from '@jobs/observability';
import { ZodError } from 'zod';

const TYPE_BASE = 'https://jobsvc.dev/problems/';

/** An RFC 9457 problem document. */
export function problemBody(status: number, title: string, detail: string, errors?: FieldError[]): string {
  return JSON.stringify({
    type: `${TYPE_BASE}${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    title,
    status,
    detail,
    ...(errors ? { errors } : {}),
  });
}

export function sendProblem(res: Response, status: number, title: string, detail: string, errors?: FieldError[], headers: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.status(status).type('application/problem+json').send(problemBody(status, title, detail, errors));
}

/** The problem document for an error met after a response began (a stream): 503 for an outage, else 500. */
export function problemOf(err: unknown): string {
  if (err instanceof AppError) return problemBody(err.status, err.title, err.message, err.errors);
  const down = isDependencyDown(err);
  if (down) {
    const d = new DependencyDownError(down === 'redis' ? 'Redis' : 'PostgreSQL');
    return problemBody(d.status, d.title, d.message);
  }
  return problemBody(500, 'Internal Server Error', 'An unexpected error occurred');
}

/** The one error middleware: every failure becomes an RFC 9457 problem document. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // Too late for a problem document: end the response rather than leave the client waiting on it.
      logger.error('error after the response began', { request_id: req.requestId, err: err instanceof Error ? err.message : String(err) });
      if (!res.writableEnded) res.end();
      return;
    }
    if (err instanceof ZodError) {
      const errors = fieldErrorsFromIssues(err.issues);
      return sendProblem(res, 400, 'Bad Request', errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; '), errors);
    }
    if (err instanceof AppError) return sendProblem(res, err.status, err.title, err.message, err.errors, err.headers);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'Bad Request', `Malformed JSON body: ${e.message ?? ''}`.trim());
    if (e.type === 'entity.too.large') return sendProblem(res, 413, 'Content Too Large', 'The request body is larger than MAX_BODY_BYTES');
    if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') return sendProblem(res, 415, 'Unsupported Media Type', e.message ?? 'Unsupported encoding');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendProblem(res, e.status, 'Bad Request', e.message ?? 'Bad request');
    if (isDependencyDown(err)) {
      const d = new DependencyDownError(isDependencyDown(err) === 'redis' ? 'Redis' : 'PostgreSQL');
      logger.warn('dependency down', { request_id: req.requestId, err: String((err as Error).message ?? err) });
      return sendProblem(res, d.status, d.title, d.message, undefined, d.headers);
    }
    logger.error('unhandled error', { request_id: req.requestId, err: err instanceof Error ? err.stack : String(err) });
    return sendProblem(res, 500, 'Internal Server Error', 'An unexpected error occurred');
  };
}

/** Unknown paths are 404; known paths with another method are 405 with an Allow header. */
export function notFoundHandler(routes: { method: string; pattern: RegExp }[]): RequestHandler {
  return (req, res) => {
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(req.path)).map((r) => r.method))];
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      return sendProblem(res, 405, 'Method Not Allowed', `${req.method} is not allowed on ${req.path}`, undefined, { Allow: allowed.join(', ') });
    }
    return sendProblem(res, 404, 'Not Found', `No route for ${req.method} ${req.path}`);
  };
}
