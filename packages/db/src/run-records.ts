import { BadRequestError, newId, type RunRecord } from '@jobs/core';
import { rawRows, type Db } from './client';
import { iso } from './job-row';

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
  const params: unknown[] = [runId];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = ['job_id = $1'];
  const desc = page.order === 'desc';
  const cursorRow = (id: string) => `(SELECT c.created_at, c.id FROM steps c WHERE c.id = ${p(id)} AND c.job_id = $1)`;
  if (page.after) where.push(`(created_at, id) ${desc ? '<' : '>'} ${cursorRow(page.after)}`);
  if (page.before) where.push(`(created_at, id) ${desc ? '>' : '<'} ${cursorRow(page.before)}`);
  const reverse = Boolean(page.before && !page.after);
  const dir = desc !== reverse ? 'DESC' : 'ASC';
  const rows = await rawRows<StepRow>(db, `SELECT * FROM steps WHERE ${where.join(' AND ')} ORDER BY created_at ${dir}, id ${dir} LIMIT ${p(page.limit)}`, params);
  if (rows.length === 0) await checkCursors(db, 'steps', runId, null, page, 'step');
  const steps = rows.map(toApiStep);
  return reverse ? steps.reverse() : steps;
}

/** A run's messages (or one step's) in conversation order (or reversed), one keyset page over `seq`. */
export async function listMessages(db: Db, runId: string, stepId: string | null, page: RunPage): Promise<ApiMessage[]> {
  const params: unknown[] = [runId];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = ['job_id = $1'];
  if (stepId) where.push(`step_id = ${p(stepId)}`);
  const desc = page.order === 'desc';
  // The cursor's seq is read inside the page query; only an empty page pays the lookup that tells an unknown
  // cursor (400) from the end of the list.
  const cursorSeq = (id: string) => `(SELECT c.seq FROM messages c WHERE c.id = ${p(id)} AND c.job_id = $1${stepId ? ' AND c.step_id = $2' : ''})`;
  if (page.after) where.push(`seq ${desc ? '<' : '>'} ${cursorSeq(page.after)}`);
  if (page.before) where.push(`seq ${desc ? '>' : '<'} ${cursorSeq(page.before)}`);
  const reverse = Boolean(page.before && !page.after);
  const dir = desc !== reverse ? 'DESC' : 'ASC';
  const rows = await rawRows<MessageRow>(
    db,
    `SELECT id, job_id, step_id, role, content, created_at FROM messages WHERE ${where.join(' AND ')} ORDER BY seq ${dir} LIMIT ${p(page.limit)}`,
    params,
  );
  if (rows.length === 0) await checkCursors(db, 'messages', runId, stepId, page, 'message');
  const messages = rows.map(toApiMessage);
  return reverse ? messages.reverse() : messages;
}

async function checkCursors(db: Db, table: 'steps' | 'messages', runId: string, stepId: string | null, page: RunPage, kind: string): Promise<void> {
  for (const name of ['after', 'before'] as const) {
    const id = page[name];
    if (!id) continue;
    const sql = `SELECT 1 FROM ${table} WHERE id = $1 AND job_id = $2${stepId ? ' AND step_id = $3' : ''}`;
    const rows = await rawRows(db, sql, stepId ? [id, runId, stepId] : [id, runId]);
    if (!rows[0]) throw new BadRequestError(`Unknown cursor ${id}`, [{ path: name, message: `unknown ${kind} id in this ${stepId ? 'step' : 'run'}` }]);
  }
}
