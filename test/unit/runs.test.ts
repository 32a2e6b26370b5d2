import Anthropic from '@anthropic-ai/sdk';
import { TaskError } from '../../packages/core/src';
import { anthropicMessageParamsSchema, llmApiError, retryAfter, runStopReason } from '../../packages/tasks/src';
import { StreamProgress } from '../../packages/tasks/src/llm/stream-progress';
import { contentText } from '../../apps/cli/src/commands/runs';

describe('runStopReason', () => {
  it.each([
    ['end_turn', 'end_turn'],
    ['max_tokens', 'max_tokens_exceeded'],
    ['stop_sequence', 'stop_sequence'],
    ['tool_use', 'tool_use'],
    ['pause_turn', 'pause_turn'],
    ['refusal', 'refusal'],
  ])('%s -> %s', (provider, ours) => expect(runStopReason(provider)).toBe(ours));
});

describe('llmApiError', () => {
  const apiError = (status: number, type: string, headers: Record<string, string> = {}) =>
    Anthropic.APIError.generate(status, { type: 'error', error: { type, message: `${type} happened` } }, undefined, new Headers(headers));

  it.each([400, 401, 403, 404, 413])('%i is permanent', (status) => {
    const e = llmApiError(apiError(status, 'invalid_request_error')) as TaskError;
    expect(e).toBeInstanceOf(TaskError);
    expect(e).toMatchObject({ permanent: true, stopReason: 'llm_api_error', code: 'invalid_request_error' });
    expect(e.message).toBe(`${status} invalid_request_error: invalid_request_error happened`);
  });

  it.each([408, 429, 500, 502, 503, 529])('%i is retried', (status) => {
    expect(llmApiError(apiError(status, 'overloaded_error'))).toMatchObject({ permanent: false, stopReason: 'llm_api_error' });
  });

  it('carries retry-after (seconds, ms, HTTP date)', () => {
    expect((llmApiError(apiError(429, 'rate_limit_error', { 'retry-after': '3' })) as TaskError).retryAfterMs).toBe(3000);
    expect((llmApiError(apiError(529, 'overloaded_error', { 'retry-after-ms': '250' })) as TaskError).retryAfterMs).toBe(250);
    const now = Date.parse('2026-12-07T00:00:00Z');
    expect(retryAfter(new Headers({ 'retry-after': 'Mon, 07 Dec 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfter(new Headers(), now)).toBeUndefined();
  });

  it('connection errors are retried; our own abort and other errors pass through', () => {
    expect(llmApiError(new Anthropic.APIConnectionError({ message: 'socket hang up' }))).toMatchObject({ permanent: false, code: 'api_connection_error' });
    const abort = new Anthropic.APIUserAbortError();
    expect(llmApiError(abort)).toBe(abort);
    const bug = new TypeError('x');
    expect(llmApiError(bug)).toBe(bug);
  });
});

describe('StreamProgress', () => {
  it('reports at most once per interval, in order, with the provider count replacing the estimate', async () => {
    let t = 0;
    const reports: [number, string][] = [];
    const p = new StreamProgress(100, async (percent, message) => void reports.push([percent, message]), () => undefined, 250, () => t);
    p.delta('abcdefgh'); // 2 tokens estimated, first report at once
    t = 100;
    p.delta('abcdefgh'); // too soon
    t = 260;
    p.delta('abcd'); // 5 tokens
    t = 300;
    p.delta('', 40); // too soon, even with the exact count
    t = 600;
    p.delta('', 40);
    t = 650;
    p.delta('', 42); // held back by the interval...
    await p.settle(); // ...and sent as the final count
    p.delta('more'); // after settle: nothing
    await p.settle();
    expect(reports).toEqual([
      [2, '2 of 100 output tokens'],
      [5, '5 of 100 output tokens'],
      [40, '40 of 100 output tokens'],
      [42, '42 of 100 output tokens'],
    ]);
  });

  it('settle sends nothing when the last count was reported', async () => {
    const reports: number[] = [];
    const p = new StreamProgress(10, async (percent) => void reports.push(percent), () => undefined, 250, () => 0);
    p.delta('abcd');
    await p.settle();
    expect(reports).toEqual([10]);
  });
});

describe('anthropicMessageParamsSchema', () => {
  const ok = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
  it('accepts the documented params and content blocks', () => {
    expect(
      anthropicMessageParamsSchema.safeParse({
        ...ok,
        system: [{ type: 'text', text: 's' }],
        temperature: 0.5,
        top_p: 0.9,
        stop_sequences: ['X'],
        tools: [{ name: 't', input_schema: { type: 'object' } }],
        tool_choice: { type: 'auto' },
        metadata: { user_id: 'u' },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] }],
      }).success,
    ).toBe(true);
  });
  it("accepts the SDK's other documented create params (body params of MessageCreateParams)", () => {
    const full = {
      ...ok,
      thinking: { type: 'enabled', budget_tokens: 2048, display: 'summarized' },
      service_tier: 'auto',
      cache_control: { type: 'ephemeral', ttl: '1h' },
      container: { id: 'container_1', skills: [{ type: 'anthropic', skill_id: 'pdf', version: 'latest' }] },
      diagnostics: { previous_message_id: 'msg_1' },
      inference_geo: 'us',
      output_config: { effort: 'high', format: { type: 'json_schema', schema: { type: 'object' } } },
      speed: 'fast',
    };
    expect(anthropicMessageParamsSchema.safeParse(full).error?.issues ?? []).toEqual([]);
    for (const thinking of [{ type: 'adaptive' }, { type: 'disabled' }, { type: 'between_tools' }]) {
      expect(anthropicMessageParamsSchema.safeParse({ ...ok, thinking }).success).toBe(true);
    }
    expect(anthropicMessageParamsSchema.safeParse({ ...ok, container: 'container_1', service_tier: 'standard_only', speed: null }).success).toBe(true);
  });
  it('is strict inside the new params too', () => {
    const paths = (v: unknown) => (anthropicMessageParamsSchema.safeParse(v).error?.issues ?? []).map((i) => i.path.join('.') || (i as { keys?: string[] }).keys?.join(','));
    expect(paths({ ...ok, thinking: { type: 'enabled', budget_tokens: 100 } })).toEqual(['thinking.budget_tokens']);
    expect(paths({ ...ok, thinking: { type: 'sometimes' } })).toEqual(['thinking.type']);
    expect(paths({ ...ok, service_tier: 'priority' })).toEqual(['service_tier']);
    expect(paths({ ...ok, output_config: { effort: 'high', colour: 'red' } })).toEqual(['output_config']);
    expect(paths({ ...ok, cache_control: { type: 'persistent' } })).toEqual(['cache_control.type']);
    expect(paths({ ...ok, stream: false })).toEqual(['stream']);
  });
  it('refuses unknown fields, empty messages and out-of-range numbers', () => {
    const paths = (v: unknown) => (anthropicMessageParamsSchema.safeParse(v).error?.issues ?? []).map((i) => i.path.join('.') || (i as { keys?: string[] }).keys?.join(','));
    expect(paths({ ...ok, stream: true })).toEqual(['stream']);
    expect(paths({ ...ok, messages: [] })).toEqual(['messages']);
    expect(paths({ ...ok, top_p: 1.5 })).toEqual(['top_p']);
    expect(paths({ ...ok, messages: [{ role: 'user', content: '' }] })).toEqual(['messages.0.content']);
  });
});

describe('contentText (CLI)', () => {
  it('joins text blocks and names others', () => {
    expect(contentText([{ type: 'text', text: 'a' }, { type: 'tool_use', name: 'w' }, { type: 'image' }])).toBe('a [tool_use w] [image]');
    expect(contentText('plain')).toBe('plain');
  });
});
