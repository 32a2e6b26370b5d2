import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '@jobs/core';
import { AccountStore, CallbackStore, FileStore, JobStore, checkPoolCapacity, createDb, linkFilesToJobs } from '@jobs/db';
import { EventLoopWatchdog, countTransitions, createLogger, registerSettingsSecrets, registry, setBackgroundErrorLogger, type Logger } from '@jobs/observability';
import { CallbackQueue, JobBus, JobQueue, MetricsPublisher, SchedulerStatusReader, createRedis, fairnessOf, redisTarget, type RedisClient as Redis } from '@jobs/queue';
import { enqueueCallbacksOnTransition, publishTransitions } from '@jobs/service';
import { builtinTasks } from '@jobs/tasks';
import { HostGuard } from '@jobs/outbound';
import { createApp } from './app';
import { callbackUrlChecker } from './callback-url-check';
import type { AppDeps } from './deps';

export interface ApiProcess {
  deps: AppDeps;
  server?: Server;
  /** Listens on `port` (0 = any free port) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Builds the API's dependencies from settings; `stop` finishes in-flight requests and closes every connection. */
export function createApiProcess(settings: Settings, logger?: Logger): ApiProcess {
  const log = logger ?? createLogger({ level: settings.LOG_LEVEL, service: 'api' });
  setBackgroundErrorLogger(log);
  registerSettingsSecrets(settings);
  const db = createDb(settings.DATABASE_URL, settings.DB_POOL_SIZE);
  const connections: Redis[] = [];
  const redis = (role: Parameters<typeof createRedis>[1]) => {
    const c = createRedis(redisTarget(settings), role);
    connections.push(c);
    return c;
  };
  const command = redis('command');
  const jobs = new JobStore(db);
  const subscriber = redis('subscriber');
  const bus = new JobBus(command, subscriber, settings.QUEUE_PREFIX);
  publishTransitions(jobs, bus, (err) => log.warn('event publish failed', { err: String(err) }));
  const accounts = new AccountStore(db);
  // Key cache: revocations reach every API process over the bus; after a subscriber reconnect (messages
  // may have been missed) the cache starts empty.
  accounts.onKeyRevoked((keyId) => bus.publishKeyRevoked(keyId));
  bus.on('key-revoked', (keyId: string) => accounts.keys.forgetKey(keyId));
  subscriber.on('ready', () => accounts.keys.clear());
  countTransitions(jobs);
  // A client's cancel or delete of a `file.process` job ends its file here.
  linkFilesToJobs(jobs, new FileStore(db), (err) => log.warn('could not end the file of a processing job', { err: String(err) }));
  const watchdog = new EventLoopWatchdog(log, {
    checkIntervalMs: settings.WATCHDOG_CHECK_INTERVAL_MS,
    timeoutMs: settings.WATCHDOG_TIMEOUT_MS,
    fields: { service: 'api' },
  });
  const metrics = new MetricsPublisher(command, settings.QUEUE_PREFIX, registry);
  // Cancel and delete write terminal transitions here, so their callbacks are queued from here too.
  const callbacks = { queue: new CallbackQueue(redis('producer'), settings.QUEUE_PREFIX, settings.CALLBACK_MAX_ATTEMPTS), store: new CallbackStore(db) };
  enqueueCallbacksOnTransition(jobs, callbacks.queue, (err, jobId) =>
    log.warn('callback enqueue failed; the sweep will queue it', { job_id: jobId, err: String(err) }),
  );
  const guard = new HostGuard({ allowPrivateNetworks: settings.CALLBACK_ALLOW_PRIVATE_NETWORKS });
  const stopping = new AbortController();
  const deps: AppDeps = {
    shutdown: stopping.signal,
    settings,
    logger: log,
    db,
    redis: command,
    jobs,
    accounts,
    queue: new JobQueue(redis('producer'), settings.QUEUE_PREFIX, fairnessOf(settings, (err) => log.warn('fair dispatch failed; the workers retry it', { err: String(err) }))),
    bus,
    tasks: builtinTasks(),
    schedulerStatus: new SchedulerStatusReader(command, settings.QUEUE_PREFIX, settings.POLL_LOCK_TTL_MS),
    checkCallbackUrl: callbackUrlChecker(guard),
    callbacks,
  };
  let closeApp = async (): Promise<void> => undefined;
  const proc: ApiProcess = {
    deps,
    async listen(port = settings.PORT, host = settings.HOST) {
      if (!(await checkPoolCapacity(db, settings.DB_POOL_SIZE, settings.EXPECTED_PROCESSES)))
        log.warn('PostgreSQL unreachable at start: the pool size check (DB_POOL_SIZE x EXPECTED_PROCESSES) was skipped');
      watchdog.start();
      metrics.start();
      if (settings.BOOTSTRAP_API_KEY) {
        const boot = await deps.accounts.bootstrap(settings.BOOTSTRAP_API_KEY);
        if (boot.revoked) log.warn('bootstrap key is revoked: BOOTSTRAP_API_KEY authenticates nothing until it is replaced', { key_id: boot.keyId });
      }
      // Not awaited: with Redis down the subscription waits for it (and ioredis renews it on reconnect);
      // meanwhile the API serves, waiters fall back to polling the row, and creates leave rows `created`.
      bus.subscribe({ events: true, keyRevoked: true }).catch((err: unknown) => log.warn('event subscription failed', { err: String(err) }));
      const { app, close } = createApp(deps);
      closeApp = close;
      const server = app.listen(port, host);
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
      server.keepAliveTimeout = 65_000;
      proc.server = server;
      const addr = server.address() as AddressInfo;
      const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;
      log.info('api listening', { url });
      return url;
    },
    async stop() {
      const server = proc.server;
      stopping.abort();
      if (server) {
        // Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // A keep-alive connection whose request finishes during shutdown turns idle afterwards; close those too.
        const sweepIdle = setInterval(() => server.closeIdleConnections(), 100);
        const force = setTimeout(() => server.closeAllConnections(), settings.SHUTDOWN_GRACE_MS).unref();
        await closed;
        clearInterval(sweepIdle);
        clearTimeout(force);
      }
      await metrics.stop();
      await closeApp();
      await deps.queue.close().catch(() => undefined);
      await deps.schedulerStatus?.close().catch(() => undefined);
      await callbacks.queue.close().catch(() => undefined);
      guard.destroy();
      for (const c of connections) c.disconnect();
      await db.$disconnect();
      await watchdog.stop();
    },
  };
  return proc;
}
