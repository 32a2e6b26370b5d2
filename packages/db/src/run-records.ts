import { newId, type RunRecord } from '@jobs/core';
import { rawRows, type Db } from './client';
import { keysetPage, type KeysetQuery } from './keyset-page';

/** A keyset page: `after`/`before` are ids of the listed kind, as in the jobs list. */
export type RunPage = KeysetQuery;

/** The run record as the transition statement inserts it: ids minted here, bigints as decimal strings. */
export function runRecordJson(run: RunRecord): string {
  const stepId = newId('step');
  return JSON.stringify({
    id: stepId,
    provider: run.step.provider,
    model: run.step.model,
    stop_reason: run.step.stop_reason,
    input_tokens: run.step.usage.input_tokens,
    output_tokens: run.step.usage.output_tokens,
    usage: run.step.usage,
    ttft_ns: run.step.ttft_ns === null ? null : run.step.ttft_ns.toString(),
    duration_ns: run.step.duration_ns === null ? null : run.step.duration_ns.toString(),
    messages: run.messages.map((m) => ({ id: newId('message'), role: m.role, content: m.content })),
  });
}

/** A row of `steps`. */
export interface StepRow {
  id: string;
  job_id: string;
  provider: string;
  model: string;
  stop_reason: string | null;
  input_tokens: number;
  output_tokens: number;
  usage: Record<string, unknown>;
  ttft_ns: bigint | string | null;
  duration_ns: bigint | string | null;
  created_at: Date;
}

/** A message of a run as listed (its `seq` orders the list). */
export interface MessageRow {
  id: string;
  job_id: string;
  step_id: string | null;
  role: string;
  content: unknown;
  created_at: Date;
}

/** The organization a step belongs to (for the caller's scope check), or null when there is no such step. */
export async function stepOwner(db: Db, stepId: string): Promise<{ job_id: string; organization_id: string } | null> {
  const rows = await rawRows<{ job_id: string; organization_id: string }>(db, 'SELECT job_id, organization_id FROM steps WHERE id = $1', [stepId]);
  return rows[0] ?? null;
}

/** A run's steps in creation order (or reversed), one keyset page. */
export async function listSteps(db: Db, runId: string, page: RunPage): Promise<StepRow[]> {
  return keysetPage<StepRow>(db, { from: 'steps', select: '*', key: ['created_at', 'id'], scope: { job_id: runId }, query: page, unknownCursor: 'unknown step id in this run' });
}

/** A run's messages (or one step's) in conversation order (or reversed), one keyset page over `seq`. */
export async function listMessages(db: Db, runId: string, stepId: string | null, page: RunPage): Promise<MessageRow[]> {
  return keysetPage<MessageRow>(db, {
    from: 'messages',
    select: 'id, job_id, step_id, role, content, created_at',
    key: ['seq'],
    scope: stepId ? { job_id: runId, step_id: stepId } : { job_id: runId },
    query: page,
    unknownCursor: `unknown message id in this ${stepId ? 'step' : 'run'}`,
  });
}
