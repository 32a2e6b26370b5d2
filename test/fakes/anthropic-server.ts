import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';

/**
 * A local stand-in for the parts of Anthropic's API this service uses, with the field names of the SDK's
 * types (`@anthropic-ai/sdk` resources/messages): Message Batches (create, list, retrieve, results as JSONL at
 * `results_url`, cancel) and Messages (plain and SSE streaming). Tests (and `npm run fake:anthropic`) can
 * make it fail, slow down, or end a batch with chosen outcomes per request.
 */

export type Outcome = 'succeeded' | 'errored' | 'canceled' | 'expired';
const OUTCOMES: readonly Outcome[] = ['succeeded', 'errored', 'canceled', 'expired'];

type MessageBatch = Anthropic.Messages.MessageBatch;
type Message = Anthropic.Messages.Message;
type IndividualResponse = Anthropic.Messages.MessageBatchIndividualResponse;

interface FakeRequest {
  custom_id: string;
  params: { model: string; max_tokens: number; messages: { role: string; content: unknown }[] };
}

interface FakeBatch {
  batch: MessageBatch;
  requests: FakeRequest[];
  results?: IndividualResponse[];
  createdMs: number;
  cancelAtMs?: number;
}

export interface Failure {
  /** Path substring the failure applies to ("" = every route). */
  path: string;
  status: number;
  /** Requests left to fail; Infinity until cleared. */
  remaining: number;
  /** Tell the SDK not to retry (`x-should-retry: false`). */
  noRetry: boolean;
  /** `retry-after` header (seconds) sent with the error. */
  retryAfterSeconds?: number;
  /** For a streamed message: answer 200, stream the start, then send the error as an SSE `error` event. */
  midStream?: boolean;
}

export interface FakeAnthropicOptions {
  /** Batches end by themselves this long after creation (outcomes from the custom_id prefix); unset = only on demand. */
  autoEndMs?: number;
  /** A cancelled batch stays `canceling` this long before it ends. */
  cancelDelayMs?: number;
  /** Pause between streamed text deltas. */
  streamDelayMs?: number;
  /** Pause before the first content delta (after message_start): the time to first token it shows. */
  firstDeltaDelayMs?: number;
}

/** Timing of a streamed reply, per event: tests set it (`streaming`) to shape TTFT and duration. */
export interface StreamTiming {
  /** Before `message_start` (the response headers are already sent). */
  startDelayMs: number;
  /** Between `message_start` and the first content delta. */
  firstDeltaDelayMs: number;
  /** Between two content deltas. */
  deltaDelayMs: number;
}

/** A stream the client closed before `message_stop` (cancel, timeout): what it had received by then. */
export interface ClosedStream {
  requestId: string;
  model: string;
  deltasSent: number;
  at: number;
}

/** Every stop reason of the Messages API; `[[stop:<reason>]]` in the last user text forces one. */
export const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'] as const;
type StopReason = (typeof STOP_REASONS)[number];

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The default outcome of a request when a batch ends by itself: a custom_id starting `errored-` errors, and so on. */
export function outcomeFromCustomId(customId: string): Outcome {
  const m = /^(succeeded|errored|canceled|expired)[-_]/.exec(customId);
  return (m?.[1] as Outcome | undefined) ?? 'succeeded';
}

export class FakeAnthropic {
  readonly batches = new Map<string, FakeBatch>();
  /** Requests served, by "METHOD /route" (ids replaced by {id}). */
  readonly hits = new Map<string, number>();
  private failures: Failure[] = [];
  private delays: { path: string; ms: number }[] = [];
  /** While set, a batch create is done (the batch exists) but its response is held back, as by a slow network. */
  private holdCreates = false;
  private held: ServerResponse[] = [];
  private server?: Server;
  private baseUrl = '';
  private timing: StreamTiming;
  /** Streams begun, in order (request id and model), and those the client closed before the end. */
  readonly streamsStarted: { requestId: string; model: string; at: number; firstDeltaAt?: number }[] = [];
  readonly closedStreams: ClosedStream[] = [];
  /** Bodies of `POST /v1/messages`, as received: what the client actually forwarded. */
  readonly messageBodies: Record<string, unknown>[] = [];

