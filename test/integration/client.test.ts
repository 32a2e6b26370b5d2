import { randomBytes } from 'node:crypto';
import { ApiError, createJobsClient, unwrap, verifyWebhook, WebhookVerificationError, type Job, type JobEvent, type WatchEvent } from '../../packages/client/src';
import { createApiProcess } from '../../apps/api/src/api-process';
import { webhookHeaders } from '../../apps/worker/src/callbacks/callback-request';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { startStack, type TestStack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { createTenant, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

describe('@jobs/client against a running API and worker', () => {
  let stack: TestStack;
  let tenant: Tenant;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
    tenant = await createTenant(stack);
  });
  afterAll(async () => {
    await stack.stop();
  });

  const statusesOf = (events: WatchEvent[]) => events.flatMap((e) => (e.event === 'status' ? [e.data] : []));

  it('creates a job and watches it to completed, ending after the terminal event', async () => {
    const client = createJobsClient({ baseUrl: stack.url, apiKey: tenant.memberKey });
    const created = await client.POST('/api/jobs', { body: { task: 'sleep', input: { ms: 300 } } });
    expect(created.response.status).toBe(201);
    const job = unwrap(created) as Job;
    const events: WatchEvent[] = [];
    for await (const e of client.watch(job.id)) events.push(e);
    const statuses = statusesOf(events);
    expect(statuses.map((e) => e.seq)).toEqual(statuses.map((_, i) => i + 1));
    expect(statuses.at(-1)).toMatchObject({ to: 'completed' });
    expect(events.at(-1)).toEqual({ event: 'status', id: statuses.at(-1)!.seq, data: statuses.at(-1) });
    const history = unwrap(await client.GET('/api/jobs/{id}/events', { params: { path: { id: job.id } } })) as JobEvent[];
    expect(statuses).toEqual(history);
  });

  it('resumes with Last-Event-ID after the connection drops mid-stream: no event missed or repeated', async () => {
    const proxy = await TcpProxy.start(stack.url);
    const lastEventIds: (string | null)[] = [];
    const client = createJobsClient({
      baseUrl: proxy.url(stack.url),
      apiKey: tenant.memberKey,
      fetch: (request) => {
        if (request.headers.get('accept') === 'text/event-stream') lastEventIds.push(request.headers.get('last-event-id'));
        return fetch(request);
      },
    });
    try {
      const job = unwrap(await client.POST('/api/jobs', { body: { task: 'sleep', input: { ms: 1500 } } })) as Job;
      const events: WatchEvent[] = [];
      let cutAfter = 0;
      for await (const e of client.watch(job.id, { maxRetryMs: 300 })) {
        events.push(e);
        if (e.event === 'status' && e.data.to === 'running' && !cutAfter) {
          cutAfter = e.id;
          // The connection goes down while the job ends: its last events happen while nobody listens.
          await proxy.pause();
          await waitFor(async () => ((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status === 'completed', 'the job to complete');
          await proxy.resume();
        }
      }
      expect(cutAfter).toBeGreaterThan(0);
      expect(lastEventIds[0]).toBeNull();
      expect(lastEventIds.slice(1)).toContain(String(cutAfter));
      expect(lastEventIds.slice(1).every((id) => id === String(cutAfter))).toBe(true);
      const statuses = statusesOf(events);
      const history = (await stack.request('GET', `/api/jobs/${job.id}/events`, undefined, tenant.memberKey)).body as JobEvent[];
      expect(statuses).toEqual(history);
      expect(statuses.at(-1)).toMatchObject({ to: 'completed' });
      expect(statuses.some((e) => e.seq > cutAfter)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('resumes after the API process restarts, which ends its streams early', async () => {
    const first = createApiProcess(stack.settings);
    const url = await first.listen(0, '127.0.0.1');
    let second: ReturnType<typeof createApiProcess> | undefined;
    const lastEventIds: (string | null)[] = [];
    const client = createJobsClient({
      baseUrl: url,
      apiKey: tenant.memberKey,
      fetch: (request) => {
        if (request.headers.get('accept') === 'text/event-stream') lastEventIds.push(request.headers.get('last-event-id'));
        return fetch(request);
      },
    });
    try {
      const job = unwrap(await client.POST('/api/jobs', { body: { task: 'sleep', input: { ms: 1500 } } })) as Job;
      const events: WatchEvent[] = [];
      let cutAfter = 0;
      for await (const e of client.watch(job.id, { maxRetryMs: 300 })) {
        events.push(e);
        if (e.event === 'status' && e.data.to === 'running' && !cutAfter) {
          cutAfter = e.id;
          await first.stop();
          await waitFor(async () => ((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status === 'completed', 'the job to complete');
          second = createApiProcess(stack.settings);
          await second.listen(Number(new URL(url).port), '127.0.0.1');
        }
      }
      expect(cutAfter).toBeGreaterThan(0);
      expect(lastEventIds.slice(1)).toContain(String(cutAfter));
      const history = (await stack.request('GET', `/api/jobs/${job.id}/events`, undefined, tenant.memberKey)).body as JobEvent[];
      expect(statusesOf(events)).toEqual(history);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('ends a watch of an unknown job with the API error', async () => {
    const client = createJobsClient({ baseUrl: stack.url, apiKey: tenant.memberKey });
    const watch = client.watch('job-00000000-0000-4000-8000-000000000000');
    await expect(watch.next()).rejects.toMatchObject({ status: 404 });
    await expect(createJobsClient({ baseUrl: stack.url, apiKey: 'jsk_wrong' }).watch('job-00000000-0000-4000-8000-000000000000').next()).rejects.toBeInstanceOf(ApiError);
  });

  it('pages through a multi-page list once per job, following Link rel="next"', async () => {
    const own = await createTenant(stack);
    const client = createJobsClient({ baseUrl: stack.url, apiKey: own.memberKey });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((unwrap(await client.POST('/api/jobs', { body: { task: 'noop', metadata: { i } } })) as Job).id);
    const pages: string[][] = [];
    for await (const page of client.pages('/api/jobs', { limit: 3, order: 'asc' })) pages.push(page.map((j) => (j as Job).id));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(ids);

    // A list that fills its last page exactly: the empty page after the last Link is not yielded.
    const exact: string[][] = [];
    for await (const page of client.pages('/api/jobs', { limit: 7, order: 'asc' })) exact.push(page.map((j) => (j as Job).id));
    expect(exact).toEqual([ids]);
  });

  describe('verifyWebhook on a real callback', () => {
    let receiver: CallbackReceiver;
    let delivered: { headers: Record<string, string | string[] | undefined>; body: string; jobId: string };
    beforeAll(async () => {
      receiver = await new CallbackReceiver().start();
      const client = createJobsClient({ baseUrl: stack.url, apiKey: tenant.memberKey });
      const job = unwrap(await client.POST('/api/jobs', { body: { task: 'noop', callback_url: receiver.url('/hook'), metadata: { order: 42 } } })) as Job;
      const got = await waitFor(() => receiver.at('/hook')[0], 'the callback');
      delivered = { headers: got.headers, body: got.body, jobId: job.id };
    });
    afterAll(async () => {
      await receiver.stop();
    });

    it('accepts the callback as sent and returns its payload', () => {
      const payload = verifyWebhook(delivered.headers, delivered.body, tenant.webhookSecret);
      expect(payload).toMatchObject({ type: 'job.completed', job_id: delivered.jobId, status: 'completed', metadata: { order: 42 } });
      // Headers as a fetch Headers object, the body as bytes, and the secret among others (a rotation) work too.
      const asHeaders = new Headers(Object.entries(delivered.headers).map(([k, v]) => [k, String(v)] as [string, string]));
      const other = `whsec_${randomBytes(32).toString('base64')}`;
      expect(verifyWebhook(asHeaders, Buffer.from(delivered.body), [other, tenant.webhookSecret])).toEqual(payload);
    });

    it('rejects a tampered body', () => {
      const tampered = delivered.body.replace('"order":42', '"order":43');
      expect(tampered).not.toBe(delivered.body);
      expect(() => verifyWebhook(delivered.headers, tampered, tenant.webhookSecret)).toThrow(WebhookVerificationError);
    });

    it('rejects a wrong secret', () => {
      expect(() => verifyWebhook(delivered.headers, delivered.body, `whsec_${randomBytes(32).toString('base64')}`)).toThrow(WebhookVerificationError);
    });

    it('rejects an old timestamp, though signed with the right secret', () => {
      const id = String(delivered.headers['webhook-id']);
      const old = webhookHeaders([tenant.webhookSecret], id, new Date(Date.now() - 10 * 60_000), delivered.body);
      expect(() => verifyWebhook(old, delivered.body, tenant.webhookSecret)).toThrow(/timestamp/i);
      expect(verifyWebhook(webhookHeaders([tenant.webhookSecret], id, new Date(), delivered.body), delivered.body, tenant.webhookSecret).job_id).toBe(delivered.jobId);
    });
  });
});
