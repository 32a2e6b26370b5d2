import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropic } from '../fakes/anthropic-server';

/** The fake speaks the protocol the SDK expects: these go through @anthropic-ai/sdk only. */
describe('fake Anthropic server through the SDK', () => {
  let fake: FakeAnthropic;
  let client: Anthropic;
  beforeAll(async () => {
    fake = new FakeAnthropic({ cancelDelayMs: 0 });
    client = new Anthropic({ apiKey: 'k', baseURL: await fake.start(), maxRetries: 0 });
  });
  afterAll(() => fake.stop());
  afterEach(() => fake.clearFailures());

  const params = { model: 'claude-test', max_tokens: 50, messages: [{ role: 'user' as const, content: 'good morning' }] };

  it('lists batches newest first, paginated as the SDK expects (limit, after_id, before_id, has_more)', async () => {
    const batchParams = (id: string) => ({ requests: [{ custom_id: id, params }] });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await client.messages.batches.create(batchParams(`list-${i}`))).id);
    const all: string[] = [];
    for await (const b of client.messages.batches.list({ limit: 2 })) all.push(b.id);
    expect(all.slice(0, 5)).toEqual([...made].reverse());
    const first = await client.messages.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([made[4], made[3]]);
    expect(first).toMatchObject({ has_more: true, first_id: made[4], last_id: made[3] });
    const newer = await client.messages.batches.list({ limit: 2, before_id: made[1]! });
    expect(newer.data.map((b) => b.id)).toEqual([made[3], made[2]]);
    await expect(client.messages.batches.list({ limit: 1001 })).rejects.toMatchObject({ status: 400 });
  });

  it('answers messages.create with a Message', async () => {
    const m = await client.messages.create(params);
    expect(m).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-test', stop_reason: 'end_turn', content: [{ type: 'text', text: 'Echo: good morning' }] });
    expect(m.usage.output_tokens).toBe(3);
  });

  it('streams the same message as SSE events the SDK assembles', async () => {
    const stream = client.messages.stream(params);
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const text: string[] = [];
    stream.on('text', (t) => text.push(t));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Echo: good morning', citations: null }]);
    expect(text.join('')).toBe('Echo: good morning');
    expect(final.stop_reason).toBe('end_turn');
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const m = await client.messages.create({ ...params, max_tokens: 2 });
    expect(m.stop_reason).toBe('max_tokens');
    expect(m.content[0]).toMatchObject({ text: 'Echo: good' });
  });

  it('creates, retrieves, cancels and reads results of batches', async () => {
    const created = await client.messages.batches.create({ requests: [{ custom_id: 'a', params }, { custom_id: 'b', params }] });
    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', request_counts: { processing: 2 }, results_url: null });
    expect((await client.messages.batches.retrieve(created.id)).id).toBe(created.id);
    const cancelled = await client.messages.batches.cancel(created.id);
    expect(cancelled.cancel_initiated_at).not.toBeNull();
    const ended = await client.messages.batches.retrieve(created.id);
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { canceled: 2, processing: 0 } });
    const lines = [];
    for await (const line of await client.messages.batches.results(created.id)) lines.push(line);
    expect(lines.map((l) => [l.custom_id, l.result.type]).sort()).toEqual([
      ['a', 'canceled'],
      ['b', 'canceled'],
    ]);
  });

  it('ends a batch with chosen outcomes per request', async () => {
    const b = await client.messages.batches.create({ requests: ['s', 'e', 'x'].map((id) => ({ custom_id: id, params })) });
    fake.endBatch(b.id, { e: 'errored', x: 'expired' });
    const r = await client.messages.batches.retrieve(b.id);
    expect(r.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 1 });
    const byId = new Map<string, string>();
    for await (const line of await client.messages.batches.results(b.id)) byId.set(line.custom_id, line.result.type);
    expect(Object.fromEntries(byId)).toEqual({ s: 'succeeded', e: 'errored', x: 'expired' });
  });

  it('refuses invalid requests the way the API does, and fails on demand', async () => {
    await expect(client.messages.batches.create({ requests: [{ custom_id: 'dup', params }, { custom_id: 'dup', params }] })).rejects.toMatchObject({ status: 400 });
    await expect(client.messages.batches.retrieve('msgbatch_missing')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    fake.fail({ path: '/v1/messages', status: 529, count: 1 });
    await expect(client.messages.create(params)).rejects.toMatchObject({ status: 529 });
    await expect(client.messages.create(params)).resolves.toMatchObject({ type: 'message' });
  });

  it('takes its controls over HTTP too', async () => {
    const b = await client.messages.batches.create({ requests: [{ custom_id: 'h', params }] });
    const end = await fetch(`${fake.url}/_fake/batches/${b.id}/end`, { method: 'POST', body: JSON.stringify({ outcome: 'expired' }) });
    expect(((await end.json()) as { request_counts: { expired: number } }).request_counts.expired).toBe(1);
    await fetch(`${fake.url}/_fake/fail`, { method: 'POST', body: JSON.stringify({ path: b.id, status: 500 }) });
    await expect(client.messages.batches.retrieve(b.id)).rejects.toMatchObject({ status: 500 });
    await fetch(`${fake.url}/_fake/fail`, { method: 'DELETE' });
    await expect(client.messages.batches.retrieve(b.id)).resolves.toMatchObject({ processing_status: 'ended' });
  });
});
