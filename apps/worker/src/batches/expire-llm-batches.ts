import type Anthropic from '@anthropic-ai/sdk';
import { isTerminal } from '@jobs/core';
import type { BatchStore, JobStore, OverdueBatch } from '@jobs/db';
import type { Logger } from '@jobs/observability';
import { batchOutcome } from './batch-outcome';
import pMap from 'p-map';

/** Anthropic ends every Message Batch within 24 h of its creation. */
export const PROVIDER_BATCH_WINDOW_MS = 24 * 3600_000;
/** Past the window, this much longer for the poller to fetch an ended batch's results before we give up on them. */
export const BATCH_EXPIRY_MARGIN_MS = 3600_000;
const PAGE = 100;
/** Provider cancels in flight at once, and how long one may take: best effort, so it must not hold the sweep. */
const CANCEL_CONCURRENCY = 10;
const CANCEL_TIMEOUT_MS = 10_000;

export interface ExpireDeps {
  batches: BatchStore;
  jobs: JobStore;
  logger: Logger;
  workerId: string | null;
  /** To cancel expired batches at the provider; without a client (none configured) nothing is cancelled. */
  anthropic?: Pick<Anthropic, 'messages'>;
}

/**
 * A sweep step (issue 10 item 4): a batch still unfinished 24 h + margin after its submission will never be
 * ended by the poller (polling off, the batch past the lookback, or a provider that never ends it). Its
 * items not yet ended become `expired` and its Job takes its terminal status from the counts through the
 * guarded transition (so its callback fires), `expired` when none had ended. Runs whatever
 * ENABLE_BATCH_JOB_POLLING says, so that every batch Job ends. Each expired batch is then cancelled at the
 * provider (best effort, after our rows are written): a batch the provider never ended would otherwise keep
 * running, and costing, there. Returns how many batches it ended.
 */
export async function expireOverdueLlmBatches(deps: ExpireDeps, olderThanMs = PROVIDER_BATCH_WINDOW_MS + BATCH_EXPIRY_MARGIN_MS): Promise<number> {
  const hours = Math.round(olderThanMs / 3600_000);
  const reason = `the provider did not end the batch within ${hours} h of its submission`;
  let ended = 0;
  for (;;) {
    const due = await deps.batches.expireOverdue(olderThanMs, PAGE, reason);
    const finalize: string[] = [];
    for (const b of due) {
      const outcome = batchOutcome(await deps.batches.countItems(b.job_id));
      if (isTerminal(b.job_status)) {
        await deps.batches.fillResult(b.job_id, outcome.result);
        finalize.push(b.job_id);
        continue;
      }
      const job = await deps.jobs.transition(b.job_id, outcome.status, {
        from: ['running'],
        result: outcome.result,
        stopReason: outcome.stopReason,
        ...(outcome.error ? { error: outcome.error } : {}),
        workerId: deps.workerId,
        reason: `llm batch overdue: ${reason}`,
      });
      const now = job ?? (await deps.jobs.findById(b.job_id));
      // A Job being re-run (pending) keeps its batch row for the attempt that resubmits it.
      if (!now || isTerminal(now.status)) finalize.push(b.job_id);
      if (job) {
        ended++;
        deps.logger.warn('llm batch overdue: ended without the provider', { job_id: b.job_id, status: outcome.status, counts: outcome.result.counts });
      }
    }
    await deps.batches.finalize(finalize);
    await cancelAtProvider(deps, due);
    if (due.length < PAGE || finalize.length === 0) return ended;
  }
}

/**
 * Asks the provider to cancel each expired batch it has not reported ended. Best effort: one try each with a
 * short timeout; a failure is logged and changes nothing here (the expiry is already written and final).
 */
async function cancelAtProvider(deps: ExpireDeps, due: readonly OverdueBatch[]): Promise<void> {
  const anthropic = deps.anthropic;
  const open = due.filter((b) => b.processing_status !== 'ended');
  if (open.length === 0) return;
  if (!anthropic) {
    deps.logger.warn('llm batch overdue: no Anthropic client configured, batches not cancelled at the provider', { provider_batch_ids: open.map((b) => b.provider_batch_id) });
    return;
  }
  await pMap(open, async (b) => {
    try {
      const mb = await anthropic.messages.batches.cancel(b.provider_batch_id, {}, { maxRetries: 0, timeout: CANCEL_TIMEOUT_MS });
      deps.logger.info('llm batch overdue: cancel sent to the provider', { job_id: b.job_id, provider_batch_id: b.provider_batch_id, processing_status: mb.processing_status });
    } catch (err) {
      deps.logger.warn('llm batch overdue: provider cancel failed (the batch is expired here regardless)', {
        job_id: b.job_id,
        provider_batch_id: b.provider_batch_id,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }, { concurrency: CANCEL_CONCURRENCY });
}
