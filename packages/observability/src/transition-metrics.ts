import { jobOutcomes } from './metrics';

/** The slice of JobStore this needs; structural, so observability stays free of the db package. */
export interface TransitionSource {
  onTransition(listener: (notice: { job: { status: string; task: string } }) => void): void;
}

/** Counts every status write this process wins (jobsvc_job_transitions_total{to,task}). */
export function countTransitions(source: TransitionSource): void {
  source.onTransition(({ job }) => jobOutcomes.inc({ to: job.status, task: job.task }));
}
