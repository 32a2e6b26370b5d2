import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { QueueDepths } from '../../apps/api/src/metrics/queue-depths';
import { promClient, queueDepth } from '../../packages/observability/src';
import { MetricsPublisher } from '../../packages/queue/src';
import { REDIS_URL } from '../support/env';
import { createKey } from '../support/keys';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

async function scrape(stack: TestStack, key: string | null): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${stack.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** The value of one series in Prometheus text, or null when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('GET /metrics', () => {
  let stack: TestStack;
  let redis: Redis;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await stack.stop();
  });

  it('gives an operator queue depths, job outcomes and durations, and event loop metrics', async () => {
    const done = await stack.request('POST', '/api/jobs', { task: 'noop', background: false });
    expect(done.status).toBe(200);
    const later = await stack.request('POST', '/api/jobs', { task: 'noop', delay_ms: 600000 });
    expect(later.status).toBe(201);

    const r = await waitFor(async () => {
      const s = await scrape(stack, stack.settings.BOOTSTRAP_API_KEY!);
      return (sample(s.text, 'jobsvc_queue_jobs', { queue: 'jobs', state: 'delayed' }) ?? 0) >= 1 ? s : null;
    }, 'queue depth counted');
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/plain');
    for (const queue of ['jobs', 'callbacks', 'scheduler']) expect(sample(r.text, 'jobsvc_queue_jobs', { queue, state: 'waiting' })).not.toBeNull();
    expect(sample(r.text, 'jobsvc_job_transitions_total', { to: 'completed', task: 'noop' })).toBeGreaterThanOrEqual(1);
    expect(sample(r.text, 'jobsvc_job_duration_seconds_count', { task: 'noop', status: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(r.text).toContain('# TYPE jobsvc_event_loop_lag_seconds gauge');
    expect(r.text).toContain('# TYPE jobsvc_event_loop_hangs_total counter');
    expect(r.text).toContain('# TYPE jobsvc_event_loop_saturations_total counter');
    // Per-process series carry the process they came from; queue depths are service-wide.
    expect(r.text).toMatch(/jobsvc_job_transitions_total\{[^}]*process="[^"]+:\d+"/);
    expect(r.text).not.toMatch(/jobsvc_queue_jobs\{[^}]*process=/);
  });

  it('answers 403 to a member and an admin, 401 without a key', async () => {
    const member = await createKey(stack, 'member');
    const admin = await createKey(stack, 'admin');
    expect((await scrape(stack, member.key)).status).toBe(403);
    expect((await scrape(stack, admin.key)).status).toBe(403);
    expect((await scrape(stack, null)).status).toBe(401);
  });

  it("includes every other process's published metrics, labelled with that process, until it stops", async () => {
    const other = new promClient.Registry();
    const counter = new promClient.Counter({ name: 'jobsvc_callback_deliveries_total', help: 'Callback delivery attempts', labelNames: ['outcome'] as const, registers: [other] });
    counter.inc({ outcome: 'delivered' }, 7);
    const publisher = new MetricsPublisher(redis, stack.prefix, other, { processId: 'worker-host-b:4242' });
    await publisher.publishOnce();
    const r = await scrape(stack, stack.settings.BOOTSTRAP_API_KEY!);
    expect(sample(r.text, 'jobsvc_callback_deliveries_total', { outcome: 'delivered', process: 'worker-host-b:4242' })).toBe(7);
    expect(r.text.match(/^# TYPE jobsvc_callback_deliveries_total /gm)).toHaveLength(1);
    expect(await redis.pttl(`${stack.prefix}:metrics:process:worker-host-b:4242`)).toBeGreaterThan(0);

    await publisher.stop();
    const after = await scrape(stack, stack.settings.BOOTSTRAP_API_KEY!);
    expect(sample(after.text, 'jobsvc_callback_deliveries_total', { process: 'worker-host-b:4242' })).toBeNull();
  });
});

describe('GET /metrics with METRICS_PUBLIC=true', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { METRICS_PUBLIC: 'true' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers without a key', async () => {
    const r = await scrape(stack, null);
    expect(r.status).toBe(200);
    expect(r.text).toContain('jobsvc_queue_jobs');
  });
});

describe('QueueDepths', () => {
  let stack: TestStack;
  let queue: Queue;
  beforeAll(async () => {
    stack = await startStack();
    queue = new Queue('jobs', { connection: { url: REDIS_URL }, prefix: stack.prefix, skipVersionCheck: true });
  });
  afterAll(async () => {
    await queue.close();
    await stack.stop();
  });

  it('reuses a count within its cache window and counts again after it', async () => {
    const depths = new QueueDepths([queue], 400);
    const delayed = async () => (await queueDepth.get()).values.find((v) => v.labels.queue === 'jobs' && v.labels.state === 'delayed')?.value ?? 0;
    await queue.add('noop', {}, { delay: 600000, jobId: 'job-a' });
    await depths.refresh();
    expect(await delayed()).toBe(1);
    await queue.add('noop', {}, { delay: 600000, jobId: 'job-b' });
    await Promise.all([depths.refresh(), depths.refresh()]);
    expect(await delayed()).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    await depths.refresh();
    expect(await delayed()).toBe(2);
  });
});
