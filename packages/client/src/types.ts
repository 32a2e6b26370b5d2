import type { components, paths } from './generated/api';

export type { components, paths };

type Schemas = components['schemas'];

/** The Job object of API.md (also a run and an LLM batch). */
export type Job = Schemas['Job'];
export type JobStatus = Schemas['JobStatus'];
/** One status transition of a job, as the events stream and history carry it. */
export type JobEvent = Schemas['JobEvent'];
/** An organization as the admin routes answer it, with its fair share (weight, max_concurrency). */
export type Organization = Schemas['Organization'];

/** A progress report of a running job (events stream with progress=true); not part of the replayable history. */
export interface JobProgressEvent {
  job_id: string;
  attempt: number;
  percent: number;
  message: string | null;
  at: string;
}

export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled', 'expired'];
export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** The JSON request body of an operation, e.g. `JsonBody<'/api/jobs', 'post'>`. */
export type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The query parameters of a GET, e.g. `Query<'/api/jobs'>`. */
export type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;
