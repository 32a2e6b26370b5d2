import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import cookieParser from 'cookie-parser';
import express, { type Express, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { hasRole } from '@jobs/core';
import { JOBS_QUEUE } from '@jobs/queue';
import type { AppDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { ADMIN_SESSION_TTL_SECONDS, type AdminSessions } from './admin-sessions';
import { ADMIN_COOKIE, LOGIN_PATH, requireOperatorSession, sessionToken } from './board-auth';
import { LOGIN_PAGE_CSP, loginPage, returnPath } from './login-page';

export const BOARD_PATH = '/admin/queues';
const LOGOUT_PATH = '/admin/logout';

const loginBody = z.object({ key: z.string().trim().min(1).max(512), next: z.string().max(2048).optional() });

/**
 * The session cookie covers the whole origin: the board under /admin and the API under /api, where it counts
 * only on the console's same-origin requests (api-session.ts). Cookies of earlier releases were scoped to
 * /admin; one left behind would shadow the new one there, so login and logout clear it.
 */
const COOKIE_PATH = '/';
const OLD_COOKIE_PATH = '/admin';

/** The board runs its own Express app inside ours; it should not advertise Express either. */
class BoardAdapter extends ExpressAdapter {
  constructor() {
    super();
    this.app.disable('x-powered-by');
  }
}

/**
 * Bull Board over every queue of the service at /admin/queues, plus its login and logout pages.
 * The `jobs` queue allows no retries from the board: a job's state lives in Postgres, so jobs are
 * retried and cancelled through the API.
 */
export function mountBullBoard(
  app: Express,
  deps: Pick<AppDeps, 'accounts' | 'logger'>,
  table: RouteTable,
  queues: readonly Queue[],
  sessions: AdminSessions,
): void {
  const serverAdapter = new BoardAdapter().setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, q.name === JOBS_QUEUE ? { allowRetries: false, description: 'Retry and cancel jobs through the API' } : {})),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Job service' } },
  });
  const pages = express.Router();
  pages.use('/admin', cookieParser());
  const page = (res: Response, status: number, next: string | null, message?: string) =>
    res.status(status).setHeader('Content-Security-Policy', LOGIN_PAGE_CSP).setHeader('Cache-Control', 'no-store').type('html').send(loginPage(next, message));
  const cookieFlags = (req: Request, path: string) => ({ httpOnly: true, sameSite: 'strict' as const, secure: req.secure, path });

  table.add(pages, 'get', LOGIN_PATH, (req: Request, res: Response) => page(res, 200, returnPath(req.query['next'])));
  table.add(pages, 'post', LOGIN_PATH, express.urlencoded({ extended: false, limit: '8kb' }), async (req: Request, res: Response) => {
    const parsed = loginBody.safeParse(req.body);
    const next = returnPath((req.body as { next?: unknown } | undefined)?.next);
    if (!parsed.success) return page(res, 400, next, 'Enter the operator API key.');
    const actor = await deps.accounts.authenticate(parsed.data.key);
    if (!actor) {
      deps.logger.warn('dashboard login refused', { reason: 'unknown key', ip: req.ip });
      return page(res, 401, next, 'Unknown or revoked API key.');
    }
    if (!hasRole(actor, 'operator')) {
      deps.logger.warn('dashboard login refused', { reason: 'not an operator', key_id: actor.keyId, ip: req.ip });
      return page(res, 403, next, 'The queues dashboard needs an operator key.');
    }
    const token = await sessions.open(actor.keyId);
    deps.logger.info('dashboard login', { key_id: actor.keyId, ip: req.ip });
    res.cookie(ADMIN_COOKIE, token, { ...cookieFlags(req, COOKIE_PATH), maxAge: ADMIN_SESSION_TTL_SECONDS * 1000 });
    res.clearCookie(ADMIN_COOKIE, cookieFlags(req, OLD_COOKIE_PATH));
    res.redirect(303, next ?? BOARD_PATH);
  });
  const logout = async (req: Request, res: Response) => {
    const token = sessionToken(req);
    if (token) await sessions.close(token);
    res.clearCookie(ADMIN_COOKIE, cookieFlags(req, COOKIE_PATH));
    res.clearCookie(ADMIN_COOKIE, cookieFlags(req, OLD_COOKIE_PATH));
    res.redirect(303, LOGIN_PATH);
  };
  table.add(pages, 'post', LOGOUT_PATH, logout);
  table.add(pages, 'get', LOGOUT_PATH, logout);
  app.use(pages);
  app.use(BOARD_PATH, cookieParser(), requireOperatorSession(deps.accounts, sessions), serverAdapter.getRouter() as Router);
}
