import type { z } from 'zod';
import { ProblemSchema } from '../../packages/core/src';
import { OPERATIONS, type OperationSpec } from '../../apps/api/src/openapi/operations';
import { problemStatuses } from '../../apps/api/src/openapi/document';

/**
 * Checks real responses against the contract: the route's documented statuses, media type and headers, and the
 * body parsed with the response's zod schema (strict objects, so a field too many or too few fails). Problem
 * statuses are checked against the problem document schema.
 */

const templates = OPERATIONS.map((op) => ({
  op,
  pattern: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  params: (op.path.match(/\{/g) ?? []).length,
}));

/** The documented operation for a concrete request; a literal segment wins over a parameter (`/api/jobs/active`). */
export function operationFor(method: string, url: string): OperationSpec {
  const path = url.split('?')[0]!;
  const found = templates
    .filter((t) => t.op.method === method.toLowerCase() && t.pattern.test(path))
    .sort((a, b) => a.params - b.params)[0];
  if (!found) throw new Error(`${method} ${path} is not in the OpenAPI document`);
  return found.op;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/**
 * Fails unless `res` is what the document says `method url` answers with `res.status`; returns the parsed body.
 * `eventStream`: the response was asked for as Server-Sent Events (its body is text, not checked here).
 */
export function expectContract<T = unknown>(method: string, url: string, res: HttpAnswer): T {
  const op = operationFor(method, url);
  const spec = op.responses[res.status];
  const contentType = res.headers.get('content-type') ?? '';
  const where = `${method} ${url} → ${res.status}`;
  if (!spec) {
    if (!problemStatuses(op).includes(res.status))
      throw new Error(`${where}: status not documented for ${op.operationId}: ${JSON.stringify(res.body)}`);
    if (!contentType.startsWith('application/problem+json'))
      throw new Error(`${where}: a problem answered as ${contentType}`);
    return parseOrThrow(where, ProblemSchema, res.body) as T;
  }
  for (const h of spec.headers ?? []) {
    // Link is on full pages only; the others are always there.
    if (h !== 'Link' && !res.headers.has(h)) throw new Error(`${where}: missing header ${h}`);
  }
  if (spec.eventStream && contentType.startsWith('text/event-stream')) {
    // Every `event: status` frame carries a JobEvent; the frames are returned as parsed.
    const frames = String(res.body)
      .split('\n\n')
      .filter((f) => f.trim() !== '' && !f.startsWith(':'));
    return frames.map((frame) => {
      const fields = Object.fromEntries(
        frame
          .split('\n')
          .filter((l) => !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const data = JSON.parse(fields['data'] ?? 'null') as unknown;
      return {
        event: fields['event'],
        id: fields['id'],
        data: fields['event'] === 'status' ? parseOrThrow(where, spec.eventStream!.statusData, data) : data,
      };
    }) as T;
  }
  if (spec.text) {
    if (!contentType.startsWith(spec.text.contentType))
      throw new Error(`${where}: expected ${spec.text.contentType}, got ${contentType}`);
    return res.body as T;
  }
  if (!contentType.startsWith('application/json'))
    throw new Error(`${where}: expected application/json, got ${contentType}`);
  return parseOrThrow(where, spec.schema!, res.body) as T;
}

function parseOrThrow(where: string, schema: z.ZodType, body: unknown): unknown {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new Error(
      `${where}: the body breaks the contract: ${JSON.stringify(parsed.error.issues).slice(0, 2000)}\nbody: ${JSON.stringify(body).slice(0, 2000)}`,
    );
  return parsed.data;
}

/**
 * As `expectContract` for any request a test makes: a request the document does not know (an unknown route, a
 * method a route does not take) must be answered 404 or 405 with a problem document.
 */
export function checkContract(method: string, url: string, res: HttpAnswer): void {
  const path = url.split('?')[0]!;
  if (templates.some((t) => t.op.method === method.toLowerCase() && t.pattern.test(path))) {
    expectContract(method, url, res);
    return;
  }
  const where = `${method} ${url} → ${res.status}`;
  if (res.status !== 404 && res.status !== 405)
    throw new Error(`${where}: an undocumented request answered other than 404/405`);
  if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json'))
    throw new Error(`${where}: not a problem document`);
  parseOrThrow(where, ProblemSchema, res.body);
}