  constructor(private readonly opts: FakeAnthropicOptions = {}) {
    this.timing = { startDelayMs: 0, firstDeltaDelayMs: opts.firstDeltaDelayMs ?? 0, deltaDelayMs: opts.streamDelayMs ?? 0 };
  }

  /** Sets the timing of streamed replies (unnamed fields keep their value). */
  streaming(timing: Partial<StreamTiming>): StreamTiming {
    this.timing = { ...this.timing, ...timing };
    return this.timing;
  }

  get url(): string {
    return this.baseUrl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const addr = server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${addr.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.held = [];
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  // ---- controls ----------------------------------------------------------------------------------

  /** Fails requests whose path contains `path` with `status`: `count` times, or until `clearFailures`. */
  fail(opts: { path?: string; status?: number; count?: number; noRetry?: boolean; retryAfterSeconds?: number; midStream?: boolean } = {}): void {
    this.failures.push({
      path: opts.path ?? '',
      status: opts.status ?? 500,
      remaining: opts.count ?? Infinity,
      noRetry: opts.noRetry ?? false,
      ...(opts.retryAfterSeconds !== undefined ? { retryAfterSeconds: opts.retryAfterSeconds } : {}),
      ...(opts.midStream ? { midStream: true } : {}),
    });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Delays responses to paths containing `path` by `ms` (0 removes the delay). */
  delay(ms: number, path = ''): void {
    this.delays = this.delays.filter((d) => d.path !== path);
    if (ms > 0) this.delays.push({ path, ms });
  }

  /**
   * Ends a batch now. `outcomes` picks each request's outcome: a map by custom_id, a function, or one
   * outcome for all; requests not covered fall back to their custom_id prefix.
   */
  endBatch(id: string, outcomes?: Outcome | Record<string, Outcome> | ((customId: string, index: number) => Outcome)): MessageBatch {
    const fb = this.batches.get(id);
    if (!fb) throw new Error(`no batch ${id}`);
    const pick = (r: FakeRequest, i: number): Outcome => {
      if (typeof outcomes === 'string') return outcomes;
      if (typeof outcomes === 'function') return outcomes(r.custom_id, i);
      return outcomes?.[r.custom_id] ?? outcomeFromCustomId(r.custom_id);
    };
    this.finish(fb, pick);
    return fb.batch;
  }

  /**
   * Holds (true) or releases (false) the responses to batch creates: the batch is created at once, the
   * client hears of it only on release. Lets a test kill a worker between the provider's create and its write.
   */
  holdCreateResponses(hold: boolean): void {
    this.holdCreates = hold;
    if (hold) return;
    for (const res of this.held.splice(0)) if (!res.destroyed) res.end();
  }

  /** Creates a batch without HTTP (for seeding many at once in tests). */
  createBatch(requests: FakeRequest[]): MessageBatch {
    const created = new Date();
    const batch: MessageBatch = {
      id: rid('msgbatch'),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: created.toISOString(),
      expires_at: new Date(created.getTime() + 24 * 3600_000).toISOString(),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    };
    this.batches.set(batch.id, { batch, requests, createdMs: created.getTime() });
    return batch;
  }

  hitCount(route: string): number {
    return this.hits.get(route) ?? 0;
  }

  // ---- HTTP ----------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    try {
      const body = await readBody(req);
      if (path.startsWith('/_fake/')) return this.control(req.method ?? 'GET', path, body, res);
      this.count(req.method ?? 'GET', path);
      const delay = this.delays.find((d) => path.includes(d.path));
      if (delay) await sleep(delay.ms);
      const failure = this.failures.find((f) => f.remaining > 0 && path.includes(f.path));
      if (failure) {
        failure.remaining--;
        // Status 0: the connection is reset without an answer, as by a proxy or a crashed server.
        if (failure.status === 0) return void req.socket.destroy();
        if (failure.midStream) return this.failMidStream(body, res, failure);
        return sendError(res, failure.status, 'Injected failure', failure.noRetry, failure.retryAfterSeconds);
      }
      if (!req.headers['x-api-key'] && !req.headers['authorization']) throw new HttpError(401, 'x-api-key header is required');
      if (!req.headers['anthropic-version']) throw new HttpError(400, 'anthropic-version header is required');
      await this.route(req.method ?? 'GET', path, body, res, url.searchParams);
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.message);
      sendError(res, 500, String(err));
    }
  }

