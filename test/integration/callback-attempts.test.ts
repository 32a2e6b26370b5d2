import { callbackEndpointFailures } from '../../packages/observability/src';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { closedPort } from '../support/closed-port';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  callback_attempts: number;
}

interface Attempt {
  webhook_id: string;
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
}

interface Problem {
  status: number;
  errors?: { path: string }[];
}

/** The in-process worker's gauge for one host right now (undefined when the host is not tracked). */
const hostFailures = async (host: string) =>
  (await callbackEndpointFailures.get()).values.find((v) => v.labels['host'] === host)?.value;

describe('callback delivery log and bulk redelivery (F6)', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let tenant: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    receiver = await new CallbackReceiver().start();
    stack = await startStack({
      worker: true,
      checkContract: true,
      env: {
        CALLBACK_BACKOFF_MS: '50',
        CALLBACK_TIMEOUT_MS: '500',
        CALLBACK_MAX_ATTEMPTS: '2',
        SWEEP_INTERVAL_MS: '500',
      },
    });
    tenant = await createTenant(stack);
    other = await createTenant(stack);
  });
  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
  });

  const create = async (body: Record<string, unknown>, key = tenant.memberKey): Promise<Job> =>
    expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop', ...body }, key), 201);
  const attemptsOf = async (id: string, key = tenant.memberKey) =>
    expectStatus<Attempt[]>(await stack.request('GET', `/api/jobs/${id}/callback/attempts`, undefined, key), 200);
  const attemptsWhen = (id: string, n: number, key = tenant.memberKey) =>
    waitFor(async () => {
      const list = await attemptsOf(id, key);
      return list.length >= n ? list : null;
    }, `${n} attempt(s) of ${id} logged`);
  const series = async (orgId: string) =>
    await stack.api.deps.db.$queryRawUnsafe<{ webhook_id: string; state: string }[]>(
      `SELECT webhook_id, state FROM callback_deliveries WHERE organization_id = $1`,
      orgId,
    );

  it('lists every attempt oldest first: a 500 then a 200, with codes, errors, durations and excerpts', async () => {
    const path = '/five-hundred-then-ok';
    const job = await create({
      callback_url: receiver.url(path, [{ status: 500, body: 'boom \u0000 went the receiver' }]),
    });
    const [first, second] = await attemptsWhen(job.id, 2);
    const webhookId = receiver.at(path)[0]!.headers['webhook-id'];
    expect(first).toMatchObject({
      webhook_id: webhookId,
      attempt: 1,
      status_code: 500,
      error: expect.stringContaining('HTTP 500: boom'),
      response_excerpt: 'boom  went the receiver',
    });
    expect(second).toMatchObject({
      webhook_id: webhookId,
      attempt: 2,
      status_code: 200,
      error: null,
      response_excerpt: '',
    });
    for (const a of [first!, second!]) {
      expect(Number.isInteger(a.duration_ms) && a.duration_ms >= 0).toBe(true);
      expect(Number.isNaN(Date.parse(a.at))).toBe(false);
    }
    expect(Date.parse(first!.at)).toBeLessThanOrEqual(Date.parse(second!.at));
    // The job row still reports the last attempt, as before.
    expect(
      expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`, undefined, tenant.memberKey), 200)
        .callback_attempts,
    ).toBe(2);
  });

  it('logs an attempt without a response (refused connection, timeout) with status_code null and an error', async () => {
    const refused = await create({ callback_url: `http://127.0.0.1:${await closedPort()}/nobody` });
    const hang = await create({ callback_url: receiver.url('/hang', ['hang']) });
    const [noConnection] = await attemptsWhen(refused.id, 2);
    expect(noConnection).toMatchObject({
      attempt: 1,
      status_code: null,
      error: expect.stringContaining('ECONNREFUSED'),
      response_excerpt: null,
    });
    const [timedOut] = await attemptsWhen(hang.id, 2);
    expect(timedOut).toMatchObject({
      attempt: 1,
      status_code: null,
      error: 'no response within 500 ms',
      response_excerpt: null,
    });
    expect(timedOut!.duration_ms).toBeGreaterThanOrEqual(400);
  });

  it('answers 404 for another organization’s job and 400 for a malformed id', async () => {
    const job = await create({});
    expect(
      (await stack.request('GET', `/api/jobs/${job.id}/callback/attempts`, undefined, other.memberKey)).status,
    ).toBe(404);
    expect(await attemptsOf(job.id)).toEqual([]);
    expect((await stack.request('GET', '/api/jobs/nope/callback/attempts', undefined, tenant.memberKey)).status).toBe(
      400,
    );
  });

  it('redelivers every exhausted series of an organization under the same webhook-id, scoped for admins', async () => {
    // The refused and timed-out series of the test above ended undelivered in this organization before this.
    await waitFor(
      async () => (await series(tenant.orgId)).every((s) => s.state === 'delivered' || s.state === 'failed') || null,
      'earlier series ended',
    );
    await new Promise((r) => setTimeout(r, 20));
    const endedBefore = (await series(tenant.orgId)).filter((s) => s.state === 'failed').map((s) => s.webhook_id);
    const since = new Date().toISOString();
    const paths = ['/exhaust-a', '/exhaust-b'];
    const jobs = [];
    for (const path of paths)
      jobs.push(await create({ callback_url: receiver.url(path, [{ status: 500 }, { status: 502 }]) }));
    const delivered = await create({ callback_url: receiver.url('/fine') });
    for (const job of jobs) await attemptsWhen(job.id, 2);
    await attemptsWhen(delivered.id, 1);
    await waitFor(
      async () => ((await series(tenant.orgId)).filter((s) => s.state === 'failed').length >= 2 ? true : null),
      'both series exhausted',
    );

    // Another organization's admin neither sees nor touches them.
    const foreign = await stack.request(
      'POST',
      '/api/admin/callbacks/redeliver',
      { organization_id: tenant.orgId, since },
      other.adminKey,
    );
    expect(foreign.status).toBe(404);
    expect(
      expectStatus<{ series: number }>(
        await stack.request('POST', '/api/admin/callbacks/redeliver', { since }, other.adminKey),
        202,
      ),
    ).toEqual({ series: 0 });
    expect((await stack.request('POST', '/api/admin/callbacks/redeliver', { since }, tenant.memberKey)).status).toBe(
      403,
    );

    const r = expectStatus<{ series: number }>(
      await stack.request('POST', '/api/admin/callbacks/redeliver', { since }, tenant.adminKey),
      202,
    );
    expect(r).toEqual({ series: 2 });
    for (const [i, path] of paths.entries()) {
      const got = await waitFor(
        () => (receiver.at(path).length >= 3 ? receiver.at(path) : null),
        `redelivery on ${path}`,
      );
      expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
      const list = await attemptsWhen(jobs[i]!.id, 3);
      expect(list.map((a) => [a.attempt, a.status_code])).toEqual([
        [1, 500],
        [2, 502],
        [3, 200],
      ]);
    }
    expect(receiver.at('/fine')).toHaveLength(1);
    const redelivered = new Set(paths.map((p) => receiver.at(p)[0]!.headers['webhook-id']));
    await waitFor(
      async () =>
        (await series(tenant.orgId)).filter((s) => redelivered.has(s.webhook_id) && s.state === 'delivered').length ===
          2 || null,
      'both series delivered',
    );
    // The series that ended before `since` were left alone.
    const stillFailed = (await series(tenant.orgId)).filter((s) => s.state === 'failed').map((s) => s.webhook_id);
    expect(stillFailed.sort()).toEqual(endedBefore.sort());
  });

  it('lets an operator redeliver any organization, or all; a bad body is a 400 naming the field', async () => {
    expect(
      expectStatus<{ series: number }>(
        await stack.request('POST', '/api/admin/callbacks/redeliver', {
          organization_id: other.orgId,
          since: new Date().toISOString(),
        }),
        202,
      ),
    ).toEqual({ series: 0 });
    expect(
      (
        await stack.request('POST', '/api/admin/callbacks/redeliver', {
          since: new Date(Date.now() + 3600_000).toISOString(),
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await stack.request('POST', '/api/admin/callbacks/redeliver', {
          organization_id: 'org-00000000-0000-4000-8000-000000000000',
          since: new Date().toISOString(),
        })
      ).status,
    ).toBe(404);
    const cases: [unknown, string][] = [
      [{}, 'since'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: 12 }, 'since'],
      [{ since: new Date().toISOString(), organization_id: 'nope' }, 'organization_id'],
      [{ since: new Date().toISOString(), extra: 1 }, ''],
    ];
    for (const [body, field] of cases) {
      const r = await stack.request('POST', '/api/admin/callbacks/redeliver', body);
      expect(r.status).toBe(400);
      if (field) expect((r.body as Problem).errors?.map((e) => e.path)).toContain(field);
    }
  });

  it('exports consecutive failures per host and resets them on a delivery', async () => {
    const flaky = await new CallbackReceiver().start();
    try {
      // Retry-After holds the streak at one failure long enough to be seen.
      const url = flaky.url('/flaky', [{ status: 503, headers: { 'retry-after': '2' } }]);
      const host = new URL(url).host;
      await create({ callback_url: url });
      await waitFor(async () => ((await hostFailures(host)) === 1 ? true : null), 'one failure on the host');
      await waitFor(() => (flaky.at('/flaky').length >= 2 ? true : null), 'the retry');
      await waitFor(async () => ((await hostFailures(host)) === 0 ? true : null), 'reset after delivery');
      const text = await (
        await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_KEY}` } })
      ).text();
      expect(text).toContain('jobsvc_callback_endpoint_consecutive_failures');
    } finally {
      await flaky.stop();
    }
  });
});
