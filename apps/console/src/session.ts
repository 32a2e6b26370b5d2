import { createContext, useContext } from 'react';
import { ApiError, createJobsClient, unwrap, type JobsClient } from '@jobs/client';

/** sessionStorage only: the key lives as long as the tab's session and is never written to disk by us. */
export const KEY_STORAGE = 'jobs-console.api-key';
/** sessionStorage: this tab signs in with the dashboard session (a marker only; the cookie is the browser's). */
export const DASHBOARD_STORAGE = 'jobs-console.dashboard-session';

/** Without this header the API ignores the dashboard session cookie: another site's form cannot send it. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = { 'X-Jobs-Console': '1' };
/** The board's sign-in and sign-out pages, which open and end the dashboard session. */
export const DASHBOARD_LOGIN = '/admin/login';
export const DASHBOARD_LOGOUT = '/admin/logout';

export type Role = 'member' | 'admin' | 'operator';

/** How the console proves itself: an API key, or the operator dashboard session the browser holds as a cookie. */
export type Credentials = { kind: 'key'; apiKey: string } | { kind: 'dashboard' };

export interface Session {
  client: JobsClient;
  via: Credentials['kind'];
  /** For the one request the client cannot make: an upload with progress (src/upload.ts). */
  authHeaders: Readonly<Record<string, string>>;
  /** The key's role as far as the API lets it be known (see `openSession`). */
  role: Role;
  /** The key's organization, when the key list shows it (admins and operators). */
  organizationId: string | null;
}

/**
 * Learns what the credentials may do through the ordinary routes: a jobs list proves them (401 otherwise), and
 * the admin key list answers 403 to a member. An admin or operator key finds itself there by its prefix; a
 * dashboard session is an operator's by construction (the board lets no other key sign in).
 */
export async function openSession(
  credentials: Credentials,
  onUnauthorized: () => void = () => undefined,
  baseUrl = location.origin,
): Promise<Session> {
  const authHeaders: Record<string, string> =
    credentials.kind === 'key' ? { authorization: `Bearer ${credentials.apiKey}` } : { ...CONSOLE_HEADERS };
  // Credentials that stop working while the tab is open (a revoked key, an ended session) end the console's session at the first refusal.
  const client = createJobsClient({
    baseUrl,
    ...(credentials.kind === 'key' ? { apiKey: credentials.apiKey } : { headers: authHeaders, credentials: 'same-origin' as const }),
    fetch: async (request) => {
      const res = await globalThis.fetch(request);
      if (res.status === 401) onUnauthorized();
      return res;
    },
  });
  const opened = { client, via: credentials.kind, authHeaders };
  unwrap(await client.GET('/api/jobs', { params: { query: { limit: 1 } } }));
  const keys = await client.GET('/api/admin/api-keys');
  if (keys.response.status === 403) return { ...opened, role: 'member', organizationId: null };
  const list = unwrap(keys);
  const own = credentials.kind === 'key' ? list.find((k) => credentials.apiKey.startsWith(k.prefix)) : undefined;
  return {
    ...opened,
    role: own?.role ?? (credentials.kind === 'dashboard' ? 'operator' : 'admin'),
    organizationId: own?.organization_id ?? list[0]?.organization_id ?? null,
  };
}

/** Ends the dashboard session itself (the board's sign-out), not only the console's view of it. */
export async function endDashboardSession(baseUrl = location.origin): Promise<void> {
  await globalThis.fetch(`${baseUrl}${DASHBOARD_LOGOUT}`, { method: 'POST', credentials: 'same-origin', redirect: 'manual' });
}

/** The board's sign-in page, sending the browser back to `returnTo` (a console path) once signed in. */
export function dashboardLoginHref(returnTo: string): string {
  return `${DASHBOARD_LOGIN}?next=${encodeURIComponent(returnTo)}`;
}

export function storedCredentials(): Credentials | null {
  const apiKey = sessionStorage.getItem(KEY_STORAGE);
  if (apiKey) return { kind: 'key', apiKey };
  return sessionStorage.getItem(DASHBOARD_STORAGE) === '1' ? { kind: 'dashboard' } : null;
}

export function storeCredentials(credentials: Credentials | null): void {
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.removeItem(DASHBOARD_STORAGE);
  if (credentials?.kind === 'key') sessionStorage.setItem(KEY_STORAGE, credentials.apiKey);
  if (credentials?.kind === 'dashboard') sessionStorage.setItem(DASHBOARD_STORAGE, '1');
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export const isUnauthorized = (err: unknown): boolean => err instanceof ApiError && err.status === 401;