  private count(method: string, path: string): void {
    const route = `${method} ${path.replace(/msgbatch_[0-9a-f]+/g, '{id}')}`;
    this.hits.set(route, (this.hits.get(route) ?? 0) + 1);
  }

  private create(body: unknown, res: ServerResponse): void {
    const batch = this.createBatch(validateBatch(body));
    if (!this.holdCreates) return sendJson(res, 200, batch);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': rid('req') });
    res.write(JSON.stringify(batch));
    this.held.push(res);
  }

  /**
   * `GET /v1/messages/batches`: most recently created first; `limit` 1..1000 (default 20), `after_id` (the
   * page after that batch, older) or `before_id` (the page before it, newer); `has_more`, `first_id`, `last_id`.
   */
  private list(query: URLSearchParams): { data: MessageBatch[]; has_more: boolean; first_id: string | null; last_id: string | null } {
    const limit = query.has('limit') ? Number(query.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'limit: Input should be between 1 and 1000');
    for (const fb of this.batches.values()) this.advance(fb);
    // Insertion order is creation order; newest first as the real API lists them.
    const all = [...this.batches.values()].map((fb) => fb.batch).reverse();
    const index = (id: string) => {
      const i = all.findIndex((b) => b.id === id);
      if (i < 0) throw new HttpError(404, `No batch ${id}`);
      return i;
    };
    const after = query.get('after_id');
    const before = query.get('before_id');
    let data: MessageBatch[];
    let hasMore: boolean;
    if (before) {
      const end = index(before);
      const start = Math.max(0, end - limit);
      data = all.slice(start, end);
      hasMore = start > 0;
    } else {
      const start = after ? index(after) + 1 : 0;
      data = all.slice(start, start + limit);
      hasMore = start + limit < all.length;
    }
    return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
  }

  private async route(method: string, path: string, body: unknown, res: ServerResponse, query = new URLSearchParams()): Promise<void> {
    if (method === 'POST' && path === '/v1/messages') return this.messages(body, res);
    if (method === 'POST' && path === '/v1/messages/batches') return this.create(body, res);
    if (method === 'GET' && path === '/v1/messages/batches') return sendJson(res, 200, this.list(query));
    const m = /^\/v1\/messages\/batches\/([^/]+)(\/results|\/cancel)?$/.exec(path);
    if (m) {
      const fb = this.batches.get(m[1]!);
      if (!fb) throw new HttpError(404, `No batch ${m[1]}`);
      this.advance(fb);
      if (method === 'GET' && !m[2]) return sendJson(res, 200, fb.batch);
      if (method === 'GET' && m[2] === '/results') return this.results(fb, res);
      if (method === 'POST' && m[2] === '/cancel') return sendJson(res, 200, this.cancel(fb));
    }
    throw new HttpError(404, `No route ${method} ${path}`);
  }

  /** Time-driven transitions: auto end, and the end of a cancellation. */
  private advance(fb: FakeBatch): void {
    if (fb.batch.processing_status === 'ended') return;
    const t = Date.now();
    if (fb.cancelAtMs !== undefined && t >= fb.cancelAtMs) return this.finish(fb, () => 'canceled');
    if (fb.batch.processing_status === 'in_progress' && this.opts.autoEndMs !== undefined && t - fb.createdMs >= this.opts.autoEndMs) {
      this.finish(fb, (r) => outcomeFromCustomId(r.custom_id));
    }
  }

