import { ProblemSchema } from '@jobs/core';
import type { TaskRegistry } from '@jobs/tasks';
import { z } from 'zod';
import { CONSOLE_HEADER } from '../board/api-session';
import { ADMIN_COOKIE } from '../board/board-auth';
import { OPERATIONS, type OperationSpec, type ResponseHeader } from './operations';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/**
 * Problem statuses an operation can answer, from what it is: a key (401, rate limit 429, outage 503), a role
 * (403), a path id (400 for its shape, 404), a query (400), a body (400, 413, 415 for an unsupported charset).
 */
export function problemStatuses(op: OperationSpec): number[] {
  const codes = new Set<number>(op.errors ?? []);
  if (op.access !== 'none') [401, 429, 503].forEach((c) => codes.add(c));
  if (op.access === 'admin' || op.access === 'operator' || op.access === 'metrics') codes.add(403);
  if (op.pathParams) [400, 404].forEach((c) => codes.add(c));
  if (op.query) codes.add(400);
  if (op.body) [400, 413, 415].forEach((c) => codes.add(c));
  // /metrics is outside /api, so not rate limited; its key check still needs PostgreSQL (503).
  if (op.access === 'metrics') codes.delete(429);
  for (const c of op.noErrors ?? []) codes.delete(c);
  for (const c of Object.keys(op.responses).map(Number)) codes.delete(c);
  return [...codes].sort((a, b) => a - b);
}

const GENERIC: Record<number, string> = {
  400: 'Invalid request: the problem document names each offending field in `errors`',
  401: 'No, unknown or revoked key (with `WWW-Authenticate: Bearer`)',
  403: 'The key’s role is too low for this route',
  404: 'No such resource for the caller (another organization’s included)',
  409: 'Invalid transition',
  413: 'The body is larger than the limit',
  415: 'Unsupported media type or charset',
  429: 'Rate limited (with `Retry-After`)',
  503: 'PostgreSQL or Redis is down (with `Retry-After`)',
};

const HEADERS: Record<ResponseHeader | 'WWW-Authenticate', Json> = {
  Location: { description: 'The URL of the Job', schema: { type: 'string' } },
  Link: {
    description:
      'On a full page only: `<relative URL with every query parameter kept and after=<last id>>; rel="next"`',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string' } },
  'WWW-Authenticate': { description: '`Bearer`', schema: { type: 'string' } },
};

/**
 * zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect) with zod's own converter. Schemas that carry an `id` in
 * zod's global registry become components, and references to them `$ref`s into `components.schemas`.
 */
class SchemaConverter {
  readonly components: Record<string, Json> = {};

  constructor(private readonly io: 'input' | 'output') {}

  /** The JSON Schema of `schema`; one with an `id` (its own or nested) is a `$ref` to its component. */
  convert(schema: z.ZodType): Json {
    const raw = z.toJSONSchema(schema, { io: this.io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    const rewritten = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as Json;
    const defs = (rewritten['$defs'] ?? {}) as Record<string, Json>;
    delete rewritten['$defs'];
    delete rewritten['$schema'];
    for (const [name, def] of Object.entries(defs)) this.addComponent(name, def);
    return rewritten;
  }

  /** As `convert`, kept as the component `name`. */
  named(name: string, schema: z.ZodType): Json {
    this.addComponent(name, this.convert(schema));
    return { $ref: `${COMPONENTS}${name}` };
  }

  private addComponent(name: string, schema: Json): void {
    const known = this.components[name];
    if (known && JSON.stringify(known) !== JSON.stringify(schema))
      throw new Error(`two different schemas named ${name}`);
    this.components[name] = schema;
  }
}

/** A query-string parameter as clients send it: lists repeatable, integers and booleans typed. */
function queryParameter(name: string, schema: Json, required: boolean, description: string | undefined): Json {
  let s = schema;
  const extra: Json = {};
  if (Array.isArray(s['anyOf']) && (s['anyOf'] as Json[]).some((a) => a['type'] === 'array')) {
    // A list given as repeated parameters or comma-separated (`status=failed,expired`).
    s = { type: 'array', items: { $ref: `${COMPONENTS}JobStatus` } };
    extra['style'] = 'form';
    extra['explode'] = true;
    description = 'Repeatable, or comma-separated';
  } else if (s['pattern'] === '^\\d+$') {
    s = { type: 'integer', minimum: 1, maximum: 1000, default: 100 };
  } else if (Array.isArray(s['enum']) && (s['enum'] as unknown[]).join() === 'true,false') {
    s = { type: 'boolean', ...(s['default'] !== undefined ? { default: s['default'] === 'true' } : {}) };
  }
  const { description: inner, ...rest } = s;
  const text = description ?? (typeof inner === 'string' ? inner : undefined);
  return { name, in: 'query', required, ...(text ? { description: text } : {}), schema: rest, ...extra };
}

function parameters(op: OperationSpec, requests: SchemaConverter): Json[] {
  const out: Json[] = [];
  for (const [name, schema] of Object.entries(op.pathParams ?? {})) {
    out.push({
      name,
      in: 'path',
      required: true,
      description: 'An id of the wrong shape is a 400',
      schema: requests.convert(schema),
    });
  }
  if (op.query) {
    const q = requests.convert(op.query);
    const props = (q['properties'] ?? {}) as Record<string, Json>;
    const required = new Set((q['required'] ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      if (op.omitQuery?.includes(name)) continue;
      out.push(queryParameter(name, schema, required.has(name) && schema['default'] === undefined, undefined));
    }
  }
  if (op.idempotencyHeader) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'The same as the body field `idempotency_key` (both given and different: 400)',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return out;
}

function requestBody(op: OperationSpec, requests: SchemaConverter): Json | undefined {
  if (!op.body) return undefined;
  if (op.body === 'multipart') {
    return {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: { type: 'string', format: 'binary', description: 'text, markdown, JSON, CSV, HTML or PDF' },
            },
            additionalProperties: false,
          },
          encoding: {
            file: {
              contentType:
                'text/plain, text/markdown, application/json, text/csv, text/html, application/pdf, application/octet-stream',
            },
          },
        },
      },
    };
  }
  // Named after the operation so that generated clients get a type per request body (CreateJobBody).
  const name = `${op.operationId[0]!.toUpperCase()}${op.operationId.slice(1)}Body`;
  return { required: true, content: { 'application/json': { schema: requests.named(name, op.body) } } };
}

