import { Webhook } from 'standardwebhooks';
import type { CallbackJobData } from '@jobs/queue';

/** The JSON body of SPEC F6, in this key order. */
export interface CallbackBody {
  type: string;
  job_id: string;
  status: string;
  stop_reason: string | null;
  completed_at: string | null;
  metadata: Record<string, unknown>;
  result_url: string;
  timestamp: string;
}

export function callbackBody(data: CallbackJobData, publicBaseUrl: string, at: Date): CallbackBody {
  return {
    type: `job.${data.status}`,
    job_id: data.job_id,
    status: data.status,
    stop_reason: data.stop_reason,
    completed_at: data.completed_at,
    metadata: data.metadata,
    result_url: `${publicBaseUrl}/api/jobs/${data.job_id}`,
    timestamp: at.toISOString(),
  };
}

/**
 * Standard Webhooks headers for one attempt. The signature covers `id.timestamp.body` exactly as sent;
 * during a secret rotation every current secret signs and the signatures are space-separated, so a
 * receiver holding either secret verifies.
 */
export function webhookHeaders(secrets: readonly string[], webhookId: string, at: Date, body: string): Record<string, string> {
  if (secrets.length === 0) throw new Error('no signing secret');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(webhookId, at, body)).join(' '),
  };
}