  private cancel(fb: FakeBatch): MessageBatch {
    if (fb.batch.processing_status === 'in_progress') {
      fb.batch.processing_status = 'canceling';
      fb.batch.cancel_initiated_at = now();
      fb.cancelAtMs = Date.now() + (this.opts.cancelDelayMs ?? 0);
      this.advance(fb);
    }
    return fb.batch;
  }

  private finish(fb: FakeBatch, pick: (r: FakeRequest, index: number) => Outcome): void {
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    fb.results = fb.requests.map((r, i) => {
      const outcome = pick(r, i);
      counts[outcome]++;
      return { custom_id: r.custom_id, result: resultFor(r, outcome) };
    });
    // The real API gives no order guarantee; reversing makes clients match by custom_id.
    fb.results.reverse();
    fb.batch.processing_status = 'ended';
    fb.batch.ended_at = now();
    fb.batch.request_counts = counts;
    fb.batch.results_url = `${this.baseUrl}/v1/messages/batches/${fb.batch.id}/results`;
  }

  private results(fb: FakeBatch, res: ServerResponse): void {
    if (!fb.results) throw new HttpError(400, `Batch ${fb.batch.id} has not ended`);
    res.writeHead(200, { 'content-type': 'application/binary', 'request-id': rid('req') });
    for (const line of fb.results) res.write(`${JSON.stringify(line)}\n`);
    res.end();
  }

