import client from 'prom-client';

/** One registry per process; modules register their metrics on it at import time. */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const jobOutcomes = new client.Counter({
  name: 'jobsvc_job_transitions_total',
  help: 'Job status transitions written, by target status and task',
  labelNames: ['to', 'task'] as const,
  registers: [registry],
});

export const jobDuration = new client.Histogram({
  name: 'jobsvc_job_duration_seconds',
  help: 'Time from attempt start to terminal status, by task and status',
  labelNames: ['task', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [registry],
});

/** Handlers still running after their attempt ended (they ignored its AbortSignal); each holds a worker slot. */
export const abandonedHandlers = new client.Gauge({
  name: 'jobsvc_abandoned_handlers',
  help: 'Handlers that ignored their abort signal and still run, each holding a slot of WORKER_CONCURRENCY',
  registers: [registry],
});

export const abandonedHandlersTotal = new client.Counter({
  name: 'jobsvc_abandoned_handlers_total',
  help: 'Handlers that went on running after their attempt was aborted, by task and cause (timeout, cancelled, superseded)',
  labelNames: ['task', 'cause'] as const,
  registers: [registry],
});

export const callbackDeliveries = new client.Counter({
  name: 'jobsvc_callback_deliveries_total',
  help: 'Callback delivery attempts by outcome (delivered, retry, gone, refused, exhausted)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const queueDepth = new client.Gauge({
  name: 'jobsvc_queue_jobs',
  help: 'BullMQ jobs by queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

/**
 * Fair dispatch (SPEC F16): jobs waiting in staging (ready or behind a full key) and running, per organization
 * that has any, measured from Redis at scrape. One series per such organization and state.
 */
export const organizationJobs = new client.Gauge({
  name: 'jobsvc_organization_jobs',
  help: 'Jobs waiting for their turn (staged) and running under fair dispatch, by organization (only organizations with any)',
  labelNames: ['organization', 'state'] as const,
  registers: [registry],
});

export const leaderGauge = new client.Gauge({
  name: 'jobsvc_scheduler_leader',
  help: '1 while this process holds the scheduler lock',
  registers: [registry],
});

export const pollerCycles = new client.Counter({
  name: 'jobsvc_llm_batch_poll_cycles_total',
  help: 'LLM batch poll cycles by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const eventLoopLag = new client.Gauge({
  name: 'jobsvc_event_loop_lag_seconds',
  help: 'Event loop lag measured by the watchdog',
  registers: [registry],
});

export const eventLoopSaturations = new client.Counter({
  name: 'jobsvc_event_loop_saturations_total',
  help: 'Heartbeats of the watchdog that came more than 2 s late (event loop saturated)',
  registers: [registry],
});

export const eventLoopHangs = new client.Counter({
  name: 'jobsvc_event_loop_hangs_total',
  help: 'Event loop hangs detected by the watchdog',
  registers: [registry],
});

export { client as promClient };

export const pollerDuration = new client.Histogram({
  name: 'jobsvc_llm_batch_poll_duration_seconds',
  help: 'Duration of one LLM batch poll cycle',
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 15, 60, 300],
  registers: [registry],
});

export const pollerBatches = new client.Counter({
  name: 'jobsvc_llm_batches_polled_total',
  help: 'LLM batches polled, by result (in_progress, canceling, ended, error)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const pollerItemsUpdated = new client.Counter({
  name: 'jobsvc_llm_batch_items_updated_total',
  help: 'LLM batch item rows updated from provider results',
  registers: [registry],
});

/** Service-wide, read from Redis by the API at scrape time: alert on `time() - this` growing past a few intervals. */
export const schedulerLastSuccess = new client.Gauge({
  name: 'jobsvc_scheduler_last_success_timestamp_seconds',
  help: 'Unix time of the last successful run of each scheduled handler, whichever process ran it',
  labelNames: ['name'] as const,
  registers: [registry],
});

export const schedulerRuns = new client.Counter({
  name: 'jobsvc_scheduler_runs_total',
  help: 'Scheduled handler runs by name and outcome (ok, error, skipped)',
  labelNames: ['name', 'outcome'] as const,
  registers: [registry],
});

export const backgroundErrors = new client.Counter({
  name: 'jobsvc_background_errors_total',
  help: 'Errors no request or job reports (Redis/Postgres connection errors, failed metrics publishes, transition listeners that threw), by source',
  labelNames: ['source'] as const,
  registers: [registry],
});

/** Time of each file pipeline stage: `parse` (extraction and chunking, on the pool) and `embed` (all batches). */
export const fileStageDuration = new client.Histogram({
  name: 'jobsvc_file_stage_seconds',
  help: 'Duration of a file processing stage (parse, embed) by file type',
  labelNames: ['stage', 'mime_type'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 15, 60, 300, 1800],
  registers: [registry],
});

export const fileBytesProcessed = new client.Counter({
  name: 'jobsvc_file_bytes_parsed_total',
  help: 'Bytes of uploads parsed, by file type',
  labelNames: ['mime_type'] as const,
  registers: [registry],
});

export const fileChunksEmbedded = new client.Counter({
  name: 'jobsvc_file_chunks_embedded_total',
  help: 'Chunks embedded and stored, by embedder',
  labelNames: ['embedder'] as const,
  registers: [registry],
});