function responses(op: OperationSpec, out: SchemaConverter): Json {
  const result: Json = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    const content: Json = {};
    if (spec.schema) content['application/json'] = { schema: out.convert(spec.schema) };
    if (spec.text) content[spec.text.contentType] = { schema: { type: 'string', description: spec.text.description } };
    if (spec.eventStream)
      content['text/event-stream'] = { schema: { type: 'string', description: spec.eventStream.description } };
    const headers = Object.fromEntries((spec.headers ?? []).map((h) => [h, HEADERS[h]]));
    result[status] = { description: spec.description, ...(spec.headers ? { headers } : {}), content };
  }
  const problem = { 'application/problem+json': { schema: out.convert(ProblemSchema) } };
  for (const status of problemStatuses(op)) {
    const headers =
      status === 401
        ? { 'WWW-Authenticate': HEADERS['WWW-Authenticate'] }
        : status === 429 || status === 503
          ? { 'Retry-After': HEADERS['Retry-After'] }
          : undefined;
    result[String(status)] = {
      description: op.errorNotes?.[status] ?? GENERIC[status] ?? 'Problem',
      ...(headers ? { headers } : {}),
      content: problem,
    };
  }
  return result;
}

/** A Bearer key, or (under /api) the dashboard session cookie together with the console's header. */
const KEY_OR_SESSION: Json[] = [{ bearer: [] }, { dashboardSession: [], consoleHeader: [] }];

function security(op: OperationSpec): Json[] {
  if (op.access === 'none') return [];
  return op.path.startsWith('/api/') ? KEY_OR_SESSION : [{ bearer: [] }];
}

const ACCESS_NOTE: Record<OperationSpec['access'], string> = {
  none: 'No key needed.',
  member: 'Any key.',
  admin: 'An admin key (its own organization) or an operator key.',
  operator: 'An operator key.',
  metrics: 'An operator key, unless METRICS_PUBLIC=true.',
};

/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas the routes validate requests with and
 * the contract schemas of their responses. `servers` is relative so that "try it out" calls the service that
 * served the document, wherever it runs.
 */
export function openApiDocument(tasks: TaskRegistry): Json {
  const requests = new SchemaConverter('input');
  const out = new SchemaConverter('output');
  // The `input` of a job is checked by its task's strict schema: one component per task (AnthropicMessageInput).
  for (const name of tasks.names()) {
    const component = `${name.replace(/(^|[._-])([a-z])/g, (_m, _sep: string, c: string) => c.toUpperCase())}Input`;
    requests.named(component, tasks.get(name)!.input);
  }
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    const params = parameters(op, requests);
    const body = requestBody(op, requests);
    const description = [op.description, ACCESS_NOTE[op.access]].filter(Boolean).join('\n\n');
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description,
      tags: [op.tag],
      security: security(op),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(op, out),
    };
  }
  const schemas: Record<string, Json> = { ...out.components };
  for (const [name, s] of Object.entries(requests.components)) {
    if (schemas[name] && JSON.stringify(schemas[name]) !== JSON.stringify(s))
      throw new Error(`request and response schemas both named ${name} differ`);
    schemas[name] = s;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Job service API',
      version: '0.1.0',
      description:
        'Background jobs: create, follow, cancel, retry; LLM runs and batches; sources and files; signed callbacks. ' +
        'JSON in and out, snake_case, timestamps ISO 8601 in UTC with milliseconds. Errors are RFC 9457 problem documents. ' +
        'Unknown route: 404; wrong method on a known route: 405 with an `Allow` header. ' +
        'The `input` of a job is validated by the schema of its `task`: see the components named after each task (`SleepInput`, `AnthropicMessageInput`, ...).',
    },
    servers: [{ url: '/', description: 'The service that serves this document' }],
    security: KEY_OR_SESSION,
    tags: ['Jobs', 'Runs', 'Batches', 'Sources and files', 'Admin', 'Operations'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>`' },
        dashboardSession: {
          type: 'apiKey',
          in: 'cookie',
          name: ADMIN_COOKIE,
          description:
            'The operator dashboard session that /admin/login opens (what the jobs console uses in "dashboard session" mode): ' +
            'the request acts as the operator key that signed in, through the same checks. Counts only with `consoleHeader` on a ' +
            'same-origin request (`Sec-Fetch-Site: same-origin`, or an `Origin` of this host), and never when an `Authorization` header is sent. ' +
            'Signing out (/admin/logout), the session expiring, or the key being revoked ends it.',
        },
        consoleHeader: {
          type: 'apiKey',
          in: 'header',
          name: CONSOLE_HEADER,
          description: 'Must be `1`. A header a cross-site form cannot send: it is what lets the dashboard session cookie count.',
        },
      },
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
