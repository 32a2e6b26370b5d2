import { describe, expect, it } from 'vitest';
import { afterOf, DEFAULT_FILTERS, filtersFromQuery, filtersToQuery, listQuery } from '../src/jobs-filters';

describe('jobs filters and the address bar', () => {
  it('round-trips every filter through the query string', () => {
    const filters = {
      status: ['running', 'failed'],
      task: 'sleep',
      job_type: 'run' as const,
      agent_id: 'a-1',
      order: 'asc' as const,
      created_after: '2026-12-01T00:00:00.000Z',
      created_before: '2026-12-02T12:30:00.000Z',
      limit: 20,
      after: 'job-x',
    };
    const q = filtersToQuery(filters);
    expect(q.toString()).toBe(
      'status=running&status=failed&task=sleep&job_type=run&agent_id=a-1&order=asc' +
        '&created_after=2026-12-01T00%3A00%3A00.000Z&created_before=2026-12-02T12%3A30%3A00.000Z&limit=20&after=job-x',
    );
    expect(filtersFromQuery(q)).toEqual(filters);
  });

  it('leaves defaults out and ignores what the list route would refuse', () => {
    expect(filtersToQuery(DEFAULT_FILTERS).toString()).toBe('');
    expect(filtersFromQuery(new URLSearchParams('status=running,bogus&job_type=x&limit=5000&order=up&created_after=soon'))).toEqual({
      ...DEFAULT_FILTERS,
      status: ['running'],
    });
  });

  it('gives the list route only the filters set', () => {
    expect(listQuery({ ...DEFAULT_FILTERS, task: 'noop' })).toEqual({
      task: 'noop',
      job_type: 'job',
      order: 'desc',
      limit: 50,
    });
  });

  it('reads the next cursor from a Link target', () => {
    expect(afterOf('/api/jobs?limit=50&after=job-abc')).toBe('job-abc');
    expect(afterOf(null)).toBeNull();
  });
});
