import type { CallbackAttemptRecord, CallbackStore, DeliveryContext } from '@jobs/db';
import { callbackDeliveries, type Logger } from '@jobs/observability';
import type { HostGuard } from '@jobs/outbound';
import type { CallbackJobData } from '@jobs/queue';
import { callbackBody, webhookHeaders } from './callback-request';
import type { EndpointHealth } from './endpoint-health';
import { postCallback } from './post-callback';
import { classifyAttempt, nextDelay, type AttemptOutcome } from './retry-policy';

export interface CallbackAttemptDeps {
  store: CallbackStore;
  guard: HostGuard;
  logger: Logger;
  health: EndpointHealth;
}

export interface CallbackAttemptOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  backoffMs: number;
  /** Base of `result_url` (PUBLIC_URL). */
  publicUrl: string;
}

export interface AttemptResult {
  /** `stale`: the organization is gone, nothing was sent and the series ended. */
  outcome: AttemptOutcome | 'stale';
  /** With `retry`: the wait before the next attempt. */
  delayMs: number;
  statusCode: number | null;
  error: string | null;
  /** The attempt's record reached the series row (false when that write failed: the series is then retried). */
  recorded: boolean;
}

/**
 * One attempt of a delivery series (SPEC F6): the organization's signing secrets, the signed POST through the
 * host guard, the attempt's record on the series and the job. Shared by the callbacks queue's consumer and the
 * finishing worker's first attempt, so both send, sign, guard and record exactly alike.
 */
export class CallbackAttempt {
  constructor(
    private readonly deps: CallbackAttemptDeps,
    private readonly opts: CallbackAttemptOptions,
  ) {}

  /** The organization's signing secrets, read fresh for each attempt (a rotation applies at once). */
  context(d: CallbackJobData): Promise<DeliveryContext> {
    return this.deps.store.deliveryContext(d.job_id, d.organization_id);
  }

  /**
   * Attempt `attempt` (1-based) of at most `maxAttempts`; never throws for the receiver's failures. `context`: the
   * secrets read already started by the caller (overlapping a round trip of its own), else read here.
   */
  async run(d: CallbackJobData, attempt: number, maxAttempts: number, context?: Promise<DeliveryContext>): Promise<AttemptResult> {
    const log = this.deps.logger.child({ job_id: d.job_id, webhook_id: d.webhook_id, callback_attempt: attempt });
    let recorded = true;
    const record = (rec: CallbackAttemptRecord) =>
      this.deps.store.recordAttempt(d.job_id, d.webhook_id, rec).catch((err: unknown) => {
        // The series row then stays as it was; the sweep settles it from the queue's outcome once overdue.
        log.warn('could not record callback attempt', { err: String(err) });
        recorded = false;
        return false;
      });
    // A series is delivered even when its job was retried or deleted since: its terminal transition happened.
    const { secrets } = await (context ?? this.context(d));
    if (secrets.length === 0) {
      log.warn('organization gone; callback dropped');
      await record({ statusCode: null, error: 'organization gone; not sent', state: 'failed', nextAttemptAt: null });
      return { outcome: 'stale', delayMs: 0, statusCode: null, error: 'organization gone; not sent', recorded };
    }

    const at = new Date();
    const body = JSON.stringify(callbackBody(d, this.opts.publicUrl, at));
    const result = await postCallback(
      { url: d.callback_url, body, headers: webhookHeaders(secrets, d.webhook_id, at, body) },
      { timeoutMs: this.opts.timeoutMs, maxResponseBytes: this.opts.maxResponseBytes, guard: this.deps.guard },
    );
    const outcome = classifyAttempt(result, attempt, maxAttempts);
    this.deps.health.record(d.callback_url, outcome === 'delivered');
    const delay = outcome === 'retry' ? nextDelay(result.statusCode, result.retryAfterMs, this.opts.backoffMs, attempt) : 0;
    // On the series row always; on the job row only while the job still belongs to this series.
    await record({
      statusCode: result.statusCode,
      error: result.error,
      state: outcome === 'delivered' ? 'delivered' : outcome === 'retry' ? 'queued' : 'failed',
      nextAttemptAt: outcome === 'retry' ? new Date(Date.now() + delay) : null,
      startedAt: at,
      durationMs: result.durationMs,
      responseExcerpt: result.responseExcerpt,
    });

    callbackDeliveries.inc({ outcome });
    if (outcome === 'delivered') log.debug('callback delivered', { status_code: result.statusCode });
    else if (outcome === 'retry') log.info('callback attempt failed; retrying', { status_code: result.statusCode, error: result.error, delay_ms: delay });
    else log.warn(`callback series ended: ${outcome}`, { status_code: result.statusCode, error: result.error });
    return { outcome, delayMs: delay, statusCode: result.statusCode, error: result.error, recorded };
  }
}
