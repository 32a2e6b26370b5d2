import { CallbackReceiver } from '../fakes/callback-receiver';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { REDIS_URL } from '../support/env';
import { startWorker, type ServiceProcess } from '../support/processes';
import { OPERATOR_KEY as OPERATOR, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus, type Tenant } from '../support/tenants';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  job_type: string;
  task: string;
  status: string;
  stop_reason: string | null;
  attempts: number;
  result: { role?: string; content?: { type: string; text?: string; name?: string }[]; stop_reason?: string } | null;
  error: { message: string; code: string } | null;
  progress: { percent: number; message: string | null } | null;
  ttft_ns: number | null;
  total_duration_ns: number | null;
}
interface Step {
  id: string;
  run_id: string;
  provider: string;
  model: string;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
  ttft_ns: number;
  duration_ns: number;
}
interface Message {
  id: string;
  run_id: string;
  step_id: string;
  role: string;
  content: { type: string; text?: string }[];
}

const MODEL = 'claude-test-1';
const params = (text: string, extra: Record<string, unknown> = {}) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra });

/** Issue 12: `anthropic.message` runs streamed through the SDK by real worker processes, against the fake. */
describe('runs: anthropic.message through real worker processes', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let worker: ServiceProcess;
  let other: Tenant;

  const createRun = async (input: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'anthropic.message', input, ...extra }), 201);
  const getJob = async (id: string) => expectStatus<Job>(await stack.request('GET', `/api/runs/${id}`), 200);
  const terminal = (id: string, timeoutMs = 60_000) =>
    waitFor(async () => {
      const j = await getJob(id);
      return ['completed', 'failed', 'cancelled', 'expired'].includes(j.status) ? j : null;
    }, `run ${id} to end`, timeoutMs, 50);

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack();
    worker = await startWorker({
      DATABASE_URL: stack.database.url,
      REDIS_URL,
      QUEUE_PREFIX: stack.prefix,
      DB_POOL_SIZE: '5',
      LOG_LEVEL: 'info',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'test-key',
      LOCK_DURATION_MS: '5000',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    other = await createTenant(stack);
  });
  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
    await fake?.stop();
  });
  afterEach(() => {
    fake.clearFailures();
    fake.streaming({ startDelayMs: 0, firstDeltaDelayMs: 0, deltaDelayMs: 0 });
  });

  it('completes with its step and messages; ttft within the fake delay; duration >= ttft', async () => {
    const FIRST_DELTA_MS = 400;
    fake.streaming({ firstDeltaDelayMs: FIRST_DELTA_MS, deltaDelayMs: 20 });
    const created = await createRun(params('hello there streaming world'), { metadata: { purpose: 'ttft' } });
    expect(created.job_type).toBe('run');
    expect(created.task).toBe('anthropic.message');
    const job = await terminal(created.id);
    expect(job.status).toBe('completed');
    expect(job.stop_reason).toBe('end_turn');
    expect(job.attempts).toBe(1);
    expect(job.result?.role).toBe('assistant');
    expect(job.result?.content?.[0]?.text).toBe('Echo: hello there streaming world');
    expect(job.progress?.message).toMatch(/output tokens/);
    // TTFT: at least the fake's delay before the first delta; the upper bound is generous (shared CI machine).
    expect(job.ttft_ns).toBeGreaterThanOrEqual(FIRST_DELTA_MS * 1e6);
    expect(job.ttft_ns).toBeLessThan((FIRST_DELTA_MS + 3000) * 1e6);
    expect(job.total_duration_ns).toBeGreaterThanOrEqual(job.ttft_ns!);
    console.log(`measured ttft ${(job.ttft_ns! / 1e6).toFixed(1)} ms (fake delay ${FIRST_DELTA_MS} ms), total ${(job.total_duration_ns! / 1e6).toFixed(1)} ms`);

    const steps = expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200);
    expect(steps).toHaveLength(1);
    const step = steps[0]!;
    expect(step).toMatchObject({ run_id: job.id, provider: 'anthropic', model: MODEL, stop_reason: 'end_turn', ttft_ns: job.ttft_ns, duration_ns: job.total_duration_ns });
    expect(step.id).toMatch(/^step-/);
    expect(step.usage.output_tokens).toBe(5);
    expect(step.usage.input_tokens).toBeGreaterThan(0);

    const messages = expectStatus<Message[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[0]!.content).toEqual([{ type: 'text', text: 'hello there streaming world' }]);
    expect(messages[1]!.content[0]!.text).toBe('Echo: hello there streaming world');
    expect(messages.every((m) => m.step_id === step.id && m.run_id === job.id && /^message-/.test(m.id))).toBe(true);
    expect(expectStatus<Message[]>(await stack.request('GET', `/api/steps/${step.id}/messages`), 200)).toEqual(messages);
    // A run is a Job: the jobs routes see it, the runs list lists it.
    expect(expectStatus<Job>(await stack.request('GET', `/api/jobs/${job.id}`), 200).id).toBe(job.id);
    const runs = expectStatus<Job[]>(await stack.request('GET', '/api/runs'), 200);
    expect(runs.map((r) => r.id)).toContain(job.id);
  });

  it('maps every stop reason (all completed)', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['end_turn', params('plain'), 'end_turn'],
      ['max_tokens', params('one two three four five six', { max_tokens: 3 }), 'max_tokens_exceeded'],
      ['stop_sequence', params('before STOP after', { stop_sequences: ['STOP'] }), 'stop_sequence'],
      [
        'tool_use',
        params('weather please', { tools: [{ name: 'get_weather', description: 'weather', input_schema: { type: 'object', properties: {} } }], tool_choice: { type: 'tool', name: 'get_weather' } }),
        'tool_use',
      ],
      ['pause_turn', params('long work [[stop:pause_turn]]'), 'pause_turn'],
      ['refusal', params('bad ask [[stop:refusal]]'), 'refusal'],
    ];
    const created = await Promise.all(cases.map(([, input]) => createRun(input)));
    const done = await Promise.all(created.map((c) => terminal(c.id)));
    for (const [i, [provider, , expected]] of cases.entries()) {
      const job = done[i]!;
      expect({ provider, status: job.status, stop_reason: job.stop_reason }).toEqual({ provider, status: 'completed', stop_reason: expected });
      expect(job.result?.stop_reason).toBe(provider);
      const steps = expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200);
      expect(steps.map((s) => s.stop_reason)).toEqual([expected]);
    }
    const toolRun = done[3]!;
    expect(toolRun.result?.content?.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(toolRun.result?.content?.[1]?.name).toBe('get_weather');
  });

  it('529 overloaded, then success: completed with attempts 2, after the provider retry-after', async () => {
    fake.fail({ path: '/v1/messages', status: 529, count: 1, retryAfterSeconds: 1 });
    const created = await createRun(params('overloaded once'), { max_attempts: 3, backoff_ms: 10 });
    const job = await terminal(created.id);
    expect(job.status).toBe('completed');
    expect(job.attempts).toBe(2);
    expect(fake.streamsStarted.length).toBeGreaterThan(0);
    const events = expectStatus<{ to: string; reason: string | null }[]>(await stack.request('GET', `/api/jobs/${job.id}/events`), 200);
    const retry = events.find((e) => e.to === 'pending' && e.reason?.startsWith('retry in'));
    expect(retry?.reason).toMatch(/overloaded_error/);
    // The job's own backoff is 10 ms; the wait honoured the provider's retry-after of 1 s.
    expect(Number(/retry in (\d+) ms/.exec(retry!.reason!)![1])).toBeGreaterThanOrEqual(1000);
  });

  it('400 fails at once with llm_api_error and the provider error', async () => {
    fake.fail({ path: '/v1/messages', status: 400, count: 1 });
    const created = await createRun(params('refused'), { max_attempts: 3, backoff_ms: 10 });
    const job = await terminal(created.id);
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(job.stop_reason).toBe('llm_api_error');
    expect(job.error).toEqual({ code: 'invalid_request_error', message: expect.stringContaining('Injected failure') as string });
    expect(expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200)).toEqual([]);
    expect(expectStatus<Message[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200)).toEqual([]);
  });

  it('429 with no attempts left fails llm_api_error rate_limit_error', async () => {
    fake.fail({ path: '/v1/messages', status: 429, count: 1 });
    const job = await terminal((await createRun(params('limited'))).id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, stop_reason: 'llm_api_error', error: { code: 'rate_limit_error' } });
  });

  it('a connection reset, then success: completed with attempts 2', async () => {
    fake.fail({ path: '/v1/messages', status: 0, count: 1 });
    const job = await terminal((await createRun(params('reset once'), { max_attempts: 2, backoff_ms: 10 })).id);
    expect(job).toMatchObject({ status: 'completed', attempts: 2 });
    const events = expectStatus<{ to: string; reason: string | null }[]>(await stack.request('GET', `/api/jobs/${job.id}/events`), 200);
    expect(events.find((e) => e.to === 'pending' && e.reason?.startsWith('retry in'))?.reason).toMatch(/api_connection_error/);
  });

  it('overloaded inside the stream (after the 200): retried, and no step from the broken attempt', async () => {
    fake.fail({ path: '/v1/messages', status: 529, count: 1, midStream: true });
    const job = await terminal((await createRun(params('broken stream'), { max_attempts: 2, backoff_ms: 10 })).id);
    expect(job).toMatchObject({ status: 'completed', attempts: 2 });
    expect(expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200)).toHaveLength(1);
    const events = expectStatus<{ to: string; reason: string | null }[]>(await stack.request('GET', `/api/jobs/${job.id}/events`), 200);
    expect(events.find((e) => e.to === 'pending' && e.reason?.startsWith('retry in'))?.reason).toMatch(/overloaded_error: Injected failure mid-stream/);
  });

  it('overloaded inside the stream with no attempts left: failed llm_api_error overloaded_error', async () => {
    fake.fail({ path: '/v1/messages', status: 529, count: 1, midStream: true });
    const job = await terminal((await createRun(params('broken stream'))).id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, stop_reason: 'llm_api_error', error: { code: 'overloaded_error' } });
    expect(expectStatus<Message[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200)).toEqual([]);
  });

  it('cancel mid-stream closes the HTTP stream; cancelled, no step, no messages', async () => {
    fake.streaming({ firstDeltaDelayMs: 0, deltaDelayMs: 200 });
    const closedBefore = fake.closedStreams.length;
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const created = await createRun(params(words, { max_tokens: 100 }));
    await waitFor(async () => (await getJob(created.id)).ttft_ns !== null, 'the first token', 30_000);
    const cancelled = expectStatus<Job>(await stack.request('PATCH', `/api/jobs/${created.id}/cancel`), 200);
    expect(cancelled.status).toBe('cancelled');
    const closed = await waitFor(() => fake.closedStreams.length > closedBefore && fake.closedStreams[fake.closedStreams.length - 1], 'the fake to see the stream closed', 15_000);
    expect(closed.deltasSent).toBeLessThan(61);
    // Long enough for the stream to have ended had it not been closed's late writes to land: none may.
    await new Promise((r) => setTimeout(r, 1500));
    const job = await getJob(created.id);
    expect(job).toMatchObject({ status: 'cancelled', stop_reason: 'cancelled', result: null });
    expect(expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200)).toEqual([]);
    expect(expectStatus<Message[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200)).toEqual([]);
  });

  describe('messages paginate (20 messages, pages of 7)', () => {
    let runId: string;
    let all: Message[];
    beforeAll(async () => {
      const messages = Array.from({ length: 19 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` }));
      const job = await terminal((await createRun({ model: MODEL, max_tokens: 16, messages })).id);
      expect(job.status).toBe('completed');
      runId = job.id;
      all = expectStatus<Message[]>(await stack.request('GET', `/api/runs/${runId}/messages?limit=100`), 200);
      expect(all).toHaveLength(20);
      expect(all.slice(0, 19).map((m) => m.content[0]!.text)).toEqual(messages.map((m) => m.content));
      expect(all[19]!.role).toBe('assistant');
    });

    const walk = async (order: 'asc' | 'desc') => {
      const pages: Message[][] = [];
      let path: string | null = `/api/runs/${runId}/messages?limit=7&order=${order}`;
      while (path) {
        const r = await stack.request('GET', path);
        const page = expectStatus<Message[]>(r, 200);
        pages.push(page);
        const link = r.headers.get('link');
        path = link ? /<([^>]+)>; rel="next"/.exec(link)![1]! : null;
        if (pages.length > 10) throw new Error('pagination does not end');
      }
      return pages;
    };

    it('asc: 7 + 7 + 6 in conversation order, Link on full pages only', async () => {
      const pages = await walk('asc');
      expect(pages.map((p) => p.length)).toEqual([7, 7, 6]);
      expect(pages.flat().map((m) => m.id)).toEqual(all.map((m) => m.id));
    });

    it('desc: the same in reverse', async () => {
      const pages = await walk('desc');
      expect(pages.map((p) => p.length)).toEqual([7, 7, 6]);
      expect(pages.flat().map((m) => m.id)).toEqual(all.map((m) => m.id).reverse());
    });

    it('before, after+before, unknown cursor', async () => {
      const before = expectStatus<Message[]>(await stack.request('GET', `/api/runs/${runId}/messages?limit=7&before=${all[10]!.id}`), 200);
      expect(before.map((m) => m.id)).toEqual(all.slice(3, 10).map((m) => m.id));
      const between = expectStatus<Message[]>(await stack.request('GET', `/api/runs/${runId}/messages?after=${all[2]!.id}&before=${all[6]!.id}`), 200);
      expect(between.map((m) => m.id)).toEqual(all.slice(3, 6).map((m) => m.id));
      const step = expectStatus<Step[]>(await stack.request('GET', `/api/runs/${runId}/steps`), 200)[0]!;
      const stepPage = expectStatus<Message[]>(await stack.request('GET', `/api/steps/${step.id}/messages?limit=7&order=desc`), 200);
      expect(stepPage.map((m) => m.id)).toEqual(all.slice(13).reverse().map((m) => m.id));
      const unknown = await stack.request('GET', `/api/runs/${runId}/messages?after=message-00000000-0000-4000-8000-000000000000`);
      expect(unknown.status).toBe(400);
      expect(await stack.request('GET', `/api/runs/${runId}/messages?after=job-x`)).toMatchObject({ status: 400 });
      expect(await stack.request('GET', `/api/runs/${runId}/messages?limit=0`)).toMatchObject({ status: 400 });
    });

    it("another organization's run and step: 404 on every route; ids of the wrong shape: 400", async () => {
      const step = expectStatus<Step[]>(await stack.request('GET', `/api/runs/${runId}/steps`), 200)[0]!;
      for (const path of [`/api/runs/${runId}`, `/api/runs/${runId}/messages`, `/api/runs/${runId}/steps`, `/api/steps/${step.id}/messages`, `/api/jobs/${runId}`]) {
        for (const key of [other.memberKey, other.adminKey]) {
          const r = await stack.request('GET', path, undefined, key);
          expect({ path, status: r.status }).toEqual({ path, status: 404 });
        }
      }
      expect((await stack.request('PATCH', `/api/jobs/${runId}/cancel`, undefined, other.memberKey)).status).toBe(404);
      expect((await stack.request('GET', '/api/runs', undefined, other.memberKey)).body).toEqual([]);
      for (const path of ['/api/runs/nope/messages', '/api/runs/nope/steps', `/api/runs/${step.id}/messages`, '/api/steps/nope/messages', `/api/steps/${runId}/messages`]) {
        expect({ path, status: (await stack.request('GET', path)).status }).toEqual({ path, status: 400 });
      }
      // A job that is not a run has no messages here.
      const plain = expectStatus<Job>(await stack.request('POST', '/api/jobs', { task: 'noop' }), 201);
      expect((await stack.request('GET', `/api/runs/${plain.id}/messages`)).status).toBe(404);
      expect((await stack.request('GET', '/api/steps/step-00000000-0000-4000-8000-000000000000/messages')).status).toBe(404);
    });
  });

  describe('a run is a Job: the existing machinery works on it', () => {
    it('the default event stream is status frames only (each with an id), even for a run that reports progress', async () => {
      fake.streaming({ firstDeltaDelayMs: 0, deltaDelayMs: 60 });
      const words = Array.from({ length: 25 }, (_, i) => `word${i}`).join(' ');
      const created = await createRun(params(words, { max_tokens: 200 }));
      const res = await fetch(`${stack.url}/api/jobs/${created.id}/events`, { headers: { authorization: `Bearer ${OPERATOR}`, accept: 'text/event-stream' } });
      const text = await res.text(); // the stream ends after the terminal event
      expect((await getJob(created.id)).progress).toEqual({ percent: 13, message: '26 of 200 output tokens' });
      // API.md's frames: `event: status`, `id: <seq>`, `data: <event JSON>`; keep-alive comments aside, nothing else.
      const frames = text.split('\n\n').filter((f) => f.trim() && !f.startsWith(':'));
      expect(frames.length).toBeGreaterThan(1);
      for (const f of frames) expect(f).toMatch(/^event: status\nid: \d+\ndata: \{.*\}$/);
      const seqs = frames.map((f) => Number(/^id: (\d+)$/m.exec(f)![1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(text).not.toMatch(/progress/);
      expect(frames[frames.length - 1]).toMatch(/"to":"completed"/);
    });

    it('progress reports reach the event stream with ?progress=true (SSE event: progress) and the Job', async () => {
      fake.streaming({ firstDeltaDelayMs: 0, deltaDelayMs: 60 });
      const words = Array.from({ length: 25 }, (_, i) => `word${i}`).join(' ');
      const created = await createRun(params(words, { max_tokens: 200 }));
      const res = await fetch(`${stack.url}/api/jobs/${created.id}/events?progress=true`, { headers: { authorization: `Bearer ${OPERATOR}`, accept: 'text/event-stream' } });
      const text = await res.text(); // the stream ends after the terminal event
      const progress = [...text.matchAll(/event: progress\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { percent: number; message: string; at: string });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]!.message).toMatch(/^\d+ of 200 output tokens$/);
      // At most one report per 250 ms while streaming (the stream lasts ~1.5 s: a handful, never one per delta),
      // then the final count once, when it was held back.
      expect(progress.length).toBeLessThan(12);
      const at = progress.slice(0, -1).map((p) => Date.parse(p.at));
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(200);
      expect(progress[progress.length - 1]!.message).toBe('26 of 200 output tokens');
      expect((await getJob(created.id)).progress).toEqual({ percent: 13, message: '26 of 200 output tokens' });
      expect(text).toMatch(/"to":"completed"/);
      expect((await stack.request('GET', `/api/jobs/${created.id}/events?progress=yes`)).status).toBe(400);
    });

    it("the SDK's documented create params reach the provider; stream and unknown fields are 400s", async () => {
      const extra = { thinking: { type: 'enabled', budget_tokens: 1024 }, service_tier: 'auto', output_config: { effort: 'low' }, max_tokens: 2048 };
      const created = await createRun(params('think first', extra));
      expect(await terminal(created.id)).toMatchObject({ status: 'completed' });
      const sent = fake.messageBodies.find((b) => JSON.stringify(b.messages).includes('think first'));
      expect(sent).toMatchObject({ ...extra, stream: true });
      for (const [field, value] of [['stream', true], ['thinking', { type: 'enabled', budget_tokens: 10 }], ['workspace_id', 'wrkspc_1'], ['colour', 'red']] as const) {
        const r = await stack.request('POST', '/api/jobs', { task: 'anthropic.message', input: params('no', { [field]: value }) });
        expect({ field, status: r.status, names: JSON.stringify(r.body).includes(field) }).toEqual({ field, status: 400, names: true });
      }
    });

    it('a failed run retried by the client completes with its step; deleting it takes steps and messages along', async () => {
      fake.fail({ path: '/v1/messages', status: 400, count: 1 });
      const failed = await terminal((await createRun(params('second time lucky'))).id);
      expect(failed).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error' });
      expectStatus<Job>(await stack.request('POST', `/api/jobs/${failed.id}/retry`), 200);
      const done = await terminal(failed.id);
      expect(done).toMatchObject({ status: 'completed', attempts: 2, stop_reason: 'end_turn', error: null });
      const steps = expectStatus<Step[]>(await stack.request('GET', `/api/runs/${done.id}/steps`), 200);
      expect(steps).toHaveLength(1);
      expectStatus<Job>(await stack.request('DELETE', `/api/jobs/${done.id}`), 200);
      expect((await stack.request('GET', `/api/runs/${done.id}/messages`)).status).toBe(404);
      expect((await stack.request('GET', `/api/steps/${steps[0]!.id}/messages`)).status).toBe(404);
      const left = await stack.api.deps.db.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM messages WHERE job_id = $1', done.id);
      expect(Number(left[0]!.n)).toBe(0);
    });

    it('timeout_ms mid-stream: expired (timeout), the stream closed, no step', async () => {
      fake.streaming({ firstDeltaDelayMs: 0, deltaDelayMs: 150 });
      const closedBefore = fake.closedStreams.length;
      const words = Array.from({ length: 40 }, (_, i) => `t${i}`).join(' ');
      const job = await terminal((await createRun(params(words, { max_tokens: 100 }), { timeout_ms: 800 })).id);
      expect(job).toMatchObject({ status: 'expired', stop_reason: 'timeout' });
      await waitFor(() => fake.closedStreams.length > closedBefore, 'the fake to see the stream closed', 15_000);
      expect(expectStatus<Step[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200)).toEqual([]);
    });

    it('callbacks fire for runs; priority, metadata and list truncation apply', async () => {
      const receiver = await new CallbackReceiver().start();
      try {
        const long = 'x'.repeat(17 * 1024);
        const created = await createRun(params(long, { max_tokens: 5 }), { callback_url: receiver.url("/run-done"), priority: 5, metadata: { team: 'a' } });
        const job = await terminal(created.id);
        expect(job.status).toBe('completed');
        const cb = await waitFor(() => receiver.received.find((r) => r.path === '/run-done'), 'the callback', 30_000);
        expect(JSON.parse(cb.body)).toMatchObject({ type: 'job.completed', job_id: job.id, status: 'completed', stop_reason: 'end_turn', metadata: { team: 'a' } });
        // The input (17 KiB of text) is listed as truncated, returned whole by id.
        const listed = expectStatus<(Job & { input: unknown; priority: number })[]>(await stack.request('GET', '/api/runs?limit=1000'), 200).find((j) => j.id === job.id)!;
        expect(listed.input).toEqual({ truncated: true, bytes: expect.any(Number) as number });
        expect(listed.priority).toBe(5);
        const whole = expectStatus<{ input: { messages: { content: string }[] } }>(await stack.request('GET', `/api/runs/${job.id}`), 200);
        expect(whole.input.messages[0]!.content).toBe(long);
      } finally {
        await receiver.stop();
      }
    });
  });

  it('the OpenAPI document has the run routes and the run input schema', async () => {
    const doc = expectStatus<{ paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }>(
      await stack.request('GET', '/api/openapi.json', undefined, null),
      200,
    );
    for (const path of ['/api/runs', '/api/runs/{id}', '/api/runs/{id}/messages', '/api/runs/{id}/steps', '/api/steps/{step_id}/messages']) expect(doc.paths[path]).toBeDefined();
    expect(Object.keys(doc.components.schemas['AnthropicMessageInput']!.properties!)).toEqual(expect.arrayContaining(['model', 'max_tokens', 'messages', 'tools', 'tool_choice']));
  });

  it('input is validated strictly, naming the field', async () => {
    const bad = async (input: Record<string, unknown>) => {
      const r = await stack.request('POST', '/api/jobs', { task: 'anthropic.message', input });
      expect(r.status).toBe(400);
      return (r.body as { errors: { path: string }[] }).errors.map((e) => e.path);
    };
    expect(await bad({ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).toContain('input.model');
    expect(await bad({ ...params('x'), max_tokens: 0 })).toContain('input.max_tokens');
    expect(await bad({ ...params('x'), temperature: 2 })).toContain('input.temperature');
    expect(await bad({ ...params('x'), stream: true })).toContain('input.stream');
    expect(await bad({ model: MODEL, max_tokens: 5, messages: [{ role: 'system', content: 'x' }] })).toContain('input.messages.0.role');
    expect(await bad({ ...params('x'), tool_choice: { type: 'tool' } })).toContain('input.tool_choice.name');
    expect(await bad({ ...params('x'), metadata: { user_id: 'u', other: 1 } })).toContain('input.metadata.other');
  });
});
