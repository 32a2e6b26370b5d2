import { createJobBodySchema } from '../../packages/core/src';
import { callbackDeliveries } from '../../packages/observability/src/metrics';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}
interface Job {
  id: string;
  status: string;
  attempts: number;
  error: { message: string; code: string } | null;
}

describe('host guard on (CALLBACK_ALLOW_PRIVATE_NETWORKS=false)', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  beforeAll(async () => {
    receiver = await new CallbackReceiver().start();
    stack = await startStack({ worker: true, env: { CALLBACK_ALLOW_PRIVATE_NETWORKS: 'false' } });
  });
  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://2130706433/',
    'http://100.64.0.1/',
    'http://localhost:8080/',
    'http://no-such-host.invalid/hook',
  ])('answers 400 naming callback_url for %s', async (url) => {
    const r = await stack.request('POST', '/api/jobs', { task: 'noop', callback_url: url });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect((r.body as Problem).errors).toEqual([{ path: 'callback_url', message: expect.any(String) }]);
  });

  it('refuses the http.request task a private destination, permanently and without sending', async () => {
    const url = receiver.url('/internal');
    const created = await stack.request('POST', '/api/jobs', { task: 'http.request', input: { url }, max_attempts: 3 });
    expect(created.status).toBe(201);
    const id = (created.body as Job).id;
    const done = await waitFor(async () => {
      const j = (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      return j.status === 'failed' ? j : null;
    }, 'http.request job failed');
    expect(done.attempts).toBe(1);
    expect(done.error?.message).toContain('127.0.0.1 is loopback');
    expect(receiver.at('/internal')).toHaveLength(0);
  });

  it('refuses a callback to a private address at send time: nothing sent, recorded, not retried', async () => {
    // A row stored before the guard was switched on: the create-time check never saw it.
    const worker = stack.worker!;
    const refused = async () => (await callbackDeliveries.get()).values.find((v) => v.labels['outcome'] === 'refused')?.value ?? 0;
    const refusedBefore = await refused();
    const actor = await stack.api.deps.accounts.bootstrap('test-operator-key-0123456789');
    const { wait_ms: _w, ...body } = createJobBodySchema.parse({ task: 'noop', callback_url: receiver.url('/private-cb') });
    const { job } = await worker.jobs.create(actor, body);
    await worker.jobs.transition(job.id, 'running', { from: ['created'] });
    await worker.jobs.transition(job.id, 'completed', { from: ['running'], result: {} });
    const row = await waitFor(async () => {
      const r = await worker.jobs.findById(job.id);
      return r && r.callback_attempts > 0 ? r : null;
    }, 'refused attempt recorded');
    expect(row).toMatchObject({ status: 'completed', callback_status_code: null, callback_attempts: 1 });
    expect(row.callback_error).toContain('127.0.0.1 is loopback');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await worker.jobs.findById(job.id))!.callback_attempts).toBe(1);
    expect(receiver.at('/private-cb')).toHaveLength(0);
    expect(await refused()).toBe(refusedBefore + 1);
  });
});
