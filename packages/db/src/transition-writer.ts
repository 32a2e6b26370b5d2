import { allowedSources, type JobStatus } from '@jobs/core';
import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { rawRows, type Db } from './client';
import type { JobRow } from './job-row';
import type { TransitionOptions } from './job-store';
import { runRecordJson } from './run-records';
import {
  cancelJobs,
  claimJobs,
  completeJobs,
  expireJobs,
  failJobs,
  requeueJobs,
  type TransitionColumn,
  type TransitionStatement,
} from './sql';

interface Item {
  id: string;
  opts: TransitionOptions;
}

export interface Written {
  job: JobRow;
  prev: JobStatus;
}

type ReturnedRow = JobRow & { prev_status: JobStatus } & Record<`in_${string}`, unknown>;

/** The named statement that writes each status; `created` is only ever inserted. */
const STATEMENTS: Partial<Record<JobStatus, TransitionStatement>> = {
  running: claimJobs,
  pending: requeueJobs,
  completed: completeJobs,
  failed: failJobs,
  cancelled: cancelJobs,
  expired: expireJobs,
};

/** One array per statement column: each item's value for it. */
const COLUMN_VALUES: Record<TransitionColumn, (item: Item, to: JobStatus) => unknown> = {
  id: (i) => i.id,
  attempt: (i) => i.opts.attempt ?? null,
  workerId: (i) => i.opts.workerId ?? null,
  reason: (i) => i.opts.reason ?? null,
  runAt: (i) => i.opts.runAt ?? null,
  error: (i) => (i.opts.error === undefined || i.opts.error === null ? null : JSON.stringify(i.opts.error)),
  setError: (i) => i.opts.error !== undefined,
  stopReason: (i, to) => i.opts.stopReason ?? defaultStopReason(to),
  result: (i) => JSON.stringify(i.opts.result ?? null),
  setResult: (i) => i.opts.result !== undefined,
  // A run's step and messages are written only with its completion (SPEC F9).
  run: (i) => (i.opts.run ? runRecordJson(i.opts.run) : null),
  throughPending: (i) => i.opts.throughPending === true,
  unlessExpired: (i) => i.opts.unlessExpired === true,
};

/** Options that need a column the target's statement does not have: refused rather than silently dropped. */
const NEEDS_COLUMN: [keyof TransitionOptions, TransitionColumn][] = [
  ['error', 'setError'],
  ['runAt', 'runAt'],
  ['unlessExpired', 'unlessExpired'],
];

/**
 * The guarded status write of SPEC F2, batched: concurrent transitions to the same status from the same
 * allowed sources go to PostgreSQL as one run of that status's named statement (packages/db/src/sql) over
 * `unnest`ed arrays. Each row keeps its own guard and options; a row whose guard fails is simply absent from the
 * result: that caller gets null.
 */
export class TransitionWriter {
  private readonly batchers = new Map<string, Batcher<Item, Written | null>>();

  constructor(private readonly db: Db) {}

  write(id: string, to: JobStatus, opts: TransitionOptions): Promise<Written | null> {
    const statement = STATEMENTS[to];
    if (!statement) throw new Error(`no statement writes status ${to}`);
    for (const [option, column] of NEEDS_COLUMN) {
      if (opts[option] !== undefined && !statement.columns.includes(column))
        throw new Error(`${statement.name} does not take option ${option}`);
    }
    const from = [...(opts.from ?? allowedSources(to))];
    const key = `${statement.name}|${from.join(',')}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      batcher = new Batcher<Item, Written | null>(
        (items) => this.run(statement, from, items),
        HOT_PATH_BATCHING,
        (item) => item.id,
      );
      this.batchers.set(key, batcher);
    }
    return batcher.add({ id, opts });
  }

  private async run(statement: TransitionStatement, from: string[], items: Item[]): Promise<(Written | null)[]> {
    const params = statement.columns.map((column) => items.map((item) => COLUMN_VALUES[column](item, statement.to)));
    const rows = await rawRows<ReturnedRow>(this.db, statement.text, [...params, from], { prepare: true });
    const byId = new Map<string, Written>();
    for (const r of rows) byId.set(r.id, { job: jobOf(r), prev: r.prev_status });
    return items.map((i) => byId.get(i.id) ?? null);
  }
}

/** The row without the statement's bookkeeping columns (prev_status and the per-item inputs it echoes). */
function jobOf(r: ReturnedRow): JobRow {
  const job: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (k !== 'prev_status' && !k.startsWith('in_')) job[k] = v;
  return job as unknown as JobRow;
}

export function defaultStopReason(to: JobStatus): string {
  switch (to) {
    case 'completed':
      return 'end_turn';
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'expired';
  }
}
