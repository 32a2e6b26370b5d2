import { hostname } from 'node:os';
import type { Settings } from '@jobs/core';
import { AccountStore, BatchStore, FileStore, JobRetentionStore, JobStore, ReconcilerStore, checkPoolCapacity, createDb, linkFilesToJobs, type Db } from '@jobs/db';
import { EventLoopWatchdog, countTransitions, createLogger, observeQueueWait, registerSettingsSecrets, registry, setBackgroundErrorLogger, startHealthFile, type Logger } from '@jobs/observability';
import { JobBus, JobQueue, MetricsPublisher, createRedis, fairnessOf, redisTarget, type RedisClient as Redis } from '@jobs/queue';
import { publishTransitions } from '@jobs/service';
import { FilePipelinePool, builtinTasks, createAnthropicClient, type FileProcessingClients, type TaskClients, type TaskRegistry } from '@jobs/tasks';
import { HostGuard } from '@jobs/outbound';
import { expireOverdueLlmBatches } from './batches/expire-llm-batches';
import { createCallbackDelivery, type CallbackDelivery } from './callbacks/callback-delivery';
import { createEmbedder } from './files/create-embedder';
import { timeOutFiles } from './files/file-timeouts';
import { JobRunner } from './job-runner';
import { runJobRetention } from './retention/job-retention';
import { createScheduler } from './scheduler/create-scheduler';
import type { Scheduler } from './scheduler/scheduler';
import { Reconciler } from './reconciler';
import { FairTick } from './fair-tick';

