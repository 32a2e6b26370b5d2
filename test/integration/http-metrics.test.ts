import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** The value of one series in Prometheus text (labels matched exactly by name), or null when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('request and queue-wait metrics', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  const scrape = async () => (await stack.request('GET', '/metrics')).body as string;

  it('times requests by method, route template and status, never by raw path', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'noop' });
    expect(created.status).toBe(201);
    const id = (created.body as Job).id;
    expect((await stack.request('GET', `/api/jobs/${id}`)).status).toBe(200);
    expect((await stack.request('GET', '/api/jobs/not-an-id')).status).toBe(400);
    expect((await stack.request('GET', `/api/nowhere/${id}`)).status).toBe(404);
    expect((await stack.request('GET', '/api/jobs', undefined, null)).status).toBe(401);

    const text = await scrape();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/jobs', status: '201' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    // A handler that fails still reports its route; a path no route answers is one fixed label.
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/jobs/:id', status: '400' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route: '/api/jobs/:id', status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id.slice(4));
    expect(text).not.toContain('/api/nowhere');
  });

  it('observes the queue wait of a job when a worker starts it, by task', async () => {
    const before = sample(await scrape(), 'jobsvc_job_queue_wait_seconds_count', { task: 'sleep' }) ?? 0;
    const done = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 1 }, background: false });
    expect(done.status).toBe(200);
    expect((done.body as Job).status).toBe('completed');
    const text = await scrape();
    expect(text).toContain('# TYPE jobsvc_job_queue_wait_seconds histogram');
    expect(sample(text, 'jobsvc_job_queue_wait_seconds_count', { task: 'sleep' })).toBe(before + 1);
    expect(sample(text, 'jobsvc_job_queue_wait_seconds_bucket', { task: 'sleep', le: '+Inf' })).toBe(before + 1);
  });

  it('counts bulk creates under their own route', async () => {
    expect((await stack.request('POST', '/api/jobs/bulk', { jobs: [{ task: 'noop' }] })).status).toBe(201);
    await waitFor(async () => (sample(await scrape(), 'http_request_duration_seconds_count', { method: 'POST', route: '/api/jobs/bulk', status: '201' }) ?? 0) >= 1, 'bulk route counted');
  });
});
