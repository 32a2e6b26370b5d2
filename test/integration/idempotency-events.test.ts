import { Client } from 'pg';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  idempotency_key: string | null;
}
interface Event {
  seq: number;
  from: string | null;
  to: string;
  attempt: number;
}

/** Reads a Server-Sent Events response to its end (or `ms`), returning the parsed frames. */
async function readSse(url: string, ms: number, headers: Record<string, string> = {}): Promise<{ frames: { event: string; id: string; data: Event }[]; ended: boolean; contentType: string | null }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  const res = await fetch(url, { headers: { authorization: `Bearer ${OPERATOR_KEY}`, accept: 'text/event-stream', ...headers }, signal: ctl.signal });
  let text = '';
  let ended = false;
  try {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    ended = true;
  } catch {
    // Aborted by the timer: the stream did not end by itself.
  } finally {
    clearTimeout(timer);
  }
  const frames = text
    .split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      return { event: field('event'), id: field('id'), data: JSON.parse(field('data')) as Event };
    });
  return { frames, ended, contentType: res.headers.get('content-type') };
}

describe('idempotency and the event stream', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers a repeated request with the original job, and a changed body with 409', async () => {
    const body = { task: 'sleep', input: { ms: 1 }, metadata: { a: 1, b: 2 }, idempotency_key: 'k-same' };
    const first = await stack.request('POST', '/api/jobs', body);
    expect(first.status).toBe(201);
    // Key order does not matter; defaults applied by validation do not either.
    const again = await stack.request('POST', '/api/jobs', { idempotency_key: 'k-same', metadata: { b: 2, a: 1 }, input: { fail: false, ms: 1 }, task: 'sleep' });
    expect(again.status).toBe(200);
    expect((again.body as Job).id).toBe((first.body as Job).id);
    const changed = await stack.request('POST', '/api/jobs', { ...body, input: { ms: 2 } });
    expect(changed.status).toBe(409);
    expect(changed.headers.get('content-type')).toContain('application/problem+json');
  });

  it('accepts the key as a header, and refuses a header and body that differ', async () => {
    const viaHeader = await stack.request('POST', '/api/jobs', { task: 'noop' }, OPERATOR_KEY, { 'idempotency-key': 'k-header' });
    expect(viaHeader.status).toBe(201);
    expect((viaHeader.body as Job).idempotency_key).toBe('k-header');
    const viaBody = await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'k-header' });
    expect(viaBody.status).toBe(200);
    expect((viaBody.body as Job).id).toBe((viaHeader.body as Job).id);
    const mismatch = await stack.request('POST', '/api/jobs', { task: 'noop', idempotency_key: 'k-body' }, OPERATOR_KEY, { 'idempotency-key': 'k-other' });
    expect(mismatch.status).toBe(400);
    expect((mismatch.body as { errors: { path: string }[] }).errors[0]!.path).toBe('idempotency_key');
  });

  it('creates exactly one job when ten requests with one key race', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => stack.request('POST', '/api/jobs', { task: 'noop', metadata: { race: true } }, OPERATOR_KEY, { 'idempotency-key': 'k-race' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => (r.body as Job).id)).size).toBe(1);
    const pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    try {
      const { rows } = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE idempotency_key = 'k-race'`);
      expect(Number(rows[0]!.n)).toBe(1);
    } finally {
      await pg.end();
    }
  });

  it('streams history, then live events, and ends after the terminal one', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 800 } });
    const id = (created.body as Job).id;
    const { frames, ended, contentType } = await readSse(`${stack.url}/api/jobs/${id}/events`, 20_000);
    expect(contentType).toContain('text/event-stream');
    expect(ended).toBe(true);
    expect(frames.every((f) => f.event === 'status')).toBe(true);
    expect(frames.map((f) => f.data.to)).toEqual(['created', 'pending', 'running', 'completed']);
    expect(frames.map((f) => Number(f.id))).toEqual([1, 2, 3, 4]);
    expect(frames.map((f) => f.data.seq)).toEqual([1, 2, 3, 4]);
  });

  it('replays a finished job and ends at once', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'noop' });
    const id = (created.body as Job).id;
    await waitFor(async () => ((await stack.request('GET', `/api/jobs/${id}`)).body as Job).status === 'completed', 'completed');
    const started = Date.now();
    const { frames, ended } = await readSse(`${stack.url}/api/jobs/${id}/events`, 10_000);
    expect(ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(frames.map((f) => f.data.to)).toEqual(['created', 'pending', 'running', 'completed']);
  });

  it('resumes after Last-Event-ID, and ends at once when the client already saw the end', async () => {
    const created = await stack.request('POST', '/api/jobs', { task: 'noop' });
    const id = (created.body as Job).id;
    await waitFor(async () => ((await stack.request('GET', `/api/jobs/${id}`)).body as Job).status === 'completed', 'completed');
    const resumed = await readSse(`${stack.url}/api/jobs/${id}/events`, 10_000, { 'last-event-id': '2' });
    expect(resumed.ended).toBe(true);
    expect(resumed.frames.map((f) => f.data.seq)).toEqual([3, 4]);
    const started = Date.now();
    const seenAll = await readSse(`${stack.url}/api/jobs/${id}/events`, 10_000, { 'last-event-id': '4' });
    expect(seenAll.ended).toBe(true);
    expect(seenAll.frames).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