  private async messages(body: unknown, res: ServerResponse): Promise<void> {
    const params = validateMessage(body);
    this.messageBodies.push(body as Record<string, unknown>);
    const message = replyTo(params);
    if (!(body as { stream?: boolean }).stream) return sendJson(res, 200, message);
    const requestId = rid('req');
    const timing = this.timing;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId });
    const started: (typeof this.streamsStarted)[number] = { requestId, model: params.model, at: Date.now() };
    this.streamsStarted.push(started);
    let ended = false;
    let deltasSent = 0;
    // The client closing its end before message_stop (an aborted stream) is what cancel tests look for.
    res.on('close', () => {
      if (!ended) this.closedStreams.push({ requestId, model: params.model, deltasSent, at: Date.now() });
    });
    const open = () => !res.destroyed && !res.writableEnded;
    const event = (type: string, data: object) => open() && res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const pause = async (ms: number) => {
      if (ms > 0) await sleep(ms);
      return open();
    };
    if (!(await pause(timing.startDelayMs))) return;
    event('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } } });
    event('ping', {});
    let first = true;
    for (const [index, block] of message.content.entries()) {
      if (block.type === 'text') {
        event('content_block_start', { index, content_block: { type: 'text', text: '', citations: null } });
        for (const w of block.text.split(/(?<= )/)) {
          if (!(await pause(first ? timing.firstDeltaDelayMs : timing.deltaDelayMs))) return;
          if (first) started.firstDeltaAt = Date.now();
          first = false;
          event('content_block_delta', { index, delta: { type: 'text_delta', text: w } });
          deltasSent++;
        }
      } else if (block.type === 'tool_use') {
        event('content_block_start', { index, content_block: { ...block, input: {} } });
        if (!(await pause(first ? timing.firstDeltaDelayMs : timing.deltaDelayMs))) return;
        if (first) started.firstDeltaAt = Date.now();
        first = false;
        event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
        deltasSent++;
      }
      event('content_block_stop', { index });
    }
    event('message_delta', {
      delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, stop_details: null, container: null },
      usage: { output_tokens: message.usage.output_tokens, input_tokens: message.usage.input_tokens, cache_creation_input_tokens: null, cache_read_input_tokens: null, server_tool_use: null, output_tokens_details: null },
    });
    event('message_stop', {});
    ended = true;
    res.end();
  }

  /** The real API's failure after a 200: `message_start`, a first delta, then `event: error` and the end. */
  private failMidStream(body: unknown, res: ServerResponse, failure: Failure): void {
    const message = replyTo(validateMessage(body));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': rid('req') });
    const event = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', { message: { ...message, content: [], stop_reason: null, stop_sequence: null } });
    event('content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: null } });
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Echo: ' } });
    event('error', { error: { type: ERROR_TYPES[failure.status] ?? 'api_error', message: 'Injected failure mid-stream' } });
    res.end();
  }

  /** `/_fake/...`: the same controls over HTTP, for a fake running as its own process. */
  private control(method: string, path: string, body: unknown, res: ServerResponse): void {
    const b = (body ?? {}) as Record<string, unknown>;
    const end = /^\/_fake\/batches\/([^/]+)\/end$/.exec(path);
    if (method === 'POST' && end) {
      const outcomes = b['outcomes'];
      const all = typeof b['outcome'] === 'string' && OUTCOMES.includes(b['outcome'] as Outcome) ? (b['outcome'] as Outcome) : undefined;
      if (!this.batches.has(end[1]!)) return sendError(res, 404, `No batch ${end[1]}`);
      return sendJson(res, 200, this.endBatch(end[1]!, all ?? (outcomes as Record<string, Outcome> | undefined)));
    }
    if (method === 'POST' && path === '/_fake/fail') {
      const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
      this.fail({
        path: typeof b['path'] === 'string' ? b['path'] : undefined,
        status: num(b['status']),
        count: num(b['count']),
        noRetry: b['no_retry'] === true,
        retryAfterSeconds: num(b['retry_after']),
        midStream: b['mid_stream'] === true,
      });
      return sendJson(res, 200, { failures: this.failures.length });
    }
    if (method === 'DELETE' && path === '/_fake/fail') {
      this.clearFailures();
      return sendJson(res, 200, { failures: 0 });
    }
    if (method === 'POST' && path === '/_fake/delay') {
      this.delay(Number(b['ms'] ?? 0), (b['path'] as string | undefined) ?? '');
      return sendJson(res, 200, { delays: this.delays });
    }
    if (method === 'POST' && path === '/_fake/streaming') {
      const num = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : undefined);
      const t = { startDelayMs: num(b['start_delay_ms']), firstDeltaDelayMs: num(b['first_delta_delay_ms']), deltaDelayMs: num(b['delta_delay_ms']) };
      return sendJson(res, 200, this.streaming(Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined))));
    }
    if (method === 'GET' && path === '/_fake/streams') return sendJson(res, 200, { started: this.streamsStarted, closed: this.closedStreams });
    if (method === 'GET' && path === '/_fake/batches') return sendJson(res, 200, [...this.batches.values()].map((fb) => fb.batch));
    if (method === 'GET' && path === '/_fake/stats') return sendJson(res, 200, Object.fromEntries(this.hits));
    sendError(res, 404, `No control route ${method} ${path}`);
  }
}

function resultFor(r: FakeRequest, outcome: Outcome): Anthropic.Messages.MessageBatchResult {
  switch (outcome) {
    case 'succeeded':
      return { type: 'succeeded', message: replyTo(r.params) };
    case 'errored':
      return { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: `request ${r.custom_id} was refused` }, request_id: null } as Anthropic.ErrorResponse };
    default:
      return { type: outcome };
  }
}

/**
 * An echo of the last user text, one token per word. Stop reasons as the real API gives them: `max_tokens` when
 * the echo is longer than max_tokens words, `stop_sequence` when a stop sequence occurs in it (cut before it),
 * `tool_use` when tool_choice forces a tool (a tool_use block with `{}` input), else `end_turn`;
 * `[[stop:<reason>]]` in the text forces `pause_turn`, `refusal` (or any other) for tests.
 */
