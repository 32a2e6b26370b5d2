import type { components, paths } from './generated/api';

export type { components, paths };

type Schemas = components['schemas'];

/**
 * The Job object of API.md (also a run and an LLM batch). The served document describes it loosely for now,
 * so its fields are named here.
 */
export type Job = Schemas['Job'] & {
  id: string;
  task: string;
  status: string;
  attempts: number;
  max_attempts: number;
  progress: { percent: number; message: string | null } | null;
  result: unknown;
  error: { message: string; code?: string } | null;
  stop_reason: string | null;
  created_at: string;
  completed_at: string | null;
};

/** One status transition of a job, as the events stream and history carry it (API.md "Job events"). */
export interface JobEvent {
  seq: number;
  from: string | null;
  to: string;
  at: string;
  attempt: number;
  worker_id: string | null;
  reason: string | null;
}

/** A progress report of a running job (events stream with progress=true); not part of the replayable history. */
export interface JobProgressEvent {
  job_id: string;
  attempt: number;
  percent: number;
  message: string | null;
  at: string;
}

export const TERMINAL_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled', 'expired'];
export const isTerminal = (status: string): boolean => TERMINAL_STATUSES.includes(status);

/** The JSON request body of an operation, e.g. `JsonBody<'/api/jobs', 'post'>`. */
export type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
