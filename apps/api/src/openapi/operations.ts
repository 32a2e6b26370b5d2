import {
  AdminBatchJobSchema,
  ApiKeySchema,
  BatchItemSchema,
  CallbackAttemptSchema,
  ChunkSchema,
  CreatedApiKeySchema,
  FileSchema,
  HealthSchema,
  JobEventSchema,
  JobSchema,
  LivenessSchema,
  MessageSchema,
  OrganizationSchema,
  RedeliverySchema,
  SchedulerStatusSchema,
  SourceSchema,
  StepSchema,
  UserSchema,
  bulkCreateBodySchema,
  createApiKeyBodySchema,
  createJobBodySchema,
  createOrganizationBodySchema,
  createUserBodySchema,
  idOf,
  redeliverCallbacksBodySchema,
  updateOrganizationBodySchema,
} from '@jobs/core';
import { z } from 'zod';
import { listJobsQuerySchema, listRunMessagesQuerySchema, listRunStepsQuerySchema, listUsersQuerySchema } from '../query-schemas';
import { listKeysQuerySchema } from '../routes/admin';
import { createBatchBodySchema, listBatchItemsQuerySchema } from '../routes/batches';
import { jobEventsQuerySchema } from '../routes/jobs';
import { listBatchJobsQuerySchema } from '../routes/scheduler-admin';
import { createSourceBodySchema, listFilesQuerySchema, listSourcesQuerySchema } from '../routes/sources';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';
/** Who may call: nobody needs a key (`none`), any key (`member`), or at least that role. `metrics`: operator unless METRICS_PUBLIC. */
export type Access = 'none' | 'member' | 'admin' | 'operator' | 'metrics';
export type ResponseHeader = 'Location' | 'Link' | 'Retry-After';

export interface ResponseSpec {
  description: string;
  /** The JSON body; absent for a body that is not JSON (`contentType`). */
  schema?: z.ZodType;
  /** A body that is not JSON, documented as text: its media type and what it holds. */
  text?: { contentType: string; description: string };
  /** Also answered as Server-Sent Events when the client asks for `text/event-stream`: what the stream holds, and the `data` of its `event: status` frames. */
  eventStream?: { description: string; statusData: z.ZodType };
  headers?: ResponseHeader[];
}

export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path template, `{name}` for path parameters. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  /** Query parameters the route fixes itself (`job_type` under /api/runs), left out of the document. */
  omitQuery?: string[];
  body?: z.ZodType | 'multipart';
  /** Request headers the route reads. */
  idempotencyHeader?: boolean;
  responses: Record<number, ResponseSpec>;
  /** Problem statuses beyond those that follow from access, parameters and body. */
  errors?: number[];
  /** Problem statuses that follow from the rest but this route never answers. */
  noErrors?: number[];
  /** What a problem status means on this route, where it is more than the generic sentence. */
  errorNotes?: Record<number, string>;
}

const jobId = { id: idOf('job') };
const job = (description: string, headers?: ResponseHeader[]): ResponseSpec => ({
  description,
  schema: JobSchema,
  ...(headers ? { headers } : {}),
});
const page = <T extends z.ZodType>(description: string, item: T): ResponseSpec => ({
  description,
  schema: z.array(item),
  headers: ['Link'],
});
const PAGED =
  'Keyset pages: `order`, `limit`, `after`/`before` (ids of listed items). A full page carries `Link: <...>; rel="next"`.';

