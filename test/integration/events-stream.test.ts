import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { createTenant, expectStatus } from '../support/tenants';

interface StreamEvent {
  event: string;
  id: string;
  data: { seq: number; from: string | null; to: string; attempt: number };
}

/** Reads a whole Server-Sent Events response (it ends after the terminal event) into its events. */
async function readStream(url: string, key = OPERATOR_KEY, timeoutMs = 20_000): Promise<{ status: number; contentType: string | null; events: StreamEvent[] }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
      return { event: fields['event']!, id: fields['id']!, data: JSON.parse(fields['data']!) as StreamEvent['data'] };
    });
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

describe('GET /api/jobs/{id}/events as Server-Sent Events', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('replays the history, then live events, and ends after the terminal one', async () => {
    const job = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 600 } }), 201);
    const { status, contentType, events } = await readStream(`${stack.url}/api/jobs/${job.id}/events`);
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');
    expect(events.map((e) => e.data.to)).toEqual(['created', 'pending', 'running', 'completed']);
    expect(events.map((e) => e.data.seq)).toEqual([1, 2, 3, 4]);
    expect(events.every((e) => e.event === 'status' && e.id === String(e.data.seq))).toBe(true);
    expect(events[0]!.data).toMatchObject({ from: null, to: 'created', attempt: 0 });
  });

  it('for a job that is already terminal, replays its history and ends at once', async () => {
    const job = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'noop', background: false }), 200);
    const started = Date.now();
    const { events } = await readStream(`${stack.url}/api/jobs/${job.id}/events`);
    expect(events.map((e) => e.data.to)).toEqual(['created', 'pending', 'running', 'completed']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends with a cancel of a running job', async () => {
    const job = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 10_000 } }), 201);
    const reading = readStream(`${stack.url}/api/jobs/${job.id}/events`);
    const deadline = Date.now() + 15_000;
    while ((expectStatus<{ status: string }>(await stack.request('GET', `/api/jobs/${job.id}`), 200)).status !== 'running') {
      if (Date.now() > deadline) throw new Error('job never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    expectStatus(await stack.request('PATCH', `/api/jobs/${job.id}/cancel`), 200);
    const { events } = await reading;
    expect(events.map((e) => e.data.to)).toEqual(['created', 'pending', 'running', 'cancelled']);
  });

  it('is a 404 problem for another organization’s job, like the JSON form', async () => {
    const t = await createTenant(stack);
    const job = expectStatus<{ id: string }>(await stack.request('POST', '/api/jobs', { task: 'noop' }), 201);
    const res = await fetch(`${stack.url}/api/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${t.memberKey}`, accept: 'text/event-stream' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    await res.text();
  });
});
