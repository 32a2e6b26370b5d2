import { useSyncExternalStore } from 'react';

/** The app lives under this path on the API's origin (Vite's `base`). */
export const BASE = '/console';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const snapshot = () => `${location.pathname}${location.search}`;

/** The view path (below /console) and query of the address bar, re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, 'http://console.invalid');
  const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) || '/' : url.pathname;
  return { path, query: url.searchParams };
}

/** Goes to a view path (below /console), optionally replacing the history entry (filters typing). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const href = `${BASE}${to}`;
  if (href === snapshot()) return;
  if (opts.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  notify();
}
