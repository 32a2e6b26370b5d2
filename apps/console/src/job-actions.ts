import { isTerminal, type Job } from '@jobs/client';

/** Which of a job's buttons the API's rules allow now (API.md: cancel, retry, callback redeliver). */
export function allowedActions(job: Pick<Job, 'status' | 'callback_url'>): {
  cancel: boolean;
  retry: boolean;
  redeliver: boolean;
} {
  return {
    cancel: !isTerminal(job.status),
    retry: ['failed', 'expired', 'cancelled'].includes(job.status),
    redeliver: isTerminal(job.status) && Boolean(job.callback_url),
  };
}
