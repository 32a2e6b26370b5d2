import axios from 'axios';
import { PermanentError, findTooDeep } from '@jobs/core';
import { z } from 'zod';
import { isOutboundRefused } from '@jobs/outbound';
import { defineTask } from '../task';

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** One outbound HTTP call. 2xx/3xx complete; 429 and 5xx are retryable failures; other 4xx fail at once. */
export const httpRequestTask = defineTask({
  name: 'http.request',
  input: z.strictObject({
    url: z.string().url().refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http or https URL' }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.unknown().optional(),
    timeout_ms: z.number().int().min(1).max(300_000).default(30_000),
  }),
  async run({ input, signal, clients }) {
    if (clients.checkOutboundUrl) await clients.checkOutboundUrl(input.url);
    const res = await axios
      .request({
        url: input.url,
        method: input.method,
        headers: input.headers,
        data: input.body,
        timeout: input.timeout_ms,
        signal,
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
        validateStatus: () => true,
        // Proxies from the environment would bypass the guarded agents' lookup.
        proxy: false,
        ...clients.outboundAgents,
      })
      .catch((err: unknown) => {
        if (isOutboundRefused(err)) throw new PermanentError((err as Error).message, 'outbound_refused');
        throw err;
      });
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    if (res.status === 429 || res.status >= 500) throw new Error(`HTTP ${res.status} from ${input.url}`);
    if (res.status >= 400) throw new PermanentError(`HTTP ${res.status} from ${input.url}`, 'http_error');
    return { result: { status: res.status, headers: res.headers as Record<string, string>, body: parseJsonOr(body) } };
  },
});

/**
 * A response body parsed deeper than this stays text: the result is written with JSON.stringify and parsed by
 * Postgres as jsonb, both recursive, and the URL (so the nesting) is the client's choice. MAX_JSON_DEPTH's default.
 */
const MAX_BODY_JSON_DEPTH = 64;

/** A JSON body as data, anything else (or JSON nested deeper than MAX_BODY_JSON_DEPTH) as its text. */
function parseJsonOr(text: string): unknown {
  if (!text) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return text;
  }
  return findTooDeep(parsed, MAX_BODY_JSON_DEPTH) ? text : parsed;
}
