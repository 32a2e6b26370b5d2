import type { Request, RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError, hasRole, type Actor, type Role } from '@jobs/core';
import type { AccountStore } from '@jobs/db';

export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

/**
 * A second way in for requests without an `Authorization` header (the dashboard session of the console):
 * the actor, null when the request carries no such credential, or a throw (UnauthorizedError) when it
 * carries one that does not count.
 */
export type SessionAuth = (req: Request) => Promise<Actor | null>;

/**
 * Resolves `Authorization: Bearer <key>` to the actor; no, unknown or revoked key → 401. With `session`, a
 * request without an Authorization header may authenticate through it instead; a header, even a malformed
 * one, always decides alone.
 */
export function authenticate(accounts: AccountStore, session?: SessionAuth): RequestHandler {
  const resolve = async (req: Request): Promise<Actor> => {
    const header = req.get('authorization');
    if (header === undefined && session) {
      const actor = await session(req);
      if (actor) return actor;
    }
    const token = bearerToken(header);
    if (!token) throw new UnauthorizedError();
    const actor = await accounts.authenticate(token);
    if (!actor) throw new UnauthorizedError('Unknown or revoked API key');
    return actor;
  };
  return (req, _res, next) => {
    resolve(req).then((actor) => {
      req.actor = actor;
      next();
    }, next);
  };
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (!req.actor) return next(new UnauthorizedError());
    if (!hasRole(req.actor, role)) return next(new ForbiddenError(`This route needs the ${role} role`));
    next();
  };
}

export function actorOf(req: { actor?: Actor }): Actor {
  if (!req.actor) throw new UnauthorizedError();
  return req.actor;
}
