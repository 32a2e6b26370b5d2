import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  result: unknown;
  attempts: number;
  stop_reason: string | null;
}

describe('jobs API with a worker', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true, checkContract: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('creates a noop job that completes', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'noop' });
    expect(created.status).toBe(201);
    const job = created.body as Job;
    expect(created.headers.get('location')).toBe(`/api/jobs/${job.id}`);
    expect(['pending', 'running', 'completed']).toContain(job.status);
    const done = await waitFor(async () => {
      const r = await stack.request('GET', `/api/jobs/${job.id}`);
      const j = r.body as Job;
      return j.status === 'completed' ? j : null;
    }, 'job completed');
    expect(done.result).toEqual({});
    expect(done.attempts).toBe(1);
    expect(done.stop_reason).toBe('end_turn');
    const events = (await stack.request('GET', `/api/jobs/${job.id}/events`)).body as { seq: number; from: string | null; to: string }[];
    expect(events.map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
    expect(events[0]).toMatchObject({ seq: 1, from: null, to: 'created' });
  });

  it('waits for the result with background:false', async () => {
    const r = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 100 }, background: false });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'completed', result: { slept_ms: 100 }, input: { ms: 100, fail: false } });
  });

  it('answers 202 when the job is still running after wait_ms', async () => {
    const r = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 3000 }, background: false, wait_ms: 200 });
    expect(r.status).toBe(202);
    expect(['pending', 'running']).toContain((r.body as Job).status);
    await stack.request('PATCH', `/api/jobs/${(r.body as Job).id}/cancel`);
  });

  it('rejects an unknown task naming the field', async () => {
    const r = await stack.request('POST', '/api/jobs', { task: 'nope' });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect((r.body as { errors: { path: string }[] }).errors[0]!.path).toBe('task');
  });
});
