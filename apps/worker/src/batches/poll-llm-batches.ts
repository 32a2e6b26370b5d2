import type Anthropic from '@anthropic-ai/sdk';
import { isTerminal } from '@jobs/core';
import type { BatchStore, ItemResult, JobStore, PollUpdate, PollableBatch } from '@jobs/db';
import { pollerBatches, pollerCycles, pollerDuration, pollerItemsUpdated, type Logger } from '@jobs/observability';
import { batchOutcome } from './batch-outcome';
// p-map 4: its last CommonJS major (5 and later are ESM-only; these packages compile to CommonJS, run by jest as such).
import pMap from 'p-map';

/** Result lines written per statement while streaming a results file. */
const RESULT_CHUNK = 1000;

export interface PollOptions {
  lookbackWeeks: number;
  /** At most this many batches per cycle; undefined = all. */
  batchSize?: number;
  concurrency: number;
  /** Names the poller in job_events. */
  instanceId: string;
}

export interface PollDeps {
  batches: BatchStore;
  jobs: JobStore;
  /** Only the Message Batches part of the SDK client is used. */
  anthropic: Pick<Anthropic, 'messages'>;
  logger: Logger;
}

/** The per-cycle metrics summary (logged, exported, and kept as the scheduler's `last_poll`). */
export interface PollSummary {
  instance_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  batches_polled: number;
  batches_ended: number;
  poll_errors: number;
  items_updated: number;
  jobs_finished: number;
  cancels_requested: number;
}

/**
 * One cycle of `poll_running_llm_batches` (SPEC F8). Takes the submitted, unfinalized batches created within
 * the lookback (at most `batchSize`, least recently polled first), asks the provider about each with bounded
 * concurrency, records every answer in one statement, streams the results of ended batches into their items,
 * and moves each ended batch's Job to its terminal status through JobStore.transition (so its callback
 * fires). A batch whose poll fails keeps its state and is polled again next cycle. A batch whose Job was
 * cancelled by its client is cancelled at the provider once, then finished like any other.
 * `signal` (leadership lost, shutdown) stops the cycle before its next write.
 */
export async function pollRunningLlmBatches(deps: PollDeps, opts: PollOptions, signal: AbortSignal): Promise<PollSummary> {
  const startedAt = new Date();
  const summary: PollSummary = {
    instance_id: opts.instanceId,
    started_at: startedAt.toISOString(),
    finished_at: '',
    duration_ms: 0,
    batches_polled: 0,
    batches_ended: 0,
    poll_errors: 0,
    items_updated: 0,
    jobs_finished: 0,
    cancels_requested: 0,
  };
  try {
    const batches = await deps.batches.listPollable({ lookbackWeeks: opts.lookbackWeeks, ...(opts.batchSize ? { limit: opts.batchSize } : {}) });
    const updates: PollUpdate[] = [];
    const ended: PollableBatch[] = [];
    await pMap(batches, async (b) => {
      if (signal.aborted) return;
      const update = await withChildSignal(signal, (s) => pollOne(deps, b, s));
      updates.push(update);
      if (update.error) {
        summary.poll_errors++;
        pollerBatches.inc({ result: 'error' });
        deps.logger.warn('llm batch poll failed; it stays running for the next cycle', { job_id: b.job_id, provider_batch_id: b.provider_batch_id, err: update.error });
        return;
      }
      if (update.cancel_requested) summary.cancels_requested++;
      pollerBatches.inc({ result: update.processing_status ?? 'unknown' });
      if (update.processing_status === 'ended') ended.push(b);
    }, { concurrency: opts.concurrency });
    signal.throwIfAborted();
    await deps.batches.recordPolls(updates);
    summary.batches_polled = updates.length;
    summary.batches_ended = ended.length;

    const finalized: string[] = [];
    await pMap(ended, async (b) => {
      if (signal.aborted) return;
      try {
        // Awaited first: `x += await ...` would read x before the await and lose concurrent lanes' counts.
        const updated = await withChildSignal(signal, (s) => ingestResults(deps, b, s));
        summary.items_updated += updated;
        const done = await finish(deps, b, opts.instanceId);
        if (done.finished) summary.jobs_finished++;
        if (done.finalize) finalized.push(b.job_id);
      } catch (err) {
        summary.poll_errors++;
        deps.logger.warn('llm batch results could not be processed; retrying next cycle', { job_id: b.job_id, provider_batch_id: b.provider_batch_id, err: String(err) });
      }
    }, { concurrency: opts.concurrency });
    signal.throwIfAborted();
    await deps.batches.finalize(finalized);
    pollerCycles.inc({ outcome: summary.poll_errors ? 'partial' : 'ok' });
  } catch (err) {
    pollerCycles.inc({ outcome: signal.aborted ? 'aborted' : 'error' });
    throw err;
  } finally {
    const finishedAt = new Date();
    summary.finished_at = finishedAt.toISOString();
    summary.duration_ms = finishedAt.getTime() - startedAt.getTime();
    pollerDuration.observe(summary.duration_ms / 1000);
    pollerItemsUpdated.inc(summary.items_updated);
  }
  deps.logger.info('llm batch poll cycle', { ...summary });
  return summary;
}

