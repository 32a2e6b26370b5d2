import { fileTimeoutMessage, type Settings } from '@jobs/core';
import type { FileStore, JobStore } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import type { JobBus, JobQueue } from '@jobs/queue';

export interface FileTimeoutDeps {
  files: FileStore;
  jobs: JobStore;
  bus: JobBus;
  queue: JobQueue;
  logger: Logger;
}

/**
 * The sweep's half of the seed's timeout: files not terminal FILE_PROCESSING_TIMEOUT_MINUTES after creation move
 * to `error` with the message, then their jobs are cancelled (stop_reason `timeout`) and the attempt running
 * one is told to stop, so its AbortSignal fires. The file is written first: its message is the timeout's.
 */
export async function timeOutFiles(settings: Settings, deps: FileTimeoutDeps): Promise<number> {
  const minutes = settings.FILE_PROCESSING_TIMEOUT_MINUTES;
  const timedOut = await deps.files.timeOutOverdue(minutes, fileTimeoutMessage(settings.FILE_PROCESSING_TIMEOUT_ERROR_MESSAGE, minutes));
  for (const f of timedOut) {
    if (!f.job_id) continue;
    const job = await deps.jobs.transition(f.job_id, 'cancelled', { from: ['created', 'pending', 'running'], reason: 'file processing timed out', stopReason: 'timeout' });
    if (!job) continue;
    await Promise.all([deps.queue.removeIfWaiting(job.id), deps.bus.publishCancel({ job_id: job.id, attempt: job.attempts, reason: 'timeout' })]).catch((err: unknown) =>
      deps.logger.warn('cancel of a timed-out file job not delivered; the worker sees the row at its next check', { job_id: job.id, err: String(err) }),
    );
  }
  if (timedOut.length > 0) deps.logger.warn('file processing timed out', { files: timedOut.map((f) => f.id), minutes });
  return timedOut.length;
}
