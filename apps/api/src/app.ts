import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import type { AppDeps } from './deps';
import { JobCommands } from './job-commands';
import { authenticate } from './middleware/auth';
import { securityHeaders } from './middleware/security-headers';
import { rateLimit } from './middleware/rate-limit';
import { jsonDepthLimit } from './middleware/json-depth';
import { httpMetrics } from './middleware/http-metrics';
import { notFoundHandler, problemHandler } from './middleware/problem';
import { requestContext, resumeRequestContext } from './middleware/request-context';
import { openApiDocument } from './openapi/document';
import { DOCUMENT_PATH, docsRoutes } from './openapi/docs-ui';
import { consoleRoutes } from './console/console-ui';
import { RouteTable } from './route-table';
import { AdminSessions } from './board/admin-sessions';
import { dashboardSessionAuth } from './board/api-session';
import { mountBullBoard } from './board/mount-board';
import { QueueDepths } from './metrics/queue-depths';
import { openServiceQueues } from './service-queues';
import { adminRoutes } from './routes/admin';
import { batchRoutes } from './routes/batches';
import { schedulerAdminRoutes } from './routes/scheduler-admin';
import { sourceRoutes } from './routes/sources';
import { callbackRoutes } from './routes/callbacks';
import { callbackLogRoutes } from './routes/callback-log';
import { jobRoutes } from './routes/jobs';
import { bulkJobRoutes } from './routes/jobs-bulk';
import { operationsRoutes } from './routes/operations';
import { runRoutes } from './routes/runs';

/** Builds the Express app from its dependencies; listening is the caller's business. */
export function createApp(deps: AppDeps): { app: Express; commands: JobCommands; routes: RouteTable; close: () => Promise<void> } {
  const app = express();
  const table = new RouteTable();
  const commands = new JobCommands(deps);
  app.disable('x-powered-by');
  app.set('etag', false);
  // Off unless configured: otherwise any client could set its own address with X-Forwarded-For.
  app.set('trust proxy', deps.settings.TRUST_PROXY);
  app.use(securityHeaders({ contentSecurityPolicy: false }));
  app.use(requestContext(deps.logger));
  app.use(httpMetrics());
  // Parsed here first, with its own limit; the general parser below then leaves the body alone.
  app.use('/api/batches', express.json({ limit: Math.max(deps.settings.MAX_BATCH_BODY_BYTES, deps.settings.MAX_BODY_BYTES), strict: true, type: ['application/json', 'application/*+json'] }));
  app.use('/api/jobs/bulk', express.json({ limit: Math.max(deps.settings.MAX_BULK_BODY_BYTES, deps.settings.MAX_BODY_BYTES), strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(express.json({ limit: deps.settings.MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(resumeRequestContext());
  app.use(jsonDepthLimit(deps.settings.MAX_JSON_DEPTH));

  const doc = openApiDocument(deps.tasks);
  table.add(app as unknown as express.Router, 'get', DOCUMENT_PATH, (_req, res) => res.json(doc));
  app.use(docsRoutes(table));
  app.use(consoleRoutes());
  const queues = openServiceQueues(deps.redis, deps.settings.QUEUE_PREFIX);
  app.use(operationsRoutes(deps, table, new QueueDepths(queues.list)));
  const sessions = new AdminSessions(deps.redis, deps.settings.QUEUE_PREFIX);
  mountBullBoard(app, deps, table, queues.list, sessions);

  // A Bearer key, or the operator dashboard session on the console's same-origin requests.
  const auth = authenticate(deps.accounts, dashboardSessionAuth(deps.accounts, sessions));
  app.use('/api', cookieParser());
  app.use('/api', (req, res, next) => (req.path.startsWith('/health') || `/api${req.path}` === DOCUMENT_PATH ? next() : auth(req, res, next)));
  app.use('/api', rateLimit({ redis: deps.redis, perSecond: deps.settings.RATE_LIMIT_PER_SECOND, prefix: deps.settings.QUEUE_PREFIX, logger: deps.logger }));
  app.use(bulkJobRoutes(deps, table));
  app.use(jobRoutes(deps, commands, table));
  app.use(runRoutes(deps, table));
  app.use(jobRoutes(deps, commands, table, '/api/runs', 'run'));
  app.use(adminRoutes(deps, table));
  app.use(batchRoutes(deps, commands, table));
  app.use(schedulerAdminRoutes(deps, table));
  app.use(callbackRoutes(deps, table));
  app.use(callbackLogRoutes(deps, table));
  app.use(sourceRoutes(deps, commands, table));

  app.use(notFoundHandler(table.entries));
  app.use(problemHandler(deps.logger));
  return { app, commands, routes: table, close: () => queues.close() };
}
