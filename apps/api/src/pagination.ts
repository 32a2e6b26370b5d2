import type { Request, Response } from 'express';

/**
 * Sets `Link: <...>; rel="next"` for a full page: the same path and query with `after` set to the last id.
 * Only a full page gets one (the next page may then be empty).
 */
export function setNextLink(req: Request, res: Response, lastId: string): void {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) {
    if (k === 'after') continue;
    for (const item of Array.isArray(v) ? v : [v]) if (typeof item === 'string') params.append(k, item);
  }
  params.set('after', lastId);
  res.setHeader('Link', `<${req.baseUrl}${req.path}?${params.toString()}>; rel="next"`);
}
