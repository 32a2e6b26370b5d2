import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** The JSON body of a job callback (SPEC F6). */
export interface WebhookPayload {
  type: string;
  job_id: string;
  status: string;
  stop_reason: string | null;
  completed_at: string | null;
  metadata: Record<string, unknown>;
  result_url: string;
  timestamp: string;
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a callback the service sent (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` over the raw body) against the organization's `webhook_secret` (`whsec_...`), and
 * returns its payload. During a secret rotation, pass both the current and the previous secret.
 * Throws WebhookVerificationError for a missing header, a bad signature or a timestamp too far from now.
 */
export function verifyWebhook(headers: WebhookHeaders, body: string | Buffer, secret: string | readonly string[]): WebhookPayload {
  const flat = flatten(headers);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new WebhookVerificationError('No secret to verify with');
  let failure: unknown;
  for (const s of secrets) {
    try {
      return new Webhook(s).verify(body, flat) as WebhookPayload;
    } catch (err) {
      failure ??= err;
    }
  }
  throw failure;
}

function flatten(headers: WebhookHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  const entries: Iterable<[string, string | string[] | undefined]> = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}
