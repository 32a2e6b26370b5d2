import { createContext, useContext } from 'react';
import { ApiError, createJobsClient, unwrap, type JobsClient } from '@jobs/client';

/** sessionStorage only: the key lives as long as the tab's session and is never written to disk by us. */
export const KEY_STORAGE = 'jobs-console.api-key';

export type Role = 'member' | 'admin' | 'operator';

export interface Session {
  client: JobsClient;
  /** For the one request the client cannot make: an upload with progress (src/upload.ts). */
  apiKey: string;
  /** The key's role as far as the API lets it be known (see `probeRole`). */
  role: Role;
  /** The key's organization, when the key list shows it (admins and operators). */
  organizationId: string | null;
}

/**
 * Learns what a key may do through the ordinary routes: a jobs list proves the key (401 otherwise), and the
 * admin key list answers 403 to a member. An admin or operator finds its own key there by its prefix.
 */
export async function openSession(
  apiKey: string,
  onUnauthorized: () => void = () => undefined,
  baseUrl = location.origin,
): Promise<Session> {
  // A key revoked while the tab is open (perhaps from this very console) ends the session at its first refusal.
  const client = createJobsClient({
    baseUrl,
    apiKey,
    fetch: async (request) => {
      const res = await globalThis.fetch(request);
      if (res.status === 401) onUnauthorized();
      return res;
    },
  });
  unwrap(await client.GET('/api/jobs', { params: { query: { limit: 1 } } }));
  const keys = await client.GET('/api/admin/api-keys');
  if (keys.response.status === 403) return { client, apiKey, role: 'member', organizationId: null };
  const list = unwrap(keys);
  const own = list.find((k) => apiKey.startsWith(k.prefix));
  return {
    client,
    apiKey,
    role: own?.role ?? 'admin',
    organizationId: own?.organization_id ?? list[0]?.organization_id ?? null,
  };
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export const isUnauthorized = (err: unknown): boolean => err instanceof ApiError && err.status === 401;
