/**
 * @jobs/client end to end: create a job with a callback URL, watch it to its end over the event stream, and
 * verify the signed callback it sends. Run against a running service:
 *
 *   JOBS_API_URL=http://127.0.0.1:8283 JOBS_API_KEY=jsk_... JOBS_WEBHOOK_SECRET=whsec_... npx tsx packages/client/examples/quickstart.ts
 *
 * (JOBS_WEBHOOK_SECRET is the organization's `webhook_secret`; the service must be allowed to call 127.0.0.1,
 * CALLBACK_ALLOW_PRIVATE_NETWORKS=true.) A test runs this file against a test stack.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJobsClient, unwrap, verifyWebhook, type Job, type WebhookPayload } from '@jobs/client';

export interface QuickstartEnv {
  JOBS_API_URL?: string;
  JOBS_API_KEY?: string;
  JOBS_WEBHOOK_SECRET?: string;
}

export async function quickstart(env: QuickstartEnv, log: (line: string) => void = console.log): Promise<WebhookPayload> {
  const jobs = createJobsClient({ baseUrl: env.JOBS_API_URL ?? 'http://127.0.0.1:8283', apiKey: env.JOBS_API_KEY ?? '' });
  const secret = env.JOBS_WEBHOOK_SECRET ?? '';

  // 1. Somewhere for the callback to land: each request is verified against the organization's secret.
  let delivered!: (payload: WebhookPayload) => void;
  const callback = new Promise<WebhookPayload>((resolve) => (delivered = resolve));
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const payload = verifyWebhook(req.headers, Buffer.concat(chunks).toString('utf8'), secret);
        res.writeHead(204).end();
        delivered(payload);
      } catch (err) {
        log(`rejected a callback: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callback`;

  try {
    // 2. Create a job: the typed client checks paths and bodies against the API's OpenAPI document.
    const job = unwrap(await jobs.POST('/api/jobs', { body: { task: 'sleep', input: { ms: 500 }, callback_url: callbackUrl } })) as Job;
    log(`created ${job.id}`);

    // 3. Watch it: status events until the terminal one (a dropped connection resumes where it left off).
    for await (const e of jobs.watch(job.id)) {
      if (e.event === 'status') log(`${e.data.seq} ${e.data.from ?? '-'} -> ${e.data.to}`);
    }

    // 4. The callback, verified.
    const payload = await callback;
    log(`callback ${payload.type} for ${payload.job_id}, verified`);
    return payload;
  } finally {
    receiver.close();
  }
}

if (require.main === module) {
  quickstart(process.env).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