/** Everything one worker process runs, built from settings; `stop` releases every connection it opened. */
export interface WorkerProcess {
  runner: JobRunner;
  /** Leader election and the leader-only scheduled jobs (SPEC F7). */
  scheduler: Scheduler;
  /** The reconciler; the scheduler's leader runs `sweepOnce()` every SWEEP_INTERVAL_MS (plus one sweep at start). */
  reconciler: Reconciler;
  /** The tasks this worker runs (tests register their own here). */
  tasks: TaskRegistry;
  jobs: JobStore;
  db: Db;
  logger: Logger;
  /** The event-loop watchdog (SPEC F12); its hang reports name the jobs this process was running. */
  watchdog: EventLoopWatchdog;
  /** Callback delivery (F6): the `callbacks` queue, its worker and the sweep step. */
  callbacks: CallbackDelivery;
  /** The thread pool of `file.process` (SPEC F10), closed by `stop`. */
  filePipeline: FilePipelinePool;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWorkerProcess(settings: Settings, logger?: Logger): WorkerProcess {
  const workerId = settings.WORKER_ID ?? `${hostname()}-${process.pid}`;
  // Every line this process writes names the worker, not only the lines about a job.
  const log = (logger ?? createLogger({ level: settings.LOG_LEVEL, service: 'worker' })).child({ worker_id: workerId });
  setBackgroundErrorLogger(log);
  registerSettingsSecrets(settings);
  const db = createDb(settings.DATABASE_URL, settings.DB_POOL_SIZE);
  const jobs = new JobStore(db);
  const connections: Redis[] = [];
  const redis = (role: Parameters<typeof createRedis>[1]) => {
    const c = createRedis(redisTarget(settings), role);
    connections.push(c);
    return c;
  };
  const bus = new JobBus(redis('worker'), redis('subscriber'), settings.QUEUE_PREFIX);
  publishTransitions(jobs, bus, (err) => log.warn('event publish failed', { err: String(err) }));
  const anthropic = createAnthropicClient(settings);
  const batches = new BatchStore(db);
  // First attempts and the callbacks consumer each POST up to CALLBACK_CONCURRENCY at once, often to one receiver:
  // that many idle connections are kept, so a burst does not close them and reconnect.
  const guard = new HostGuard({ allowPrivateNetworks: settings.CALLBACK_ALLOW_PRIVATE_NETWORKS, maxFreeSockets: 2 * settings.CALLBACK_CONCURRENCY });
  const files = new FileStore(db);
  const filePipeline = new FilePipelinePool(settings.effectiveThreadpoolWorkers);
  const fileProcessing: FileProcessingClients = {
    store: files,
    pipeline: filePipeline,
    embedder: createEmbedder(settings, filePipeline),
    chunkSize: settings.CHUNK_SIZE,
    chunkOverlap: settings.CHUNK_OVERLAP,
  };
  const clients: TaskClients = {
    fileProcessing,
    llmBatches: batches,
    ...(anthropic ? { anthropic } : {}),
    checkOutboundUrl: async (url) => void guard.checkLiteral(url),
    outboundAgents: { httpAgent: guard.httpAgent, httpsAgent: guard.httpsAgent },
  };
  const callbacks = createCallbackDelivery(settings, { db, jobs, guard, logger: log, redis });
  const tasks = builtinTasks();
  // Producer connection: fails fast while Redis is down, so a sweep errors out instead of hanging. With fair
  // scheduling on it also stages retries and dispatches (SPEC F16).
  const sweepQueue = new JobQueue(redis('producer'), settings.QUEUE_PREFIX, fairnessOf(settings, (err) => log.warn('fair dispatch failed; the tick retries', { err: String(err) })));
  const runner = new JobRunner(jobs, tasks, bus, clients, log, {
    connection: redis('worker'),
    prefix: settings.QUEUE_PREFIX,
    concurrency: settings.WORKER_CONCURRENCY,
    lockDurationMs: settings.LOCK_DURATION_MS,
    stalledIntervalMs: settings.STALLED_INTERVAL_MS,
    maxStalledCount: settings.MAX_STALLED_COUNT,
    workerId,
    ...(sweepQueue.fair ? { fair: sweepQueue.fair } : {}),
  });
  const accounts = new AccountStore(db);
  const fairTick = sweepQueue.fair
    ? new FairTick(sweepQueue.fair, {
        workerId,
        concurrency: settings.WORKER_CONCURRENCY,
        intervalMs: settings.FAIR_TICK_MS,
        loadSettings: () => accounts.fairnessSettings(),
        settingsEveryMs: 5000,
        logger: log,
      })
    : undefined;
  countTransitions(jobs);
  observeQueueWait(jobs);
  linkFilesToJobs(jobs, files, (err) => log.warn('could not end the file of a processing job', { err: String(err) }));
  const watchdog = new EventLoopWatchdog(log, {
    checkIntervalMs: settings.WATCHDOG_CHECK_INTERVAL_MS,
    timeoutMs: settings.WATCHDOG_TIMEOUT_MS,
    runningJobIds: () => runner.runningJobIds(),
    fields: { service: 'worker', worker_id: runner.workerId },
  });
  jobs.onTransition(({ job }) => (job.status === 'running' ? watchdog.jobStarted(job.id) : watchdog.jobFinished(job.id)));
  // Its own fail-fast connection: a snapshot that cannot be written during an outage is skipped, not queued.
  let healthFile: { stop(): void } | undefined;
  const metrics = new MetricsPublisher(redis('command'), settings.QUEUE_PREFIX, registry);
  const reconciler = new Reconciler(new ReconcilerStore(db), jobs, sweepQueue, log, { workerId: runner.workerId, maxStalledCount: settings.MAX_STALLED_COUNT });
  reconciler.addStep({ name: 'callbacks', run: () => callbacks.sweep() });
  reconciler.addStep({ name: 'file_timeouts', run: () => timeOutFiles(settings, { files, jobs, bus, queue: sweepQueue, logger: log }) });
  reconciler.addStep({ name: 'llm_batch_expiry', run: () => expireOverdueLlmBatches({ batches, jobs, logger: log, workerId: runner.workerId, ...(anthropic ? { anthropic } : {}) }) });
  // Last: the other steps repair live work; retention only tidies, and a long backlog is bounded per run.
  const retention = new JobRetentionStore(db);
  reconciler.addStep({
    name: 'retention',
    run: () => runJobRetention(retention, log, { retentionDays: settings.JOB_RETENTION_DAYS, batchSize: settings.JOB_RETENTION_BATCH_SIZE }),
  });
  const scheduler = createScheduler({ settings, logger: log, jobs, batches, anthropic, instanceId: runner.workerId, redis, reconciler });
  let startupSweep: Promise<void> = Promise.resolve();

  return {
    runner,
    scheduler,
    reconciler,
    tasks,
    jobs,
    db,
    logger: log,
    watchdog,
    callbacks,
    filePipeline,
    async start() {
      if (!(await checkPoolCapacity(db, settings.DB_POOL_SIZE, settings.EXPECTED_PROCESSES)))
        log.warn('PostgreSQL unreachable at start: the pool size check (DB_POOL_SIZE x EXPECTED_PROCESSES) was skipped');
      watchdog.start();
      metrics.start();
      healthFile = settings.HEALTH_FILE ? startHealthFile(settings.HEALTH_FILE) : undefined;
      await bus.subscribe({ cancel: true });
      runner.start();
      fairTick?.start();
      callbacks.start();
      scheduler.start();
      // One sweep per process at start, leader or not (sweeps are idempotent and safe in parallel): a worker
      // that starts after a crash repairs at once instead of waiting for the leader's next interval.
      startupSweep = reconciler.sweepOnce().then(
        () => undefined,
        (err: unknown) => {
          log.warn('startup sweep failed; the leader sweeps every interval', { err: String(err) });
        },
      );
      log.info('worker started', { worker_id: runner.workerId, concurrency: settings.WORKER_CONCURRENCY, queue_prefix: settings.QUEUE_PREFIX });
    },
    async stop() {
      // Release leadership first, so a follower takes over without waiting for the lock's ttl.
      await scheduler.stop();
      await startupSweep;
      await runner.close(settings.SHUTDOWN_GRACE_MS);
      await fairTick?.stop();
      await filePipeline.close();
      await metrics.stop();
      await sweepQueue.close().catch(() => undefined);
      await callbacks.close();
      guard.destroy();
      for (const c of connections) c.disconnect();
      await db.$disconnect();
      healthFile?.stop();
      await watchdog.stop();
      log.info('worker stopped', { worker_id: runner.workerId });
    },
  };
}
