import type { RequestHandler, Router } from 'express';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
export type AsyncHandler = (...args: Parameters<RequestHandler>) => Promise<unknown> | unknown;

/**
 * Registers routes and remembers (method, path) pairs so unknown methods on known paths answer 405.
 * Handlers may be async; a rejection reaches the error middleware.
 */
export class RouteTable {
  readonly entries: { method: string; pattern: RegExp }[] = [];

  add(router: Router, method: Method, path: string, ...handlers: AsyncHandler[]): void {
    this.entries.push({ method: method.toUpperCase(), pattern: new RegExp(`^${path.replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`) });
    router[method](path, ...handlers.map(wrap));
  }
}

function wrap(h: AsyncHandler): RequestHandler {
  return (req, res, next) => {
    try {
      const r = h(req, res, next);
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).catch(next);
    } catch (err) {
      next(err);
    }
  };
}
