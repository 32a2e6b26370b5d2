import { promClient, registry } from './metrics';

/** Request latency by method, route template and status code; the raw path never becomes a label. */
export const httpRequestDuration = new promClient.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by method, route template (`unmatched` when no route answered) and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

/** How long a job waited for a worker once it was due: created (plus its delay) to its first attempt's start. */
export const jobQueueWait = new promClient.Histogram({
  name: 'jobsvc_job_queue_wait_seconds',
  help: 'Time from a job being due (created_at + delay_ms) to the start of its first attempt, by task',
  labelNames: ['task'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
  registers: [registry],
});

/**
 * The same wait by organization, to see fair dispatch at work. Organization ids are unbounded, so each process
 * labels the first ORGANIZATION_LABELS_MAX organizations it sees by id and counts every later one as `other`.
 */
export const organizationQueueWait = new promClient.Histogram({
  name: 'jobsvc_organization_queue_wait_seconds',
  help: 'Time from a job being due to the start of its first attempt, by organization (per process: the first 100 organizations seen by id, the rest as "other")',
  labelNames: ['organization'] as const,
  buckets: [0.005, 0.025, 0.1, 0.25, 1, 5, 30, 300, 3600],
  registers: [registry],
});

export const ORGANIZATION_LABELS_MAX = 100;
const labelledOrganizations = new Set<string>();

/** The label of an organization: its id while the process has labelled fewer than ORGANIZATION_LABELS_MAX. */
export function organizationLabel(id: string): string {
  if (labelledOrganizations.has(id)) return id;
  if (labelledOrganizations.size >= ORGANIZATION_LABELS_MAX) return 'other';
  labelledOrganizations.add(id);
  return id;
}

/** The slice of a job row the queue wait needs; structural, so observability stays free of the db package. */
interface StartedJob {
  status: string;
  task: string;
  organization_id: string;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  delay_ms: bigint | number | null;
}

export interface StartSource {
  onTransition(listener: (notice: { job: StartedJob }) => void): void;
}

/**
 * Observes jobsvc_job_queue_wait_seconds when this process starts a job's first attempt. Later attempts are
 * left out: their wait includes the backoff the job asked for. Both times are the database's, so clocks of
 * the API and worker hosts do not enter it.
 */
export function observeQueueWait(source: StartSource): void {
  source.onTransition(({ job }) => {
    if (job.status !== 'running' || job.attempts !== 1 || !job.started_at) return;
    const dueMs = job.created_at.getTime() + Number(job.delay_ms ?? 0);
    const wait = Math.max(0, job.started_at.getTime() - dueMs) / 1000;
    jobQueueWait.observe({ task: job.task }, wait);
    organizationQueueWait.observe({ organization: organizationLabel(job.organization_id) }, wait);
  });
}
