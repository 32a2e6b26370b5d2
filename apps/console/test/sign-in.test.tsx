import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { DASHBOARD_STORAGE, KEY_STORAGE } from '../src/session';
import { json } from './fake-api';

/** The whole app over a stubbed network: which credentials each request carries is what is under test. */
function stubNetwork(handler: (req: Request) => Response): Request[] {
  const seen: Request[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push(req);
    return handler(req);
  });
  return seen;
}

const unauthorized = () => json({ title: 'Unauthorized', status: 401, detail: 'A valid API key is required' }, 401);

describe('sign-in: an API key or the dashboard session', () => {
  beforeEach(() => history.replaceState(null, '', '/console/jobs?status=failed'));
  afterEach(() => vi.unstubAllGlobals());

  it('without a dashboard session, links to the board sign-in, which returns to this view', async () => {
    const seen = stubNetwork(unauthorized);
    render(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Use the dashboard session' }));
    const link = await screen.findByRole('link', { name: 'Sign in on the dashboard' });
    expect(link.getAttribute('href')).toBe(`/admin/login?next=${encodeURIComponent('/console/jobs?status=failed')}`);
    expect(seen[0]!.headers.get('x-jobs-console')).toBe('1');
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    // Leaving for the board marks the tab, so the console opens with the session on the way back.
    fireEvent.click(link);
    expect(sessionStorage.getItem(DASHBOARD_STORAGE)).toBe('1');
  });

  it('with a dashboard session, works without a key, and its sign-out ends the dashboard session', async () => {
    const seen = stubNetwork((req) => {
      const url = new URL(req.url);
      if (url.pathname === '/admin/logout') return new Response(null, { status: 200 });
      if (url.pathname === '/api/admin/api-keys') return json([{ id: 'key-1', prefix: 'jsk_abc', organization_id: 'org-1', role: 'operator' }]);
      return json([]);
    });
    render(<App />);
    fireEvent.click(screen.getByRole('button', { name: 'Use the dashboard session' }));
    await screen.findByText(/dashboard session$/);
    expect(screen.getByText(/role: operator/)).toBeTruthy();
    expect(sessionStorage.getItem(DASHBOARD_STORAGE)).toBe('1');
    expect(sessionStorage.getItem(KEY_STORAGE)).toBeNull();
    const api = seen.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(1);
    for (const r of api) {
      expect(r.headers.get('x-jobs-console')).toBe('1');
      expect(r.headers.get('authorization')).toBeNull();
      expect(r.credentials).toBe('same-origin');
    }

    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByRole('button', { name: 'Use the dashboard session' });
    await waitFor(() => expect(seen.some((r) => r.method === 'POST' && new URL(r.url).pathname === '/admin/logout')).toBe(true));
    expect(sessionStorage.length).toBe(0);
  });

  it('with a key, sends it as a Bearer header and keeps it for the tab only', async () => {
    const seen = stubNetwork((req) =>
      new URL(req.url).pathname === '/api/admin/api-keys' ? json({ title: 'Forbidden', status: 403 }, 403) : json([]),
    );
    render(<App />);
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'jsk_member' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText('role: member');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer jsk_member');
    expect(seen[0]!.headers.get('x-jobs-console')).toBeNull();
    expect(sessionStorage.getItem(KEY_STORAGE)).toBe('jsk_member');
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByLabelText('API key');
    expect(seen.some((r) => new URL(r.url).pathname === '/admin/logout')).toBe(false);
  });
});
