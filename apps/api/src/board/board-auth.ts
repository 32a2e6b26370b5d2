import type { Request, RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError, hasRole, type Actor } from '@jobs/core';
import type { AccountStore } from '@jobs/db';
import { bearerToken } from '../middleware/auth';
import type { AdminSessions } from './admin-sessions';

export const ADMIN_COOKIE = 'jobsvc_admin';
export const LOGIN_PATH = '/admin/login';

type Verdict = { actor: Actor } | 'unauthenticated' | 'unknown-key';

/** Browsers navigating to the board get the login form; API clients and scripts get a 401 they can read. */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['application/json', 'application/problem+json', 'text/html']) === 'text/html';
}

export function sessionToken(req: Request): string | null {
  const cookies = req.cookies as Record<string, unknown> | undefined;
  const v = cookies?.[ADMIN_COOKIE];
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The operator behind a session token, or null. A session whose key was revoked since login (or is somehow
 * not an operator's) is closed on sight, so revoking a key also ends its dashboard sessions.
 */
export async function sessionActor(accounts: AccountStore, sessions: AdminSessions, token: string): Promise<Actor | null> {
  const keyId = await sessions.keyIdOf(token);
  const actor = keyId ? await accounts.actorByKeyId(keyId) : null;
  if (actor && hasRole(actor, 'operator')) return actor;
  await sessions.close(token);
  return null;
}

/**
 * Operator only: a Bearer operator key, or the session cookie from /admin/login. A session whose key was
 * revoked since login counts as no session, so revoking a key also ends its dashboard sessions.
 */
export function requireOperatorSession(accounts: AccountStore, sessions: AdminSessions): RequestHandler {
  const resolve = async (req: Request): Promise<Verdict> => {
    const bearer = bearerToken(req.get('authorization'));
    if (bearer) {
      const actor = await accounts.authenticate(bearer);
      return actor ? { actor } : 'unknown-key';
    }
    const token = sessionToken(req);
    const actor = token ? await sessionActor(accounts, sessions, token) : null;
    return actor ? { actor } : 'unauthenticated';
  };
  return (req, res, next) => {
    resolve(req).then((verdict) => {
      if (verdict === 'unknown-key') return next(new UnauthorizedError('Unknown or revoked API key'));
      if (verdict === 'unauthenticated') {
        if (wantsHtml(req)) return res.redirect(302, LOGIN_PATH);
        return next(new UnauthorizedError('An operator key or a dashboard session (log in at /admin/login) is required'));
      }
      if (!hasRole(verdict.actor, 'operator')) return next(new ForbiddenError('The queues dashboard needs an operator key'));
      req.actor = verdict.actor;
      next();
    }, next);
  };
}
