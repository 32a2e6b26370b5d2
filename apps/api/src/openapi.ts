import { createApiKeyBodySchema, createJobBodySchema, createOrganizationBodySchema, createUserBodySchema } from '@jobs/core';
import { listJobsQuerySchema, listRunMessagesQuerySchema, listRunStepsQuerySchema } from './query-schemas';
import { anthropicMessageParamsSchema } from '@jobs/tasks';
import { z } from 'zod';
import { createBatchBodySchema, listBatchItemsQuerySchema } from './routes/batches';
import { jobEventsQuerySchema } from './routes/jobs';
import { listBatchJobsQuerySchema } from './routes/scheduler-admin';
import { createSourceBodySchema, listFilesQuerySchema, listSourcesQuerySchema } from './routes/sources';

type Schema = Record<string, unknown>;

const json = (schema: z.ZodType, io: 'input' | 'output' = 'input'): Schema => z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;

const problem = { $ref: '#/components/schemas/Problem' };
const jobRef = { $ref: '#/components/schemas/Job' };
const sourceRef = { $ref: '#/components/schemas/Source' };
const fileRef = { $ref: '#/components/schemas/File' };
const ok = (description: string, schema: Schema = jobRef) => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Problem', content: { 'application/problem+json': { schema: problem } } }]));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const queryParams = (schema: z.ZodType) =>
  Object.entries((json(schema)['properties'] ?? {}) as Record<string, Schema>).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: json(schema) } } });

/** OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
export function openApiDocument(serverUrl: string): Schema {
  const listQuery = json(listJobsQuerySchema);
  const props = (listQuery['properties'] ?? {}) as Record<string, Schema>;
  const listParams = Object.entries(props).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
  return {
    openapi: '3.1.0',
    info: { title: 'Job service API', version: '0.1.0', description: 'Background jobs: create, follow, cancel, retry; signed callbacks.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Problem: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
        Job: { type: 'object', description: 'The Job object of API.md', additionalProperties: true },
        Source: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } } },
        File: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            source_id: { type: 'string' },
            name: { type: 'string' },
            mime_type: { type: 'string', enum: ['text/plain', 'text/markdown', 'application/json', 'text/csv', 'text/html', 'application/pdf'] },
            size_bytes: { type: 'integer' },
            status: { type: 'string', enum: ['pending', 'parsing', 'embedding', 'completed', 'error'] },
            error_message: { type: ['string', 'null'] },
            total_chunks: { type: ['integer', 'null'] },
            chunks_embedded: { type: 'integer' },
            job_id: { type: ['string', 'null'] },
            created_at: { type: 'string', format: 'date-time' },
            updated_at: { type: 'string', format: 'date-time' },
          },
        },
        AnthropicMessageInput: {
          ...json(anthropicMessageParamsSchema),
          description: 'The `input` of a job with task anthropic.message (a run): Anthropic Messages create params, strict',
        },
        Step: {
          type: 'object',
          description: 'One LLM call of a run',
          properties: {
            id: { type: 'string' },
            run_id: { type: 'string' },
            provider: { type: 'string' },
            model: { type: 'string' },
            stop_reason: { type: ['string', 'null'] },
            usage: { type: 'object', properties: { input_tokens: { type: 'integer' }, output_tokens: { type: 'integer' } }, additionalProperties: true },
            ttft_ns: { type: ['integer', 'null'] },
            duration_ns: { type: ['integer', 'null'] },
            created_at: { type: 'string' },
          },
        },
        Message: {
          type: 'object',
          description: 'A message of a run: an input message or the assistant reply; content is an array of content blocks',
          properties: { id: { type: 'string' }, run_id: { type: 'string' }, step_id: { type: ['string', 'null'] }, role: { type: 'string', enum: ['user', 'assistant'] }, content: {}, created_at: { type: 'string' } },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/jobs': {
        post: { summary: 'Create a job', requestBody: body(createJobBodySchema), responses: { '200': ok('Idempotent replay or synchronous result'), '201': ok('Created'), '202': ok('Still running after wait_ms'), ...errors(400, 401, 409, 413, 429, 503) } },
        get: { summary: 'List jobs', parameters: listParams, responses: { '200': ok('Jobs', { type: 'array', items: jobRef }), ...errors(400, 401) } },
      },
      '/api/jobs/active': { get: { summary: 'Jobs in created, pending or running', parameters: listParams, responses: { '200': ok('Jobs', { type: 'array', items: jobRef }) } } },
      '/api/jobs/{id}': {
        get: { summary: 'Get a job', parameters: [idParam], responses: { '200': ok('Job'), ...errors(400, 401, 404) } },
        delete: { summary: 'Delete a job (cancelling it first)', parameters: [idParam], responses: { '200': ok('Deleted job'), ...errors(400, 401, 404) } },
      },
      '/api/jobs/{id}/cancel': { patch: { summary: 'Cancel a job', parameters: [idParam], responses: { '200': ok('Cancelled job'), ...errors(400, 401, 404, 409) } } },
      '/api/jobs/{id}/retry': { post: { summary: 'Retry a failed, cancelled or expired job', parameters: [idParam], responses: { '200': ok('Job'), ...errors(400, 401, 404, 409) } } },
      '/api/jobs/{id}/callback/redeliver': {
        post: { summary: 'Replay the latest callback series (same webhook-id, fresh attempt budget)', parameters: [idParam], responses: { '202': ok('Job; the delivery is queued'), ...errors(400, 401, 404, 409, 503) } },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary:
            'Status history (JSON, or SSE with Accept: text/event-stream: event: status, id: <seq>, data: <event JSON> frames; with progress=true also event: progress frames without an id; a stream whose source fails after the headers ends with event: error, data a problem document)',
          parameters: [idParam, ...queryParams(jobEventsQuerySchema)],
          responses: { '200': ok('Events', { type: 'array' }), ...errors(400, 401, 404) },
        },
      },
      '/api/runs': { get: { summary: 'List runs (Jobs of job_type run, e.g. task anthropic.message)', parameters: listParams, responses: { '200': ok('Runs', { type: 'array', items: jobRef }), ...errors(400, 401) } } },
      '/api/runs/{id}': { get: { summary: 'Get a run', parameters: [idParam], responses: { '200': ok('Run'), ...errors(400, 401, 404) } } },
      '/api/runs/{id}/messages': {
        get: { summary: "A run's messages in conversation order, paginated", parameters: [idParam, ...queryParams(listRunMessagesQuerySchema)], responses: { '200': ok('Messages', { type: 'array', items: { $ref: '#/components/schemas/Message' } }), ...errors(400, 401, 404) } },
      },
      '/api/runs/{id}/steps': {
        get: { summary: "A run's steps (LLM calls), paginated", parameters: [idParam, ...queryParams(listRunStepsQuerySchema)], responses: { '200': ok('Steps', { type: 'array', items: { $ref: '#/components/schemas/Step' } }), ...errors(400, 401, 404) } },
      },
      '/api/steps/{step_id}/messages': {
        get: {
          summary: 'The messages of one step, paginated',
          parameters: [{ name: 'step_id', in: 'path', required: true, schema: { type: 'string' } }, ...queryParams(listRunMessagesQuerySchema)],
          responses: { '200': ok('Messages', { type: 'array', items: { $ref: '#/components/schemas/Message' } }), ...errors(400, 401, 404) },
        },
      },
      '/api/admin/organizations': { post: { summary: 'Create an organization (operator)', requestBody: body(createOrganizationBodySchema), responses: { '201': ok('Organization', { type: 'object' }), ...errors(400, 401, 403) } } },
      '/api/admin/organizations/{id}': { get: { summary: 'Read an organization', parameters: [idParam], responses: { '200': ok('Organization', { type: 'object' }), ...errors(401, 403, 404) } } },
      '/api/admin/organizations/{id}/webhook-secret/rotate': { post: { summary: 'Rotate the webhook secret', parameters: [idParam], responses: { '200': ok('Organization', { type: 'object' }) } } },
      '/api/admin/users': { post: { summary: 'Create a user', requestBody: body(createUserBodySchema), responses: { '201': ok('User', { type: 'object' }), ...errors(400, 401, 403, 404) } } },
      '/api/admin/api-keys': {
        post: { summary: 'Create an API key', requestBody: body(createApiKeyBodySchema), responses: { '201': ok('API key with its clear text', { type: 'object' }), ...errors(400, 401, 403, 404) } },
        get: { summary: 'List API keys', responses: { '200': ok('API keys', { type: 'array' }) } },
      },
      '/api/admin/api-keys/{id}': { delete: { summary: 'Revoke an API key', parameters: [idParam], responses: { '200': ok('API key', { type: 'object' }) } } },
      '/api/batches': {
        post: { summary: 'Create an LLM batch (a Job of job_type batch, task llm.batch)', requestBody: body(createBatchBodySchema), responses: {
            '200': ok('Idempotent replay: the original batch Job (answered whatever ENABLE_BATCH_JOB_POLLING says)'),
            '201': ok('Created batch Job'),
            ...errors(400, 401, 409, 413, 429),
            '503': {
              description:
                'Either LLM batches are disabled by configuration (ENABLE_BATCH_JOB_POLLING=false; problem type .../llm-batches-disabled, ' +
                'no Retry-After): a configuration state, not a transient outage, so retrying will not help until an operator enables ' +
                'the batch poller; replays of batches created earlier still get 200/409. Or PostgreSQL/Redis is down (problem type ' +
                '.../service-unavailable, with Retry-After).',
              content: { 'application/problem+json': { schema: problem } },
            },
          },
        },
        get: { summary: 'List batch Jobs', parameters: listParams, responses: { '200': ok('Batch Jobs', { type: 'array', items: jobRef }), ...errors(400, 401) } },
      },
      '/api/batches/{id}': { get: { summary: 'Get a batch Job', parameters: [idParam], responses: { '200': ok('Batch Job'), ...errors(400, 401, 404) } } },
      '/api/batches/{id}/items': {
        get: {
          summary: "A batch's items in request order, paginated",
          parameters: [idParam, ...queryParams(listBatchItemsQuerySchema)],
          responses: { '200': ok('Items', { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, custom_id: { type: 'string' }, status: { type: 'string', enum: ['created', 'submitted', 'succeeded', 'errored', 'canceled', 'expired'] }, result: {}, error: {}, updated_at: { type: 'string' } } } }), ...errors(400, 401, 404) },
        },
      },
      '/api/admin/scheduler/status': { get: { summary: 'Scheduler leader, job schedulers, the last poll and the last success of each handler (admin)', responses: { '200': ok('Scheduler status', { type: 'object' }), ...errors(401, 403, 503) } } },
      '/api/admin/batch-jobs': { get: { summary: 'LLM batches with polling state (admin: own organization; operator: all)', parameters: queryParams(listBatchJobsQuerySchema), responses: { '200': ok('Batch jobs', { type: 'array' }), ...errors(400, 401, 403) } } },
      '/api/sources': {
        post: { summary: 'Create a source', requestBody: body(createSourceBodySchema), responses: { '201': ok('Source', sourceRef), ...errors(400, 401) } },
        get: { summary: "The organization's sources, newest first (an operator's own organization unless it passes organization_id); paged by after/before like the jobs list, Link rel=\"next\" on a full page", parameters: queryParams(listSourcesQuerySchema), responses: { '200': ok('Sources', { type: 'array', items: sourceRef }), ...errors(400, 401) } },
      },
      '/api/sources/{id}': {
        get: { summary: 'Get a source', parameters: [idParam], responses: { '200': ok('Source', sourceRef), ...errors(400, 401, 404) } },
        delete: { summary: 'Delete a source with its files and chunks; processing still running is cancelled', parameters: [idParam], responses: { '200': ok('Deleted source', sourceRef), ...errors(400, 401, 404) } },
      },
      '/api/sources/{id}/upload': {
        post: {
          summary: 'Upload a file (text, markdown, JSON, CSV, HTML or PDF; at most MAX_UPLOAD_BYTES) and start its processing job',
          parameters: [idParam],
          requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } } } },
          responses: { '202': ok('The File, with the processing Job in job_id', fileRef), ...errors(400, 401, 404, 413, 415) },
        },
      },
      '/api/sources/{id}/files': {
        get: {
          summary: "The source's files, oldest first; paged by after/before like the jobs list (Link rel=\"next\" on a full page); with check_status_updates=true, files past FILE_PROCESSING_TIMEOUT_MINUTES are first moved to error",
          parameters: [idParam, ...queryParams(listFilesQuerySchema)],
          responses: { '200': ok('Files', { type: 'array', items: fileRef }), ...errors(400, 401, 404) },
        },
      },
      '/api/files/{id}': { get: { summary: 'Get a file with its status and progress', parameters: [idParam], responses: { '200': ok('File', fileRef), ...errors(400, 401, 404) } } },
      '/api/files/{id}/chunks': {
        get: { summary: "A file's chunks in order", parameters: [idParam], responses: { '200': ok('Chunks', { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, text: { type: 'string' }, embedding_dims: { type: 'integer' } } } }), ...errors(400, 401, 404) } },
      },
      '/api/health': { get: { summary: 'Dependency health', security: [], responses: { '200': ok('Healthy', { type: 'object' }), '503': ok('Degraded', { type: 'object' }) } } },
      '/api/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': ok('Alive', { type: 'object' }) } } },
    },
  };
}

/** A self-contained page listing the operations (no CDN: the docs work offline). */
export function docsPage(doc: Schema): string {
  const paths = doc['paths'] as Record<string, Record<string, { summary?: string }>>;
  const rows = Object.entries(paths)
    .flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => `<tr><td><code>${m.toUpperCase()}</code></td><td><code>${p}</code></td><td>${op.summary ?? ''}</td></tr>`))
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Job service API</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto}td{padding:4px 12px;border-bottom:1px solid #ddd}</style></head>
<body><h1>Job service API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
<table>${rows}</table></body></html>`;
}
