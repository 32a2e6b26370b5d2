import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { isOutboundRefused, type HostGuard } from '@jobs/outbound';
import { parseRetryAfter } from './retry-policy';

export interface CallbackRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface PostOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  guard: HostGuard;
}

/** What one POST came back with. */
export interface PostResult {
  statusCode: number | null;
  /** null on 2xx */
  error: string | null;
  /** Parsed Retry-After of a 429/503, else null. */
  retryAfterMs: number | null;
  /** The guard refused the destination; nothing was sent. */
  refused: boolean;
  /** From the start of the request to the last byte read (0 when nothing was sent). */
  durationMs: number;
  /** The first RESPONSE_EXCERPT_BYTES of the response body; null when no response arrived. */
  responseExcerpt: string | null;
}

const ERROR_EXCERPT_CHARS = 200;
/** How much of a receiver's body the attempt log keeps: enough to read an error page's gist. */
export const RESPONSE_EXCERPT_BYTES = 1024;

/**
 * One delivery attempt. Redirects are not followed (a 3xx is a failed attempt: following one could lead
 * past the host guard), the whole exchange is bounded by `timeoutMs`, and at most `maxResponseBytes` of
 * the response are read. Never throws: every failure becomes a PostResult.
 */
export async function postCallback(req: CallbackRequest, opts: PostOptions): Promise<PostResult> {
  try {
    opts.guard.checkLiteral(req.url);
  } catch (err) {
    return { statusCode: null, error: (err as Error).message, retryAfterMs: null, refused: true, durationMs: 0, responseExcerpt: null };
  }
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // One deadline for the whole exchange, the body read included.
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await post(req, opts.guard, signal);
    const status = res.statusCode ?? 0;
    // Read (bounded) even on 2xx: a body read to its end leaves the keep-alive socket reusable.
    const bytes = await readCapped(res, opts.maxResponseBytes);
    const text = textOf(bytes);
    const answered = { statusCode: status, refused: false, durationMs: elapsed(), responseExcerpt: textOf(bytes.subarray(0, RESPONSE_EXCERPT_BYTES)) };
    if (status >= 200 && status < 300) return { ...answered, error: null, retryAfterMs: null };
    const retryAfter = status === 429 || status === 503 ? parseRetryAfter(headerOf(res, 'retry-after')) : null;
    return { ...answered, error: describeStatus(status, text, headerOf(res, 'location')), retryAfterMs: retryAfter };
  } catch (err) {
    if (isOutboundRefused(err)) return { statusCode: null, error: (err as Error).message, retryAfterMs: null, refused: true, durationMs: elapsed(), responseExcerpt: null };
    const code = (err as { code?: unknown }).code;
    const timedOut = signal.aborted || code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    const error = timedOut ? `no response within ${opts.timeoutMs} ms` : `${typeof code === 'string' ? `${code}: ` : ''}${(err as Error).message}`;
    return { statusCode: null, error, retryAfterMs: null, refused: false, durationMs: elapsed(), responseExcerpt: null };
  }
}

/**
 * The POST on node:http(s) through the guard's agents (their `lookup` checks every address the socket may use).
 * Node follows no redirects and uses no proxy; `signal` bounds the exchange, the body read included.
 */
function post(req: CallbackRequest, guard: HostGuard, signal: AbortSignal): Promise<IncomingMessage> {
  const url = new URL(req.url);
  const tls = url.protocol === 'https:';
  const body = Buffer.from(req.body, 'utf8');
  const headers = { 'content-type': 'application/json', 'user-agent': 'jobsvc-callbacks/1', ...req.headers, 'content-length': String(body.length) };
  return new Promise<IncomingMessage>((resolve, reject) => {
    const r = (tls ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent: tls ? guard.httpsAgent : guard.httpAgent, signal }, resolve);
    r.on('error', reject);
    r.end(body);
  });
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const v: unknown = res.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function describeStatus(status: number, body: string, location: string | undefined): string {
  if (status >= 300 && status < 400) return `HTTP ${status}: redirect${location ? ` to ${location}` : ''} not followed`;
  const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, ERROR_EXCERPT_CHARS);
  return `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`;
}

/** A receiver's bytes as text PostgreSQL accepts: NUL characters are dropped (a text column refuses them). */
function textOf(bytes: Buffer): string {
  return bytes.toString('utf8').replaceAll('\u0000', '');
}

/** Reads at most `cap` bytes, then drops the connection's remaining body. */
async function readCapped(stream: Readable, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      const take = b.subarray(0, cap - size);
      chunks.push(take);
      size += take.length;
      if (size >= cap) break;
    }
  } catch {
    // Aborted or reset mid-body: the status line already decided the attempt.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}
