import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { withLogContext, type Logger } from '@jobs/observability';

/** Gives every request an id (honouring a sane incoming X-Request-Id) and logs it when it ends. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    req.requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    // Only when request lines are logged at all: a listener per request is measurable on the hot path.
    if (logger.isLevelEnabled('http')) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        logger.http('request', {
          request_id: req.requestId,
          method: req.method,
          path: req.path,
          // The client address as TRUST_PROXY lets Express believe it (X-Forwarded-For only from trusted proxies).
          ip: req.ip,
          status: res.statusCode,
          duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      });
    }
    withLogContext({ request_id: req.requestId }, next);
  };
}

/**
 * Enters the request's log context again, right after the body parser: its callbacks come from the
 * socket's stream events, and the context must not depend on how a parser schedules them.
 */
export function resumeRequestContext(): RequestHandler {
  return (req, _res, next) => withLogContext({ request_id: req.requestId }, next);
}
