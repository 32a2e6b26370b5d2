import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { SessionContext } from '../src/session';
import { JobsView } from '../src/views/JobsView';
import { fakeSession, json } from './fake-api';

const job = (id: string, status: string) => ({
  id,
  task: 'noop',
  status,
  attempts: 0,
  max_attempts: 1,
  progress: null,
  created_at: '2026-12-07T00:00:00.000Z',
});

describe('JobsView', () => {
  beforeEach(() => history.replaceState(null, '', '/console/jobs?status=failed&task=noop'));

  it('reads its filters from the URL, asks the list route with them, and writes changes back to the URL', async () => {
    const session = fakeSession((req) => {
      const url = new URL(req.url);
      return json(url.searchParams.get('after') ? [] : [job('job-1', 'failed')], 200, {
        link: '</api/jobs?task=noop&after=job-1>; rel="next"',
      });
    });
    render(
      <SessionContext.Provider value={session}>
        <JobsView />
      </SessionContext.Provider>,
    );
    await screen.findByText('job-1…');
    const first = new URL(session.requests[0]!.url);
    expect(first.pathname).toBe('/api/jobs');
    expect(first.searchParams.getAll('status')).toEqual(['failed']);
    expect(first.searchParams.get('task')).toBe('noop');
    expect((screen.getByLabelText('failed') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Task') as HTMLInputElement).value).toBe('noop');

    act(() => {
      fireEvent.click(screen.getByLabelText('running'));
    });
    expect(location.search).toBe('?status=failed&status=running&task=noop');
    act(() => {
      fireEvent.change(screen.getByLabelText('Task'), { target: { value: 'sleep' } });
    });
    expect(new URLSearchParams(location.search).get('task')).toBe('sleep');

    const next = await screen.findByRole('button', { name: 'Next page' });
    act(() => {
      fireEvent.click(next);
    });
    expect(new URLSearchParams(location.search).get('after')).toBe('job-1');
    await waitFor(() =>
      expect(session.requests.some((r) => new URL(r.url).searchParams.get('after') === 'job-1')).toBe(true),
    );
  });

  it('keeps the created range in the URL and asks the list route with it', async () => {
    history.replaceState(null, '', '/console/jobs?created_after=2026-12-01T08%3A30%3A00.000Z');
    const session = fakeSession(() => json([job('job-2', 'completed')]));
    render(
      <SessionContext.Provider value={session}>
        <JobsView />
      </SessionContext.Provider>,
    );
    await screen.findByText('job-2…');
    expect(new URL(session.requests[0]!.url).searchParams.get('created_after')).toBe('2026-12-01T08:30:00.000Z');
    const after = screen.getByLabelText('Created after') as HTMLInputElement;
    const d = new Date('2026-12-01T08:30:00.000Z');
    const pad = (n: number) => String(n).padStart(2, '0');
    // The input shows the bound in the browser's zone.
    expect(after.value).toBe(
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`,
    );

    act(() => {
      fireEvent.change(screen.getByLabelText('Created before'), { target: { value: '2026-12-05T17:45' } });
    });
    const before = new Date('2026-12-05T17:45').toISOString();
    const q = new URLSearchParams(location.search);
    expect(q.get('created_after')).toBe('2026-12-01T08:30:00.000Z');
    expect(q.get('created_before')).toBe(before);
    expect((screen.getByLabelText('Created before') as HTMLInputElement).value).toBe('2026-12-05T17:45');
    await waitFor(() =>
      expect(session.requests.some((r) => new URL(r.url).searchParams.get('created_before') === before)).toBe(true),
    );

    act(() => {
      fireEvent.change(screen.getByLabelText('Created after'), { target: { value: '' } });
    });
    expect(new URLSearchParams(location.search).has('created_after')).toBe(false);
  });

  it('shows the problem document of a refused filter', async () => {
    const session = fakeSession(() =>
      json(
        { title: 'Bad Request', status: 400, detail: 'Invalid query', errors: [{ path: 'task', message: 'Too long' }] },
        400,
      ),
    );
    render(
      <SessionContext.Provider value={session}>
        <JobsView />
      </SessionContext.Provider>,
    );
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('400 Bad Request');
    expect(alert.textContent).toContain('Invalid query');
    expect(alert.textContent).toContain('task: Too long');
  });
});
