import type { RequestHandler } from 'express';
import type { RedisClient as Redis } from '@jobs/queue';
import { RLWrapperTimeouts, RateLimiterRedis } from 'rate-limiter-flexible';
import { RateLimitedError } from '@jobs/core';
import type { Logger } from '@jobs/observability';
import { TokenLeases } from './token-leases';

export interface RateLimitOptions {
  redis: Redis;
  /** Requests per second per API key; 0 turns limiting off. */
  perSecond: number;
  /** Redis key namespace (QUEUE_PREFIX), so API processes sharing a Redis share the counters. */
  prefix: string;
  logger: Logger;
  /** A Redis slower than this lets the request through rather than delaying it. */
  timeoutMs?: number;
}

/** How often a Redis failure is logged while the limiter fails open (one line per interval, not per request). */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Per-key rate limit (SPEC F5) with counters in Redis, so it holds across any number of API processes,
 * taken in small leases (see TokenLeases). It runs after authentication and counts by API key id. When
 * Redis is down or slow it fails open: a limiter outage must never turn into errors for clients.
 */
export function rateLimit(opts: RateLimitOptions): RequestHandler {
  if (opts.perSecond <= 0) return (_req, _res, next) => next();
  const limiter = new TokenLeases(
    new RLWrapperTimeouts({
      limiter: new RateLimiterRedis({
        storeClient: opts.redis,
        keyPrefix: `${opts.prefix}:ratelimit`,
        points: opts.perSecond,
        duration: 1,
        // An ioredis client that is reconnecting answers at once instead of queueing the command.
        rejectIfRedisNotReady: true,
      }),
      timeoutMs: opts.timeoutMs ?? 250,
    }),
    opts.perSecond,
  );
  let lastFailureLog = 0;
  return (req, res, next) => {
    const actor = req.actor;
    if (!actor) return next();
    limiter.take(actor.keyId).then(
      (d) => {
        res.setHeader('RateLimit-Limit', String(opts.perSecond));
        res.setHeader('RateLimit-Remaining', String(d.remaining));
        if (d.allowed) return next();
        next(new RateLimitedError(Math.max(1, Math.ceil(d.msBeforeNext / 1000)), opts.perSecond));
      },
      (err: unknown) => {
        const now = Date.now();
        if (now - lastFailureLog > FAILURE_LOG_INTERVAL_MS) {
          lastFailureLog = now;
          opts.logger.warn('rate limiter unavailable; letting requests through', { request_id: req.requestId, err: err instanceof Error ? err.message : String(err) });
        }
        next();
      },
    );
  };
}