/** The job routes served under `/api/jobs`, and (reads only) under `/api/runs` and `/api/batches` for their job_type. */
function jobReads(base: string, noun: string, tag: string, jobType: 'job' | 'run' | 'batch'): OperationSpec[] {
  const omitQuery = jobType === 'job' ? [] : ['job_type'];
  const Noun = noun[0]!.toUpperCase() + noun.slice(1);
  const listDescription =
    'Newest first, as a bare JSON array; `input` and `result` larger than 16 KiB are replaced by `{"truncated": true, "bytes": n}`. ' +
    '`before` gives the `limit` items nearest before the cursor, in the chosen order; an unknown cursor id is a 400. ' +
    'A full page carries `Link: <...>; rel="next"` with every query parameter kept and `after` set to the last id. ' +
    '`created_after` and `created_before` (ISO 8601 with a zone) bound `created_at`, both inclusive.';
  return [
    {
      method: 'get',
      path: base,
      operationId: `list${Noun}s`,
      summary: `List ${noun}s`,
      description: listDescription,
      tag,
      access: 'member',
      query: listJobsQuerySchema,
      omitQuery,
      responses: { 200: page(`${Noun}s`, JobSchema) },
    },
    {
      method: 'get',
      path: `${base}/active`,
      operationId: `listActive${Noun}s`,
      summary: `List ${noun}s in created, pending or running, oldest first`,
      description: 'Same query as the list; a `status` filter narrows within those three.',
      tag,
      access: 'member',
      query: listJobsQuerySchema,
      omitQuery,
      responses: { 200: page(`Active ${noun}s`, JobSchema) },
    },
    {
      method: 'get',
      path: `${base}/{id}`,
      operationId: `get${Noun}`,
      summary: `Get a ${noun}`,
      tag,
      access: 'member',
      pathParams: jobId,
      responses: { 200: job(Noun) },
    },
  ];
}

