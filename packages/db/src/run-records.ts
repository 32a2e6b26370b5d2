import { newId, type RunRecord } from '@jobs/core';
import { rawRows, type Db } from './client';
import { iso } from './job-row';
import { keysetPage } from './keyset-page';

/** A step of the REST contract (API.md "Runs"). */
export interface ApiStep {
  id: string;
  run_id: string;
  provider: string;
  model: string;
  stop_reason: string | null;
  usage: Record<string, unknown> & { input_tokens: number; output_tokens: number };
  ttft_ns: number | null;
  duration_ns: number | null;
  created_at: string;
}

/** A message of the REST contract (API.md "Runs"). */
export interface ApiMessage {
  id: string;
  run_id: string;
  step_id: string | null;
  role: string;
  content: unknown;
  created_at: string;
}

/** A keyset page: `after`/`before` are ids of the listed kind, as in the jobs list. */
export interface RunPage {
  order: 'asc' | 'desc';
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
}

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

interface StepRow {
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

interface MessageRow {
  id: string;
  job_id: string;
  step_id: string | null;
  role: string;
  content: unknown;
  created_at: Date;
}

const num = (v: bigint | string | number | null): number | null => (v === null ? null : Number(v));

export function toApiStep(r: StepRow): ApiStep {
  return {
    id: r.id,
    run_id: r.job_id,
    provider: r.provider,
    model: r.model,
    stop_reason: r.stop_reason,
    usage: { ...r.usage, input_tokens: r.input_tokens, output_tokens: r.output_tokens },
    ttft_ns: num(r.ttft_ns),
    duration_ns: num(r.duration_ns),
    created_at: iso(r.created_at)!,
  };
}

function toApiMessage(r: MessageRow): ApiMessage {
  return { id: r.id, run_id: r.job_id, step_id: r.step_id, role: r.role, content: r.content, created_at: iso(r.created_at)! };
}

/** The organization a step belongs to (for the caller's scope check), or null when there is no such step. */
export async function stepOwner(db: Db, stepId: string): Promise<{ job_id: string; organization_id: string } | null> {
  const rows = await rawRows<{ job_id: string; organization_id: string }>(db, 'SELECT job_id, organization_id FROM steps WHERE id = $1', [stepId]);
  return rows[0] ?? null;
}

/** A run's steps in creation order (or reversed), one keyset page. */
export async function listSteps(db: Db, runId: string, page: RunPage): Promise<ApiStep[]> {
  const rows = await keysetPage<StepRow>(db, { from: 'steps', select: '*', key: ['created_at', 'id'], scope: { job_id: runId }, query: page, unknownCursor: 'unknown step id in this run' });
  return rows.map(toApiStep);
}

/** A run's messages (or one step's) in conversation order (or reversed), one keyset page over `seq`. */
export async function listMessages(db: Db, runId: string, stepId: string | null, page: RunPage): Promise<ApiMessage[]> {
  const rows = await keysetPage<MessageRow>(db, {
    from: 'messages',
    select: 'id, job_id, step_id, role, content, created_at',
    key: ['seq'],
    scope: stepId ? { job_id: runId, step_id: stepId } : { job_id: runId },
    query: page,
    unknownCursor: `unknown message id in this ${stepId ? 'step' : 'run'}`,
  });
  return rows.map(toApiMessage);
}
