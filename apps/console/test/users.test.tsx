import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { SessionContext } from '../src/session';
import { Users } from '../src/views/AdminView';
import { fakeSession, json } from './fake-api';

const user = (id: string, name: string) => ({
  id,
  organization_id: 'org-1',
  name,
  created_at: '2026-12-07T00:00:00.000Z',
});

describe('Users', () => {
  it('lists the users page by page and shows a created user in the list', async () => {
    const listed = [user('user-1', 'Ann'), user('user-2', 'Bob')];
    const session = fakeSession(async (req) => {
      const url = new URL(req.url);
      if (req.method === 'POST') {
        expect(await req.json()).toEqual({ organization_id: 'org-1', name: 'Cy' });
        const created = user('user-3', 'Cy');
        listed.push(created);
        return json(created, 201);
      }
      expect(url.pathname).toBe('/api/admin/users');
      if (url.searchParams.get('after') === 'user-2') return json(listed.slice(2));
      return json(listed.slice(0, 2), 200, { link: '</api/admin/users?after=user-2>; rel="next"' });
    });
    render(
      <SessionContext.Provider value={session}>
        <Users />
      </SessionContext.Provider>,
    );
    await screen.findByText('Ann');
    expect(screen.getByText('Bob')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Organization id'), { target: { value: 'org-1' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Cy' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create user' }));
    expect((await screen.findByRole('status')).textContent).toContain('user-3');

    fireEvent.click(await screen.findByRole('button', { name: 'More users' }));
    await screen.findByText('Cy');
    await waitFor(() => expect(screen.queryByText('Ann')).toBeNull());
    expect(session.requests.some((r) => new URL(r.url).searchParams.get('after') === 'user-2')).toBe(true);
  });

  it('shows the problem document when the list is refused', async () => {
    const session = fakeSession(() => json({ title: 'Forbidden', status: 403, detail: 'Needs admin' }, 403));
    render(
      <SessionContext.Provider value={session}>
        <Users />
      </SessionContext.Provider>,
    );
    expect((await screen.findByRole('alert')).textContent).toContain('Needs admin');
  });
});
