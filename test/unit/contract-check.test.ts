import { expectContract, operationFor } from '../support/contract';

/** The contract helper fails on what the document does not say: a field too many or too few, a status, a media type. */
describe('expectContract', () => {
  const json = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  const problemJson = new Headers({ 'content-type': 'application/problem+json; charset=utf-8' });
  const job = {
    id: 'job-6f1c2b8e-4d7a-4f6e-9a3b-1c2d3e4f5a6b',
    job_type: 'job',
    task: 'noop',
    status: 'completed',
    stop_reason: 'end_turn',
    background: true,
    input: {},
    result: null,
    error: null,
    progress: null,
    metadata: {},
    agent_id: null,
    user_id: 'user-6f1c2b8e-4d7a-4f6e-9a3b-1c2d3e4f5a6b',
    organization_id: 'org-6f1c2b8e-4d7a-4f6e-9a3b-1c2d3e4f5a6b',
    priority: null,
    attempts: 1,
    max_attempts: 1,
    backoff_ms: 1000,
    timeout_ms: null,
    delay_ms: null,
    expires_at: null,
    idempotency_key: null,
    callback_url: null,
    callback_sent_at: null,
    callback_status_code: null,
    callback_error: null,
    callback_attempts: 0,
    ttft_ns: null,
    total_duration_ns: null,
    created_at: '2026-11-22T10:00:00.000Z',
    updated_at: '2026-11-22T10:00:00.000Z',
    started_at: '2026-11-22T10:00:00.000Z',
    completed_at: '2026-11-22T10:00:00.000Z',
    concurrency_key: null,
    concurrency_limit: null,
  };
  const get = (body: unknown, status = 200, headers = json) =>
    expectContract('GET', `/api/jobs/${job.id}`, { status, body, headers });

  it('accepts a Job as the contract has it', () => {
    expect(get(job)).toEqual(job);
  });

  it('rejects a field too many, a field missing, a wrong enum, a timestamp without milliseconds, a bad id', () => {
    expect(() => get({ ...job, extra: 1 })).toThrow(/breaks the contract/);
    const { stop_reason: _omitted, ...missing } = job;
    expect(() => get(missing)).toThrow(/breaks the contract/);
    expect(() => get({ ...job, status: 'done' })).toThrow(/breaks the contract/);
    expect(() => get({ ...job, created_at: '2026-11-22T10:00:00Z' })).toThrow(/breaks the contract/);
    expect(() => get({ ...job, user_id: 'user-1' })).toThrow(/breaks the contract/);
  });

  it('rejects a status the route does not document, and a problem that is not a problem document', () => {
    expect(() => get({ type: 'x', title: 'Conflict', status: 409, detail: 'no' }, 409, problemJson)).toThrow(
      /not documented/,
    );
    expect(get({ type: 'x', title: 'Not Found', status: 404, detail: 'no' }, 404, problemJson)).toMatchObject({
      status: 404,
    });
    expect(() => get({ type: 'x', title: 'Not Found', status: 404, detail: 'no' }, 404, json)).toThrow(
      /problem answered as application\/json/,
    );
    expect(() => get({ title: 'Not Found', status: 404 }, 404, problemJson)).toThrow(/breaks the contract/);
  });

  it('matches a literal path segment before a parameter', () => {
    expect(operationFor('GET', '/api/jobs/active?limit=1').operationId).toBe('listActiveJobs');
    expect(operationFor('GET', `/api/jobs/${job.id}`).operationId).toBe('getJob');
    expect(() => operationFor('PUT', '/api/jobs')).toThrow(/not in the OpenAPI document/);
  });
});
