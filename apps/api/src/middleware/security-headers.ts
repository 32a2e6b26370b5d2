import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's headers, set in one step. With the content security policy off, every header helmet sets is
 * the same for every response, so helmet runs once here, on a probe response that records what it sets
 * and removes, and each request then gets that list. helmet's chain of a dozen middlewares cost ~15 % of
 * the API's CPU for a GET by id (bench scenario 3). Options whose headers depend on the request (a
 * content security policy with nonces) must keep helmet itself in the chain.
 */
export function securityHeaders(options: HelmetOptions): RequestHandler {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const probe = {
    setHeader(name: string, value: number | string | readonly string[]) {
      set.push([name, Array.isArray(value) ? value.join(', ') : String(value)]);
      return probe;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let done = false;
  helmet(options)({} as IncomingMessage, probe as unknown as ServerResponse, () => {
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously on the probe response');
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}
