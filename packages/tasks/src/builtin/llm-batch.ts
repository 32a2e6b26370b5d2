import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { PermanentError } from '@jobs/core';
import { z } from 'zod';
import { defineTask } from '../task';
import { findOrphan } from './llm-batch-orphan';

export const MAX_BATCH_REQUESTS = 10_000;
/** The component that finishes an `llm.batch` job (names the hand-off on the row). */
export const LLM_BATCH_POLLER = 'llm-batch-poller';

/** Messages create params, checked for what a batch needs; the provider validates the rest (hence the cast below). */
const messageParams = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.record(z.string(), z.unknown())).min(1),
  stream: z.literal(false, { message: 'batch requests cannot stream' }).optional(),
});

export const batchRequestSchema = z.strictObject({
  // The provider's rule for custom ids.
  custom_id: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  params: messageParams,
});

export const batchRequestsSchema = z
  .array(batchRequestSchema)
  .min(1)
  .max(MAX_BATCH_REQUESTS)
  .superRefine((requests, ctx) => {
    const seen = new Map<string, number>();
    requests.forEach((r, i) => {
      const first = seen.get(r.custom_id);
      if (first === undefined) seen.set(r.custom_id, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'custom_id'], message: `duplicates requests.${first}.custom_id "${r.custom_id}"` });
    });
  });

/**
 * Submits an Anthropic Message Batch and hands the job to the poller (SPEC F8), which writes its terminal
 * status once the provider ends the batch. Re-running after a crash does not submit twice: a batch already
 * recorded and not yet finished is handed off again as it is, and an attempt records its intent before the
 * provider's create, so the next attempt after a crash between that create and our write first looks for
 * the orphan at the provider and adopts it (issue 10 item 5). An attempt that loses its intent to a later
 * one (it was presumed dead) cancels the batch it created unless the later one adopted it.
 */
export const llmBatchTask = defineTask({
  name: 'llm.batch',
  input: z.strictObject({ requests: batchRequestsSchema }),
  async run({ jobId, input, signal, clients, logger }) {
    const store = clients.llmBatches;
    const anthropic = clients.anthropic;
    if (!store) throw new PermanentError('llm.batch needs the batch store', 'misconfigured');
    if (!anthropic) throw new PermanentError('llm.batch needs ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL) on the worker', 'misconfigured');

    await store.prepare(jobId, input.requests);
    const existing = await store.get(jobId);
    if (existing?.provider_batch_id && !existing.finalized_at) {
      logger.info('batch already submitted; handing off again', { provider_batch_id: existing.provider_batch_id });
      return { result: null, handOff: { owner: LLM_BATCH_POLLER } };
    }
    // Taken over before looking: from now on an earlier attempt still alive can no longer record its batch.
    const token = randomUUID();
    if (!(await store.recordIntent(jobId, token))) return { result: null, handOff: { owner: LLM_BATCH_POLLER } };

    const earlier = existing?.submit_token && existing.submit_started_at;
    if (earlier) {
      let found: Awaited<ReturnType<typeof findOrphan>>;
      try {
        found = await findOrphan(anthropic, { startedAt: earlier, requestCount: input.requests.length, owned: (ids) => store.owned(ids), signal });
      } catch (err) {
        throw providerError(err);
      }
      if (found.kind === 'ambiguous') {
        throw new PermanentError(
          `an earlier attempt may have created a provider batch that was never recorded, and ${found.ids.length} unowned batches match it (${found.ids.join(', ')}); not submitting another`,
          'batch_submission_ambiguous',
        );
      }
      if (found.kind === 'one') {
        if (!(await store.markSubmitted(jobId, found.batch, token))) throw new Error('another attempt took over the batch submission');
        logger.warn('adopted the batch an earlier attempt created but never recorded', { provider_batch_id: found.batch.id });
        return { result: null, handOff: { owner: LLM_BATCH_POLLER } };
      }
      logger.info('an earlier attempt created no provider batch; submitting', { intent_at: earlier.toISOString() });
    }

    let batch: Anthropic.Messages.MessageBatch;
    try {
      // No SDK retry: a create whose answer was lost is settled by the next attempt, not sent twice.
      batch = await anthropic.messages.batches.create({ requests: input.requests as unknown as Anthropic.Messages.BatchCreateParams.Request[] }, { signal, maxRetries: 0 });
    } catch (err) {
      throw providerError(err);
    }
    if (!(await store.markSubmitted(jobId, batch, token))) {
      const adopted = (await store.owned([batch.id])).has(batch.id);
      if (!adopted) await anthropic.messages.batches.cancel(batch.id).catch((err: unknown) => logger.warn('could not cancel a batch no Job owns', { provider_batch_id: batch.id, err: String(err) }));
      logger.warn('a later attempt took over the submission', { provider_batch_id: batch.id, cancelled: !adopted });
      throw new Error('another attempt took over the batch submission');
    }
    logger.info('batch submitted', { provider_batch_id: batch.id, requests: input.requests.length });
    return { result: null, handOff: { owner: LLM_BATCH_POLLER } };
  },
});

/** The provider refusing the request (4xx other than 408/409/429) will not change on retry. */
function providerError(err: unknown): Error {
  if (err instanceof Anthropic.APIError && typeof err.status === 'number') {
    const retryable = err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
    const message = `Anthropic API error ${err.status}: ${err.message}`;
    if (!retryable) return new PermanentError(message, 'llm_api_error');
    return Object.assign(new Error(message), { code: 'llm_api_error' });
  }
  return err instanceof Error ? err : new Error(String(err));
}