/** Every route the API serves, with what it takes and answers: the source of the OpenAPI document and of the contract checks. */
export const OPERATIONS: OperationSpec[] = [
  {
    method: 'post',
    path: '/api/jobs',
    operationId: 'createJob',
    summary: 'Create a job',
    description:
      '`background: true` (default): 201 at once. `background: false`: waits at most `wait_ms` for a terminal status: 200 with the terminal Job, else 202 with the Job as it is. ' +
      'The same `idempotency_key` (body or `Idempotency-Key` header) in the organization within 24 h: 200 with the original Job; with another body: 409. ' +
      '`concurrency_key` with `concurrency_limit` (1..10000, required with a key, refused without one): at most that many jobs of the organization with this key run at once, across every worker.',
    tag: 'Jobs',
    access: 'member',
    body: createJobBodySchema,
    idempotencyHeader: true,
    responses: {
      200: job('The terminal Job (background: false), or the original Job of an idempotent replay', ['Location']),
      201: job('Created (status pending, or created if it could not be queued yet)', ['Location']),
      202: job('background: false and not terminal within wait_ms: the Job as it is; it goes on in the background', [
        'Location',
      ]),
    },
    errors: [409],
    errorNotes: {
      400: 'Invalid body: unknown task, input failing the task schema, unknown field, malformed JSON; `errors` names each field',
      409: 'The idempotency key was used with another body',
    },
  },
  ...jobReads('/api/jobs', 'job', 'Jobs', 'job'),
  {
    method: 'post',
    path: '/api/jobs/bulk',
    operationId: 'createJobsInBulk',
    summary: 'Create 1..1000 jobs at once, all or none',
    description:
      'Each item is a `POST /api/jobs` body, validated as one, except that `background: false` is refused. Any invalid item: 400 naming it (`jobs.3.input.ms`) and nothing created. ' +
      'An item whose `idempotency_key` was used with the same body answers the existing Job in its place. ' +
      'The body may be up to MAX_BULK_BODY_BYTES; each item carries its own `idempotency_key` (the `Idempotency-Key` header is refused).',
    tag: 'Jobs',
    access: 'member',
    body: bulkCreateBodySchema,
    responses: {
      201: {
        description: 'The Jobs in the order given (existing ones for idempotent replays)',
        schema: z.strictObject({ jobs: z.array(JobSchema) }),
      },
    },
    errors: [409],
    errorNotes: {
      400: 'Invalid body or item (`errors[].path` names the item: `jobs.3.input.ms`), or an `Idempotency-Key` header; nothing is created',
      409: "An item's idempotency key was used with another body; nothing is created",
      413: 'The body is larger than MAX_BULK_BODY_BYTES (or MAX_BODY_BYTES, where that is larger)',
    },
  },
  {
    method: 'patch',
    path: '/api/jobs/{id}/cancel',
    operationId: 'cancelJob',
    summary: 'Cancel a job',
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    responses: { 200: job('The cancelled Job (stop_reason cancelled, completed_at set)') },
    errors: [409],
    errorNotes: { 409: "Already terminal; `detail` names the Job's status" },
  },
  {
    method: 'post',
    path: '/api/jobs/{id}/retry',
    operationId: 'retryJob',
    summary: 'Run a failed, expired or cancelled job again (same id, back to pending)',
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    responses: {
      200: job(
        'The Job, pending again; completed_at, stop_reason, error, result, progress and the callback fields reset',
      ),
    },
    errors: [409],
    errorNotes: { 409: 'The Job is not failed, expired or cancelled' },
  },
  {
    method: 'delete',
    path: '/api/jobs/{id}',
    operationId: 'deleteJob',
    summary: 'Delete a job (a non-terminal one is cancelled first)',
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    responses: { 200: job('The deleted Job') },
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/events',
    operationId: 'listJobEvents',
    summary: "The job's status history, oldest first (JSON, or Server-Sent Events)",
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    query: jobEventsQuerySchema,
    responses: {
      200: {
        description: 'The status history; creation is the first event (`from: null, to: created`, attempt 0)',
        schema: z.array(JobEventSchema),
        eventStream: {
          statusData: JobEventSchema,
          description:
            'With `Accept: text/event-stream`: frames `event: status`, `id: <seq>`, `data: <JobEvent JSON>`; the history is replayed first, then live events; ' +
            'a comment line every 15 s keeps the connection open; the stream ends after the terminal event. With `progress=true` also `event: progress` frames (no id). ' +
            'A stream whose source fails after the headers ends with `event: error`, `data: <Problem JSON>`.',
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/callback/attempts',
    operationId: 'listJobCallbackAttempts',
    summary: "Every delivery attempt of the job's callbacks, oldest first",
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    responses: { 200: { description: 'Attempts', schema: z.array(CallbackAttemptSchema) } },
  },
  {
    method: 'post',
    path: '/api/jobs/{id}/callback/redeliver',
    operationId: 'redeliverJobCallback',
    summary: 'Replay the latest callback series (same webhook-id, fresh attempt budget)',
    tag: 'Jobs',
    access: 'member',
    pathParams: jobId,
    responses: { 202: job('The Job; the delivery is queued') },
    errors: [409],
    errorNotes: { 409: 'The Job has no callback_url, is not terminal, or has no callback series yet' },
  },

  ...jobReads('/api/runs', 'run', 'Runs', 'run'),
  {
    method: 'get',
    path: '/api/runs/{id}/messages',
    operationId: 'listRunMessages',
    summary: "A run's messages in conversation order",
    description: PAGED,
    tag: 'Runs',
    access: 'member',
    pathParams: jobId,
    query: listRunMessagesQuerySchema,
    responses: { 200: page('Messages', MessageSchema) },
  },
  {
    method: 'get',
    path: '/api/runs/{id}/steps',
    operationId: 'listRunSteps',
    summary: "A run's steps (LLM calls)",
    description: PAGED,
    tag: 'Runs',
    access: 'member',
    pathParams: jobId,
    query: listRunStepsQuerySchema,
    responses: { 200: page('Steps', StepSchema) },
  },
  {
    method: 'get',
    path: '/api/steps/{step_id}/messages',
    operationId: 'listStepMessages',
    summary: 'The messages of one step',
    description: PAGED,
    tag: 'Runs',
    access: 'member',
    pathParams: { step_id: idOf('step') },
    query: listRunMessagesQuerySchema,
    responses: { 200: page('Messages', MessageSchema) },
  },

  {
    method: 'post',
    path: '/api/batches',
    operationId: 'createBatch',
    summary: 'Create an LLM batch (a Job of job_type batch, task llm.batch)',
    description:
      '1..10000 requests with unique custom_ids. The Job\'s `result`, once completed: `{"total": n, "counts": {"succeeded": n, "errored": n, "canceled": n, "expired": n}}`.',
    tag: 'Batches',
    access: 'member',
    body: createBatchBodySchema,
    idempotencyHeader: true,
    responses: {
      200: job('Idempotent replay: the original batch Job', ['Location']),
      201: job('The created batch Job', ['Location']),
    },
    errors: [409],
    errorNotes: {
      409: 'The idempotency key was used with another body',
      503:
        'Either LLM batches are disabled by configuration (ENABLE_BATCH_JOB_POLLING=false; problem type .../llm-batches-disabled, no Retry-After: retrying will not help ' +
        'until an operator enables the poller; replays of earlier batches are still answered), or PostgreSQL/Redis is down (with Retry-After)',
    },
  },
  ...jobReads('/api/batches', 'batch', 'Batches', 'batch'),
  {
    method: 'get',
    path: '/api/batches/{id}/items',
    operationId: 'listBatchItems',
    summary: "A batch's items in request order",
    description: PAGED,
    tag: 'Batches',
    access: 'member',
    pathParams: jobId,
    query: listBatchItemsQuerySchema,
    responses: { 200: page('Items', BatchItemSchema) },
  },

  {
    method: 'post',
    path: '/api/sources',
    operationId: 'createSource',
    summary: 'Create a source',
    tag: 'Sources and files',
    access: 'member',
    body: createSourceBodySchema,
    responses: { 201: { description: 'The Source', schema: SourceSchema } },
  },
  {
    method: 'get',
    path: '/api/sources',
    operationId: 'listSources',
    summary: "The organization's sources, newest first",
    description: `An operator's own organization unless it passes organization_id. ${PAGED}`,
    tag: 'Sources and files',
    access: 'member',
    query: listSourcesQuerySchema,
    responses: { 200: page('Sources', SourceSchema) },
  },
  {
    method: 'get',
    path: '/api/sources/{id}',
    operationId: 'getSource',
    summary: 'Get a source',
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('source') },
    responses: { 200: { description: 'The Source', schema: SourceSchema } },
  },
  {
    method: 'delete',
    path: '/api/sources/{id}',
    operationId: 'deleteSource',
    summary: 'Delete a source with its files and chunks; processing still running is cancelled',
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('source') },
    responses: { 200: { description: 'The deleted Source', schema: SourceSchema } },
  },
  {
    method: 'post',
    path: '/api/sources/{id}/upload',
    operationId: 'uploadFile',
    summary: 'Upload a file and start its processing job',
    description: 'One `file` field: text, markdown, JSON, CSV, HTML or PDF, at most MAX_UPLOAD_BYTES.',
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('source') },
    body: 'multipart',
    responses: { 202: { description: 'The File, with the processing Job in job_id', schema: FileSchema } },
    errors: [415],
    errorNotes: {
      400: 'No multipart body, or no `file` field',
      413: 'The file is larger than MAX_UPLOAD_BYTES',
      415: 'Not one of the supported file types',
    },
  },
  {
    method: 'get',
    path: '/api/sources/{id}/files',
    operationId: 'listSourceFiles',
    summary: "The source's files, oldest first",
    description: `With check_status_updates=true, files past FILE_PROCESSING_TIMEOUT_MINUTES are first moved to error with the timeout message. ${PAGED}`,
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('source') },
    query: listFilesQuerySchema,
    responses: { 200: page('Files', FileSchema) },
  },
  {
    method: 'get',
    path: '/api/files/{id}',
    operationId: 'getFile',
    summary: 'Get a file with its status and progress',
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('file') },
    responses: { 200: { description: 'The File', schema: FileSchema } },
  },
  {
    method: 'get',
    path: '/api/files/{id}/chunks',
    operationId: 'listFileChunks',
    summary: "A file's chunks in order",
    tag: 'Sources and files',
    access: 'member',
    pathParams: { id: idOf('file') },
    responses: { 200: { description: 'Chunks', schema: z.array(ChunkSchema) } },
  },

  {
    method: 'post',
    path: '/api/admin/organizations',
    operationId: 'createOrganization',
    summary: 'Create an organization (operator)',
    tag: 'Admin',
    access: 'operator',
    body: createOrganizationBodySchema,
    responses: { 201: { description: 'The Organization', schema: OrganizationSchema } },
  },
  {
    method: 'get',
    path: '/api/admin/organizations/{id}',
    operationId: 'getOrganization',
    summary: 'Read an organization (its admin, or an operator)',
    tag: 'Admin',
    access: 'admin',
    pathParams: { id: idOf('org') },
    responses: { 200: { description: 'The Organization', schema: OrganizationSchema } },
  },
  {
    method: 'patch',
    path: '/api/admin/organizations/{id}',
    operationId: 'updateOrganization',
    summary: "Set an organization's fair share: weight and max_concurrency (operator)",
    description:
      'Workers take turns between organizations with work waiting, weighted by `weight` (1..100, default 1); `max_concurrency` bounds how many of its jobs run at once across every worker (null clears the bound). ' +
      'A field left out keeps its value; at least one must be given.',
    tag: 'Admin',
    access: 'operator',
    pathParams: { id: idOf('org') },
    body: updateOrganizationBodySchema,
    responses: { 200: { description: 'The Organization', schema: OrganizationSchema } },
    errors: [404],
    errorNotes: {
      400: 'Empty body, unknown field, or a value out of bounds; `errors` names each field',
      404: 'No such organization',
    },
  },
  {
    method: 'post',
    path: '/api/admin/organizations/{id}/webhook-secret/rotate',
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate the webhook secret (the old one keeps signing beside it for 24 h)',
    tag: 'Admin',
    access: 'admin',
    pathParams: { id: idOf('org') },
    responses: { 200: { description: 'The Organization with its new webhook_secret', schema: OrganizationSchema } },
  },
  {
    method: 'post',
    path: '/api/admin/users',
    operationId: 'createUser',
    summary: 'Create a user',
    tag: 'Admin',
    access: 'admin',
    body: createUserBodySchema,
    responses: { 201: { description: 'The User', schema: UserSchema } },
    errors: [404],
    errorNotes: { 404: 'No such organization for the caller' },
  },
  {
    method: 'get',
    path: '/api/admin/users',
    operationId: 'listUsers',
    summary: 'List users',
    description:
      'An admin: its organization\'s users; an operator: every organization\'s, or those of `organization_id`. ' +
      'Oldest first by default; keyset pages by `after`/`before` (user ids); a full page carries `Link: <...>; rel="next"`.',
    tag: 'Admin',
    access: 'admin',
    query: listUsersQuerySchema,
    responses: { 200: page('Users', UserSchema) },
  },
  {
    method: 'post',
    path: '/api/admin/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key',
    tag: 'Admin',
    access: 'admin',
    body: createApiKeyBodySchema,
    responses: { 201: { description: 'The key with its clear text, shown this once', schema: CreatedApiKeySchema } },
    errors: [404],
    errorNotes: { 403: 'Below admin, or an admin asking for an operator key', 404: 'No such user for the caller' },
  },
  {
    method: 'get',
    path: '/api/admin/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (without their clear text)',
    tag: 'Admin',
    access: 'admin',
    query: listKeysQuerySchema,
    responses: { 200: { description: 'API keys', schema: z.array(ApiKeySchema) } },
  },
  {
    method: 'delete',
    path: '/api/admin/api-keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key at once',
    tag: 'Admin',
    access: 'admin',
    pathParams: { id: idOf('key') },
    responses: { 200: { description: 'The revoked key (without its clear text)', schema: ApiKeySchema } },
  },
  {
    method: 'post',
    path: '/api/admin/callbacks/redeliver',
    operationId: 'redeliverCallbacks',
    summary: 'A new attempt budget for every callback series that ended undelivered since a time (same webhook-ids)',
    description:
      "`organization_id` absent: an admin's own organization, an operator's every organization. The series are queued again at once.",
    tag: 'Admin',
    access: 'admin',
    body: redeliverCallbacksBodySchema,
    responses: { 202: { description: 'How many series were queued again', schema: RedeliverySchema } },
    errors: [404],
    errorNotes: { 404: 'No such organization for the caller (another organization named by an admin included)' },
  },
  {
    method: 'get',
    path: '/api/admin/scheduler/status',
    operationId: 'getSchedulerStatus',
    summary: 'Scheduler leader, job schedulers, the last poll and the last runs of each handler',
    tag: 'Admin',
    access: 'admin',
    responses: { 200: { description: 'Scheduler status', schema: SchedulerStatusSchema } },
  },
  {
    method: 'get',
    path: '/api/admin/batch-jobs',
    operationId: 'listAdminBatchJobs',
    summary: 'LLM batches with their polling state (admin: own organization; operator: all)',
    description: 'Paged by `after` (a job id); a full page carries `Link: <...>; rel="next"`.',
    tag: 'Admin',
    access: 'admin',
    query: listBatchJobsQuerySchema,
    responses: { 200: page('Batch jobs', AdminBatchJobSchema) },
  },

  {
    method: 'get',
    path: '/api/health',
    operationId: 'getHealth',
    summary: 'Dependency health (no key needed)',
    tag: 'Operations',
    access: 'none',
    responses: {
      200: { description: 'Healthy', schema: HealthSchema },
      503: { description: 'Degraded (with Retry-After)', schema: HealthSchema, headers: ['Retry-After'] },
    },
  },
  {
    method: 'get',
    path: '/api/health/live',
    operationId: 'getLiveness',
    summary: 'Liveness: 200 while the process serves',
    tag: 'Operations',
    access: 'none',
    responses: { 200: { description: 'Alive', schema: LivenessSchema } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document (OpenAPI 3.1)',
    tag: 'Operations',
    access: 'none',
    responses: {
      200: {
        description: 'The OpenAPI document',
        text: { contentType: 'application/json', description: 'An OpenAPI 3.1 document' },
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (operator key, or open when METRICS_PUBLIC=true)',
    tag: 'Operations',
    access: 'metrics',
    responses: {
      200: {
        description: 'Prometheus text exposition format',
        text: { contentType: 'text/plain', description: 'Prometheus text format 0.0.4' },
      },
    },
  },
];

/** Routes the app serves that are not part of the REST API: the UIs and their login, documented in README.md. */
export const UNDOCUMENTED_ROUTES: { method: string; path: string; why: string }[] = [
  { method: 'get', path: '/docs', why: 'the browsable UI of this document' },
  { method: 'get', path: '/docs/init.js', why: 'the start-up script of that UI' },
  { method: 'get', path: '/admin/login', why: 'the Bull Board login form' },
  { method: 'post', path: '/admin/login', why: 'the Bull Board login form' },
  { method: 'get', path: '/admin/logout', why: 'the Bull Board session' },
  { method: 'post', path: '/admin/logout', why: 'the Bull Board session' },
];

/** Path prefixes served by mounted UIs (Bull Board, the /docs assets, the jobs console), outside the REST API. */
export const UNDOCUMENTED_PREFIXES = ['/admin/queues', '/docs/assets', '/console'];
