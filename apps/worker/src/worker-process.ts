import type { Settings } from '@jobs/core';
import { JobManager, SweepStore, createDb, type Db } from '@jobs/db';
import { EventLoopWatchdog, countTransitions, createLogger, registry, startHealthFile, type Logger } from '@jobs/observability';
import { JobBus, JobQueue, MetricsPublisher, createRedis, publishTransitions } from '@jobs/queue';
import { builtinTasks, type TaskClients, type TaskRegistry } from '@jobs/tasks';
import type { Redis } from 'ioredis';
import { JobRunner } from './job-runner';
import { startSweepLoop, type SweepLoop } from './sweep-loop';
import { Sweeper } from './sweeper';

/** Everything one worker process runs, built from settings; `stop` releases every connection it opened. */
export interface WorkerProcess {
  runner: JobRunner;
  /** The reconciler; `sweepOnce()` is the entry point a scheduler may call instead of the built-in loop. */
  sweeper: Sweeper;
  /** The tasks this worker runs (tests register their own here). */
  tasks: TaskRegistry;
  jobs: JobManager;
  db: Db;
  logger: Logger;
  /** The event-loop watchdog (SPEC F12); its hang reports name the jobs this process was running. */
  watchdog: EventLoopWatchdog;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWorkerProcess(settings: Settings, logger?: Logger): WorkerProcess {
  const log = logger ?? createLogger({ level: settings.LOG_LEVEL, service: 'worker' });
  const db = createDb(settings.DATABASE_URL, settings.DB_POOL_SIZE);
  const jobs = new JobManager(db);
  const connections: Redis[] = [];
  const redis = (role: Parameters<typeof createRedis>[1]) => {
    const c = createRedis(settings.REDIS_URL, role);
    connections.push(c);
    return c;
  };
  const bus = new JobBus(redis('worker'), redis('subscriber'), settings.QUEUE_PREFIX);
  publishTransitions(jobs, bus, (err) => log.warn('event publish failed', { err: String(err) }));
  const clients: TaskClients = {};
  const tasks = builtinTasks();
  const runner = new JobRunner(jobs, tasks, bus, clients, log, {
    connection: redis('worker'),
    prefix: settings.QUEUE_PREFIX,
    concurrency: settings.WORKER_CONCURRENCY,
    lockDurationMs: settings.LOCK_DURATION_MS,
    stalledIntervalMs: settings.STALLED_INTERVAL_MS,
    ...(settings.WORKER_ID ? { workerId: settings.WORKER_ID } : {}),
  });
  countTransitions(jobs);
  const watchdog = new EventLoopWatchdog(log, {
    checkIntervalMs: settings.WATCHDOG_CHECK_INTERVAL_MS,
    timeoutMs: settings.WATCHDOG_TIMEOUT_MS,
    runningJobIds: () => runner.runningJobIds(),
    fields: { service: 'worker', worker_id: runner.workerId },
  });
  jobs.onTransition(({ job }) => (job.status === 'running' ? watchdog.jobStarted(job.id) : watchdog.jobFinished(job.id)));
  // Its own fail-fast connection: a snapshot that cannot be written during an outage is skipped, not queued.
  let healthFile: { stop(): void } | undefined;
  const metrics = new MetricsPublisher(redis('command'), settings.QUEUE_PREFIX, registry, { onError: () => undefined });
  // Producer connection: fails fast while Redis is down, so a sweep errors out instead of hanging.
  const sweepQueue = new JobQueue(redis('producer'), settings.QUEUE_PREFIX);
  const sweeper = new Sweeper(new SweepStore(db), jobs, sweepQueue, log, { workerId: runner.workerId });
  let sweepLoop: SweepLoop | undefined;

  return {
    runner,
    sweeper,
    tasks,
    jobs,
    db,
    logger: log,
    watchdog,
    async start() {
      watchdog.start();
      metrics.start();
      healthFile = settings.HEALTH_FILE ? startHealthFile(settings.HEALTH_FILE) : undefined;
      await bus.subscribe({ cancel: true });
      runner.start();
      sweepLoop = startSweepLoop(sweeper, settings.SWEEP_INTERVAL_MS, log);
      log.info('worker started', { worker_id: runner.workerId, concurrency: settings.WORKER_CONCURRENCY, queue_prefix: settings.QUEUE_PREFIX });
    },
    async stop() {
      await sweepLoop?.stop();
      await runner.close(settings.SHUTDOWN_GRACE_MS);
      await metrics.stop();
      await sweepQueue.close().catch(() => undefined);
      for (const c of connections) c.disconnect();
      await db.$disconnect();
      healthFile?.stop();
      await watchdog.stop();
      log.info('worker stopped', { worker_id: runner.workerId });
    },
  };
}
