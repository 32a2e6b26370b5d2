import type { RequestHandler, Router } from 'express';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/**
 * Registers routes and remembers (method, path) pairs so unknown methods on known paths answer 405.
 * Handlers may be async: Express 5 passes a rejection to the error middleware itself.
 */
export class RouteTable {
  readonly entries: { method: string; pattern: RegExp }[] = [];

  add(router: Router, method: Method, path: string, ...handlers: RequestHandler[]): void {
    this.entries.push({ method: method.toUpperCase(), pattern: new RegExp(`^${path.replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`) });
    router[method](path, ...handlers);
  }
}