function replyTo(params: FakeRequest['params']): Message {
  const last = [...params.messages].reverse().find((m) => m.role === 'user');
  const said = typeof last?.content === 'string' ? last.content : Array.isArray(last?.content) ? (last.content as { type?: string; text?: string }[]).filter((b) => b.type === 'text').map((b) => b.text ?? '').join(' ') : '';
  const forced = /\[\[stop:([a-z_]+)\]\]/.exec(said)?.[1] as StopReason | undefined;
  let words = `Echo: ${said.replace(/\[\[stop:[a-z_]+\]\]/g, '')}`.split(/\s+/).filter(Boolean);
  let stopReason: StopReason = forced ?? 'end_turn';
  let stopSequence: string | null = null;
  const stops = (params as { stop_sequences?: string[] }).stop_sequences ?? [];
  const hit = words.findIndex((w) => stops.includes(w));
  if (!forced && hit >= 0) {
    stopSequence = words[hit]!;
    words = words.slice(0, hit);
    stopReason = 'stop_sequence';
  }
  if (words.length > params.max_tokens) {
    words = words.slice(0, params.max_tokens);
    stopReason = 'max_tokens';
  }
  const toolChoice = (params as { tool_choice?: { type?: string; name?: string } }).tool_choice;
  const tools = (params as { tools?: { name?: string }[] }).tools ?? [];
  const content: Anthropic.Messages.ContentBlock[] = [{ type: 'text', text: words.join(' '), citations: null }];
  if (!forced && stopReason === 'end_turn' && tools.length > 0 && (toolChoice?.type === 'tool' || toolChoice?.type === 'any')) {
    const name = toolChoice.type === 'tool' ? toolChoice.name! : tools[0]!.name!;
    content.push({ type: 'tool_use', id: rid('toolu'), name, input: {} } as Anthropic.Messages.ToolUseBlock);
    stopReason = 'tool_use';
  }
  const inputTokens = JSON.stringify(params.messages).split(/\s+/).length;
  return {
    id: rid('msg'),
    type: 'message',
    role: 'assistant',
    model: params.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopSequence,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: inputTokens,
      output_tokens: words.length + (content.length - 1),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: null,
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
    },
  } as Message;
}

function validateMessage(body: unknown): FakeRequest['params'] {
  const b = body as Partial<FakeRequest['params']> | null;
  if (!b || typeof b !== 'object') throw new HttpError(400, 'body must be a JSON object');
  if (typeof b.model !== 'string' || !b.model) throw new HttpError(400, 'model: Field required');
  if (typeof b.max_tokens !== 'number' || b.max_tokens < 1) throw new HttpError(400, 'max_tokens: Field required');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new HttpError(400, 'messages: Field required');
  return b as FakeRequest['params'];
}

function validateBatch(body: unknown): FakeRequest[] {
  const requests = (body as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) throw new HttpError(400, 'requests: Field required');
  if (requests.length > 100_000) throw new HttpError(400, 'requests: at most 100000 requests');
  const seen = new Set<string>();
  requests.forEach((r: { custom_id?: unknown; params?: unknown }, i) => {
    if (typeof r.custom_id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(r.custom_id)) throw new HttpError(400, `requests.${i}.custom_id: invalid`);
    if (seen.has(r.custom_id)) throw new HttpError(400, `requests.${i}.custom_id: duplicate custom_id ${r.custom_id}`);
    seen.add(r.custom_id);
    try {
      validateMessage(r.params);
    } catch (err) {
      throw new HttpError(400, `requests.${i}.params.${(err as Error).message}`);
    }
  });
  return requests as FakeRequest[];
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'body is not valid JSON'));
      }
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': rid('req') });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, noRetry = false, retryAfterSeconds?: number): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'request-id': rid('req'),
    ...(noRetry ? { 'x-should-retry': 'false' } : {}),
    ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
  });
  res.end(JSON.stringify({ type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message }, request_id: rid('req') }));
}
