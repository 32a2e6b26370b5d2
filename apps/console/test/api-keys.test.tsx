import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { SessionContext } from '../src/session';
import { ApiKeys } from '../src/views/AdminView';
import { fakeSession, json } from './fake-api';

const SECRET = 'jobs_live_0123456789abcdefSECRET';

describe('API keys', () => {
  it('shows a created key once: dismissed, it is gone from the page and kept nowhere', async () => {
    const listed: unknown[] = [];
    const session = fakeSession(async (req) => {
      if (req.method === 'POST') {
        expect(await req.json()).toEqual({ user_id: 'user-1', role: 'member' });
        const key = {
          id: 'key-1',
          prefix: SECRET.slice(0, 12),
          user_id: 'user-1',
          organization_id: 'org-1',
          role: 'member',
          created_at: '2026-12-07T00:00:00.000Z',
          revoked_at: null,
        };
        listed.push(key);
        return json({ ...key, key: SECRET }, 201);
      }
      return json(listed);
    });
    render(
      <SessionContext.Provider value={session}>
        <ApiKeys />
      </SessionContext.Provider>,
    );
    fireEvent.change(screen.getByLabelText('User id'), { target: { value: 'user-1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect((await screen.findByLabelText('New API key')).textContent).toBe(SECRET);
    await screen.findByText(SECRET.slice(0, 12));

    fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(document.body.textContent).not.toContain(SECRET));
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(SECRET);
    expect(JSON.stringify({ ...localStorage })).not.toContain(SECRET);
  });

  it('shows the problem document when the API refuses', async () => {
    const session = fakeSession((req) =>
      req.method === 'POST' ? json({ title: 'Not Found', status: 404, detail: 'No user user-9' }, 404) : json([]),
    );
    render(
      <SessionContext.Provider value={session}>
        <ApiKeys />
      </SessionContext.Provider>,
    );
    fireEvent.change(screen.getByLabelText('User id'), { target: { value: 'user-9' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect((await screen.findByRole('alert')).textContent).toContain('No user user-9');
  });
});
