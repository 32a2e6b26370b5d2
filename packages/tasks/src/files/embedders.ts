import { PermanentError } from '@jobs/core';
import axios, { type AxiosInstance } from 'axios';
import type { FilePipeline } from './pipeline-pool';
import { abortableDelay } from '../task';

/** Turns chunk texts into vectors, one per text, in order. */
export interface Embedder {
  readonly name: string;
  /** How many texts one `embed` call should carry. */
  readonly batchSize: number;
  embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]>;
}

/** The default embedder: feature hashing (hash-embed.ts), computed on the pipeline's threads. */
export class HashingEmbedder implements Embedder {
  readonly name = 'local-hashing';
  readonly batchSize = 256;
  constructor(
    private readonly pipeline: FilePipeline,
    private readonly dims: number,
  ) {}

  embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
    return this.pipeline.hashEmbed(texts, this.dims, signal);
  }
}

export interface HttpEmbedderOptions {
  url: string;
  model: string;
  apiKey?: string;
  batchSize: number;
  maxAttempts: number;
  backoffMs: number;
  timeoutMs?: number;
}

interface EmbeddingsResponse {
  data?: { embedding?: unknown; index?: number }[];
}

/** `https://host` and `https://host/v1` both mean `https://host/v1/embeddings`; a full path is kept. */
export function embeddingsEndpoint(url: string): string {
  const u = url.replace(/\/+$/, '');
  if (u.endsWith('/embeddings')) return u;
  return u.endsWith('/v1') ? `${u}/embeddings` : `${u}/v1/embeddings`;
}

/**
 * An OpenAI-compatible `POST /v1/embeddings` client: `{model, input: [...]}` in, `data[].embedding` out (sorted by
 * `index`). 429, 5xx and network errors are retried up to `maxAttempts` with exponential backoff and full jitter
 * (Retry-After honoured); any other 4xx is permanent (a bad key or model does not heal by retrying).
 */
export class HttpEmbedder implements Embedder {
  readonly name = 'openai-compatible';
  readonly batchSize: number;
  private readonly http: AxiosInstance;
  private readonly endpoint: string;

  constructor(private readonly opts: HttpEmbedderOptions) {
    this.batchSize = opts.batchSize;
    this.endpoint = embeddingsEndpoint(opts.url);
    this.http = axios.create({
      timeout: opts.timeoutMs ?? 60_000,
      maxRedirects: 0,
      validateStatus: () => true,
      headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
    });
  }

  async embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number | undefined;
      let failure: Error;
      try {
        const res = await this.http.post<EmbeddingsResponse>(this.endpoint, { model: this.opts.model, input: texts }, { signal });
        if (res.status >= 200 && res.status < 300) return this.vectors(res.data, texts.length);
        const detail = `embeddings endpoint answered HTTP ${res.status}: ${JSON.stringify(res.data).slice(0, 300)}`;
        if (res.status !== 429 && res.status < 500) throw new PermanentError(detail, 'embeddings_rejected');
        failure = new Error(detail);
        const ra = Number(res.headers['retry-after']);
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = Math.min(ra * 1000, 60_000);
      } catch (err) {
        if (signal.aborted || err instanceof PermanentError) throw signal.aborted ? signal.reason : err;
        failure = err instanceof Error ? err : new Error(String(err));
      }
      if (attempt >= this.opts.maxAttempts) throw new Error(`embeddings failed after ${attempt} attempts: ${failure.message}`);
      const backoff = Math.random() * this.opts.backoffMs * 2 ** (attempt - 1);
      await abortableDelay(retryAfterMs ?? backoff, signal);
    }
  }

  private vectors(body: EmbeddingsResponse, expected: number): Float32Array[] {
    const data = body.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new Error(`embeddings endpoint returned ${Array.isArray(data) ? data.length : 'no'} vectors for ${expected} inputs`);
    }
    const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return sorted.map((d, i) => {
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number')) throw new Error(`embeddings endpoint returned a malformed vector at ${i}`);
      return Float32Array.from(d.embedding as number[]);
    });
  }
}
