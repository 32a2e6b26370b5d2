import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmbeddingsRequest {
  headers: IncomingHttpHeaders;
  body: { model?: unknown; input?: unknown };
  status: number;
}

/**
 * A local OpenAI-compatible `POST /v1/embeddings` endpoint: `{model, input: string | string[]}` in,
 * `{object: "list", data: [{object: "embedding", index, embedding}], model, usage}` out, as OpenAI answers.
 * Vectors are deterministic (`dims` numbers derived from the text). `failNext(n, status)` answers the next n
 * requests with that status and an OpenAI-style error body; `delayMs` holds every answer back.
 */
export class FakeEmbeddingsServer {
  readonly requests: EmbeddingsRequest[] = [];
  /** Requests the client gave up on (closed the connection) before the answer was sent. */
  aborted = 0;
  delayMs = 0;
  retryAfterSeconds = 1;
  private failures: number[] = [];
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(readonly dims = 16) {}

  failNext(n: number, status = 500): void {
    for (let i = 0; i < n; i++) this.failures.push(status);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let answered = false;
        res.on('close', () => {
          if (!answered) this.aborted++;
        });
        const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          const t = setTimeout(() => {
            this.timers.delete(t);
            if (res.destroyed) return;
            answered = true;
            res.writeHead(status, { 'content-type': 'application/json', ...headers });
            res.end(JSON.stringify(body));
          }, this.delayMs);
          this.timers.add(t);
        };
        let body: EmbeddingsRequest['body'];
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EmbeddingsRequest['body'];
        } catch {
          return reply(400, { error: { message: 'invalid JSON body', type: 'invalid_request_error' } });
        }
        if (req.method !== 'POST' || req.url !== '/v1/embeddings') return reply(404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
        const failure = this.failures.shift();
        if (failure) {
          this.requests.push({ headers: req.headers, body, status: failure });
          // OpenAI answers a rate limit with Retry-After (seconds); `retryAfterSeconds` is what this fake sends.
          return failure === 429
            ? reply(429, { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': String(this.retryAfterSeconds) })
            : reply(failure, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
        }
        const inputs = typeof body.input === 'string' ? [body.input] : body.input;
        if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((x) => typeof x === 'string') || typeof body.model !== 'string') {
          this.requests.push({ headers: req.headers, body, status: 400 });
          return reply(400, { error: { message: "'input' must be a non-empty string or array of strings, and 'model' a string", type: 'invalid_request_error' } });
        }
        this.requests.push({ headers: req.headers, body, status: 200 });
        reply(200, {
          object: 'list',
          data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: this.vector(text) })),
          model: body.model,
          usage: { prompt_tokens: inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0), total_tokens: inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0) },
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  private vector(text: string): number[] {
    const v = new Array<number>(this.dims).fill(0);
    for (let i = 0; i < text.length; i++) v[i % this.dims]! += (text.charCodeAt(i) % 31) / 31;
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return v.map((x) => x / norm);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
