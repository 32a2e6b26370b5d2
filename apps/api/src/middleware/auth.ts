import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError, hasRole, type Actor, type Role } from '@jobs/core';
import type { AccountStore } from '@jobs/db';

export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

/** Resolves `Authorization: Bearer <key>` to the actor; no, unknown or revoked key → 401. */
export function authenticate(accounts: AccountStore): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) return next(new UnauthorizedError());
    accounts.authenticate(token).then((actor) => {
      if (!actor) return next(new UnauthorizedError('Unknown or revoked API key'));
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
