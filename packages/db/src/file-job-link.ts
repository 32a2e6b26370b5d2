import { isTerminal } from '@jobs/core';
import type { FileStore } from './file-store';
import type { JobStore } from './job-store';

export const FILE_PROCESS_TASK = 'file.process';

/**
 * A processing job that ends without completing (failed, cancelled, expired, worker lost) leaves its file in
 * `error` with the job's reason: the file never stays `parsing`/`embedding` behind a dead job. Guarded like every
 * file write, so a file that already ended (the timeout's own message, say) keeps its status and message.
 */
export function linkFilesToJobs(jobs: JobStore, files: FileStore, onError: (err: unknown) => void): void {
  jobs.onTransition(({ job }) => {
    if (job.task !== FILE_PROCESS_TASK || !isTerminal(job.status) || job.status === 'completed') return;
    const reason = job.error?.message ?? (job.status === 'cancelled' ? 'File processing was cancelled.' : `File processing ${job.status} (${job.stop_reason ?? 'no reason'}).`);
    files.failByJob(job.id, reason).catch(onError);
  });
}
