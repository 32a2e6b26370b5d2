import { CallbackReceiver } from '../fakes/callback-receiver';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
  result: { status: number; body: unknown } | null;
  error: { message: string } | null;
}

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];

/**
 * Issue 10 item 13, on the worker's side: http.request stores the response of a URL the client chose, parsed
 * when it is JSON. A response nested thousands of levels deep must not overflow a stack (JSON.stringify of the
 * result) nor Postgres' jsonb parser (stack depth limit): the job completes, with such a body kept as text.
 */
describe('http.request with a deeply nested JSON response', () => {
  let stack: TestStack;
  let server: CallbackReceiver;

  beforeAll(async () => {
    server = await new CallbackReceiver().start();
    stack = await startStack({ worker: true });
  }, 60_000);
  afterAll(async () => {
    await stack.stop();
    await server.stop();
  });

  it.each([100_000, 10_000])('a response %i levels deep completes, with the body as text', async (depth) => {
    const body = '['.repeat(depth) + ']'.repeat(depth);
    const url = server.url(`/deep-${depth}`, [{ status: 200, headers: { 'content-type': 'application/json' }, body }]);
    const created = await stack.request('POST', '/api/jobs', { task: 'http.request', input: { url }, max_attempts: 2, backoff_ms: 1 });
    expect(created.status).toBe(201);
    const id = (created.body as Job).id;
    const done = await waitFor(async () => {
      const j = (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      return TERMINAL.includes(j.status) ? j : null;
    }, `job of depth ${depth} terminal`, 60_000);
    expect(done).toMatchObject({ status: 'completed', attempts: 1 });
    expect(done.result).toMatchObject({ status: 200, body });
  }, 90_000);

  it('a response within the depth limit is still parsed', async () => {
    const body = JSON.stringify({ a: [[[{ b: 1 }]]] });
    const url = server.url('/shallow', [{ status: 200, headers: { 'content-type': 'application/json' }, body }]);
    const created = await stack.request('POST', '/api/jobs', { task: 'http.request', input: { url } });
    const id = (created.body as Job).id;
    const done = await waitFor(async () => {
      const j = (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      return TERMINAL.includes(j.status) ? j : null;
    }, 'shallow job terminal', 60_000);
    expect(done.result).toMatchObject({ status: 200, body: { a: [[[{ b: 1 }]]] } });
  }, 90_000);
});
