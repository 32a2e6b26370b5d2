import { Webhook } from 'standardwebhooks';
import { callbackBody, webhookHeaders } from '../../apps/worker/src/callbacks/callback-request';
import {
  CALLBACK_MAX_DELAY_MS,
  callbackRetryCeiling,
  callbackRetryDelay,
  classifyAttempt,
  nextDelay,
  parseRetryAfter,
} from '../../apps/worker/src/callbacks/retry-policy';
import type { CallbackJobData } from '../../packages/queue/src/callback-queue';

describe('callback retry policy', () => {
  it('grows each ceiling fourfold from the base, capped at 12 h', () => {
    const ceilings = Array.from({ length: 9 }, (_, i) => callbackRetryCeiling(30_000, i + 1));
    expect(ceilings).toEqual([30_000, 120_000, 480_000, 1_920_000, 7_680_000, 30_720_000, CALLBACK_MAX_DELAY_MS, CALLBACK_MAX_DELAY_MS, CALLBACK_MAX_DELAY_MS]);
    // The README's figure: the default schedule (10 attempts, base 30 s) waits at most ~47 h in all, ~24 h on average.
    const total = ceilings.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeCloseTo(47.4, 1);
  });

  it('draws the delay uniformly from [0, ceiling] (full jitter)', () => {
    expect(callbackRetryDelay(1000, 3, () => 0)).toBe(0);
    expect(callbackRetryDelay(1000, 3, () => 0.5)).toBe(8000);
    expect(callbackRetryDelay(1000, 3, () => 0.999999)).toBe(15_999);
    for (let i = 0; i < 200; i++) {
      const d = callbackRetryDelay(50, 2);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(200);
    }
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999999', now)).toBe(CALLBACK_MAX_DELAY_MS);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('classifies attempts', () => {
    const at = (statusCode: number | null, refused = false) => ({ statusCode, refused });
    expect(classifyAttempt(at(200), 1, 3)).toBe('delivered');
    expect(classifyAttempt(at(204), 3, 3)).toBe('delivered');
    expect(classifyAttempt(at(410), 1, 3)).toBe('gone');
    expect(classifyAttempt(at(null, true), 1, 3)).toBe('refused');
    expect(classifyAttempt(at(302), 1, 3)).toBe('retry');
    expect(classifyAttempt(at(500), 2, 3)).toBe('retry');
    expect(classifyAttempt(at(null), 2, 3)).toBe('retry');
    expect(classifyAttempt(at(404), 3, 3)).toBe('exhausted');
  });

  it('uses Retry-After only on 429 and 503', () => {
    expect(nextDelay(429, 5000, 1000, 1, () => 0.5)).toBe(5000);
    expect(nextDelay(503, 0, 1000, 1, () => 0.5)).toBe(0);
    expect(nextDelay(500, 5000, 1000, 1, () => 0.5)).toBe(500);
    expect(nextDelay(429, null, 1000, 2, () => 0.5)).toBe(2000);
  });
});

describe('callback request', () => {
  const data: CallbackJobData = {
    job_id: 'job-0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b',
    organization_id: 'org-1',
    webhook_id: 'msg_0b6a1c9e-4b52-4c1f-9a43-4f3f0e1d2c3b_4',
    callback_url: 'https://receiver.test/hook',
    status: 'failed',
    stop_reason: 'error',
    completed_at: '2026-11-22T10:00:00.000Z',
    metadata: { order: 1 },
  };
  const secretA = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const secretB = 'whsec_c2VjcmV0LWJzZWNyZXQtYnNlY3JldC1i';

  it('has the F6 keys in order', () => {
    const at = new Date('2026-11-22T10:00:01.234Z');
    const body = callbackBody(data, 'https://jobs.example.test', at);
    expect(Object.keys(body)).toEqual(['type', 'job_id', 'status', 'stop_reason', 'completed_at', 'metadata', 'result_url', 'timestamp']);
    expect(body).toMatchObject({ type: 'job.failed', result_url: `https://jobs.example.test/api/jobs/${data.job_id}`, timestamp: '2026-11-22T10:00:01.234Z' });
  });

  it('signs id.timestamp.body so that standardwebhooks verifies it, with every current secret', () => {
    const at = new Date();
    const body = JSON.stringify(callbackBody(data, 'https://jobs.example.test', at));
    const one = webhookHeaders([secretA], data.webhook_id, at, body);
    expect(one['webhook-id']).toBe(data.webhook_id);
    expect(one['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(one['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secretA).verify(body, one)).toMatchObject({ job_id: data.job_id });
    expect(() => new Webhook(secretB).verify(body, one)).toThrow();
    expect(() => new Webhook(secretA).verify(body.replace('failed', 'completed'), one)).toThrow();

    const both = webhookHeaders([secretB, secretA], data.webhook_id, at, body);
    expect(both['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(secretA).verify(body, both)).toBeTruthy();
    expect(new Webhook(secretB).verify(body, both)).toBeTruthy();
  });
});
