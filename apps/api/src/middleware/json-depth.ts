import type { RequestHandler } from 'express';
import { ValidationError, findTooDeep } from '@jobs/core';

/**
 * Runs right after the JSON body parsers, before anything else walks the body: a body nested deeper than
 * MAX_JSON_DEPTH is a 400 naming the path of the first container too deep. Every later walk (zod, the
 * NUL/surrogate check, JSON.stringify, Postgres' jsonb parser) then sees at most that depth.
 */
export function jsonDepthLimit(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    const path = findTooDeep(req.body, maxDepth);
    if (!path) return next();
    next(new ValidationError([{ path: path.join('.'), message: `is nested deeper than MAX_JSON_DEPTH (${maxDepth}) allows` }]));
  };
}
