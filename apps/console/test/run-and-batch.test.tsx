import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { allowedActions } from '../src/job-actions';
import { SessionContext } from '../src/session';
import { BatchItems } from '../src/views/BatchItems';
import { RunDetails } from '../src/views/RunDetails';
import { fakeSession, json } from './fake-api';

describe('a run, a batch, and the job buttons', () => {
  it("shows a run's steps with their time to first token, and its messages", async () => {
    const session = fakeSession((req) =>
      new URL(req.url).pathname.endsWith('/steps')
        ? json([
            {
              id: 'step-1234567890abcdef',
              run_id: 'job-1',
              provider: 'anthropic',
              model: 'claude-x',
              stop_reason: 'end_turn',
              usage: { input_tokens: 4, output_tokens: 5 },
              ttft_ns: 397_725_530,
              duration_ns: 488_425_551,
              created_at: '2026-12-07T00:00:00.000Z',
            },
          ])
        : json([
            {
              id: 'message-1',
              run_id: 'job-1',
              step_id: null,
              role: 'assistant',
              content: 'Echo: hi',
              created_at: '2026-12-07T00:00:00.000Z',
            },
          ]),
    );
    render(
      <SessionContext.Provider value={session}>
        <RunDetails id="job-1" live={false} />
      </SessionContext.Provider>,
    );
    const row = (await screen.findByText('claude-x')).closest('tr')!;
    expect(within(row).getByText('397.7 ms')).toBeTruthy();
    expect(within(row).getByText('4/5')).toBeTruthy();
    expect(await screen.findByText('Echo: hi')).toBeTruthy();
  });

  it("groups a batch's items by status across pages", async () => {
    const item = (n: number, status: string) => ({
      id: `batch_item-${n}`,
      custom_id: `c-${n}`,
      status,
      result: null,
      error: null,
      updated_at: '2026-12-07T00:00:00.000Z',
    });
    const session = fakeSession((req) =>
      new URL(req.url).searchParams.get('after')
        ? json([item(3, 'errored')])
        : json([item(1, 'succeeded'), item(2, 'succeeded')], 200, {
            link: '</api/batches/job-1/items?limit=1000&after=batch_item-2>; rel="next"',
          }),
    );
    render(
      <SessionContext.Provider value={session}>
        <BatchItems id="job-1" live={false} />
      </SessionContext.Provider>,
    );
    await screen.findByText('c-3');
    const summaries = [...document.querySelectorAll('summary')].map((s) => s.textContent);
    expect(summaries).toEqual(['succeeded 2', 'errored 1']);
  });

  it('offers cancel before the end, retry after a failure, redeliver only with a callback', () => {
    expect(allowedActions({ status: 'running', callback_url: null })).toEqual({
      cancel: true,
      retry: false,
      redeliver: false,
    });
    expect(allowedActions({ status: 'failed', callback_url: 'http://x' })).toEqual({
      cancel: false,
      retry: true,
      redeliver: true,
    });
    expect(allowedActions({ status: 'completed', callback_url: null })).toEqual({
      cancel: false,
      retry: false,
      redeliver: false,
    });
  });
});
