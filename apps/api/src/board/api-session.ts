import type { Request } from 'express';
import { UnauthorizedError, type Actor } from '@jobs/core';
import type { AccountStore } from '@jobs/db';
import type { SessionAuth } from '../middleware/auth';
import type { AdminSessions } from './admin-sessions';
import { sessionActor, sessionToken } from './board-auth';

/**
 * The header the console sends beside the session cookie. A cross-site form or image cannot send a custom
 * header, and a cross-site script cannot either without a CORS preflight, which the API never grants.
 */
export const CONSOLE_HEADER = 'X-Jobs-Console';

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** Why a request carrying the session cookie may not be from this origin's own pages, or null when it is. */
export function crossSiteReason(req: Request): string | null {
  if (req.get(CONSOLE_HEADER) !== '1') return `the dashboard session counts only with the header ${CONSOLE_HEADER}: 1`;
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' ? null : `the dashboard session counts only on same-origin requests (Sec-Fetch-Site: ${site})`;
  // Browsers without Fetch Metadata still name the origin of a script's request.
  const origin = req.get('origin');
  if (origin === undefined) return null;
  return originHost(origin) === req.host ? null : `the dashboard session counts only on same-origin requests (Origin: ${origin})`;
}

/**
 * The dashboard session (the cookie of /admin/login) as a way into the API: the request acts as the
 * operator key that opened it, through the same routes and checks as that key's Bearer header. Only
 * same-origin requests that send the console's header count, which is what keeps a cookie, sent by the
 * browser on its own, from authorizing another site's request.
 */
export function dashboardSessionAuth(accounts: AccountStore, sessions: AdminSessions): SessionAuth {
  return async (req: Request): Promise<Actor | null> => {
    const token = sessionToken(req);
    if (!token) return null;
    const refusal = crossSiteReason(req);
    if (refusal) throw new UnauthorizedError(`A valid API key is required; ${refusal}`);
    const actor = await sessionActor(accounts, sessions, token);
    if (!actor) throw new UnauthorizedError('The dashboard session has ended (signed out, expired, or its key revoked): sign in again');
    return actor;
  };
}