/**
 * Runs `fn` with a signal of its own that follows `parent`: the SDK's listeners land on it and go away with
 * it, so the cycle's long-lived signal carries one listener per lane, not one per request ever made.
 */
async function withChildSignal<T>(parent: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const child = new AbortController();
  const follow = () => child.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  try {
    return await fn(child.signal);
  } finally {
    parent.removeEventListener('abort', follow);
  }
}

/** Retrieves one batch (or cancels it, when its Job was cancelled and the provider has not been told yet). */
async function pollOne(deps: PollDeps, b: PollableBatch, signal: AbortSignal): Promise<PollUpdate> {
  const api = deps.anthropic.messages.batches;
  try {
    const cancel = isTerminal(b.job_status) && b.processing_status !== 'ended' && !b.cancel_requested_at;
    const mb = cancel ? await api.cancel(b.provider_batch_id, {}, { signal }) : await api.retrieve(b.provider_batch_id, {}, { signal });
    return { job_id: b.job_id, processing_status: mb.processing_status, request_counts: { ...mb.request_counts }, response: mb, cancel_requested: cancel };
  } catch (err) {
    return { job_id: b.job_id, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Streams the JSONL results into the items, a chunk per statement; items left unanswered count as errored. */
async function ingestResults(deps: PollDeps, b: PollableBatch, signal: AbortSignal): Promise<number> {
  const lines = await deps.anthropic.messages.batches.results(b.provider_batch_id, {}, { signal });
  let updated = 0;
  let chunk: ItemResult[] = [];
  for await (const line of lines) {
    const r = line.result;
    chunk.push({ custom_id: line.custom_id, status: r.type, result: r, error: r.type === 'errored' ? r.error : null });
    if (chunk.length >= RESULT_CHUNK) {
      signal.throwIfAborted();
      updated += await deps.batches.applyResults(b.job_id, chunk);
      chunk = [];
    }
  }
  signal.throwIfAborted();
  updated += await deps.batches.applyResults(b.job_id, chunk);
  updated += await deps.batches.failUnanswered(b.job_id);
  return updated;
}

/**
 * Post-processing of an ended batch: its Job's terminal status from the item counts. The batch is finalized
 * once its Job is terminal (by us or by its client); a Job being re-run (pending) keeps it for later.
 */
async function finish(deps: PollDeps, b: PollableBatch, instanceId: string): Promise<{ finished: boolean; finalize: boolean }> {
  const outcome = batchOutcome(await deps.batches.countItems(b.job_id));
  if (isTerminal(b.job_status)) {
    await deps.batches.fillResult(b.job_id, outcome.result);
    return { finished: false, finalize: true };
  }
  const job = await deps.jobs.transition(b.job_id, outcome.status, {
    from: ['running'],
    result: outcome.result,
    stopReason: outcome.stopReason,
    ...(outcome.error ? { error: outcome.error } : {}),
    workerId: instanceId,
    reason: `llm batch ended: ${JSON.stringify(outcome.result.counts)}`,
  });
  if (job) return { finished: true, finalize: true };
  const now = await deps.jobs.findById(b.job_id);
  return { finished: false, finalize: !now || isTerminal(now.status) };
}
