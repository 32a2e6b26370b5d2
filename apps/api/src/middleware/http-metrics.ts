import type { Request, RequestHandler } from 'express';
import { httpRequestDuration } from '@jobs/observability';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route label: the template of the route that answered (`/api/jobs/:id`), or `unmatched` (unknown paths,
 * requests refused before routing, such as a 401). Raw paths would make one series per job id.
 */
export function routeLabel(req: Request): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

/** Observes http_request_duration_seconds when each response is finished (or the client went away). */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = httpRequestDuration.startTimer();
    let done = false;
    const observe = () => {
      if (done) return;
      done = true;
      end({ method: METHODS.has(req.method) ? req.method : 'OTHER', route: routeLabel(req), status: String(res.statusCode) });
    };
    res.on('finish', observe);
    res.on('close', observe);
    next();
  };
}
