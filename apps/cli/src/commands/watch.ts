import { isJobStatus, isTerminal as isTerminalStatus } from '@jobs/core';
import { ApiError, type ApiClient, type Job, type JobEvent } from '../client';
import { ProgressLine } from '../progress-bar';
import { readSse } from '../sse';

/** The API's status strings are plain strings here; core's set of terminal states decides. */
export const isTerminal = (status: string): boolean => isJobStatus(status) && isTerminalStatus(status);

/**
 * Follows a job to its end: status changes and progress reports from the SSE stream (`/api/jobs/{id}/events`),
 * and, in case a report is missed, its progress from the job itself now and then, drawn as a live bar.
 * Resolves with the terminal job.
 */
export async function watchJob(client: ApiClient, id: string, out: NodeJS.WritableStream, tty: boolean, pollMs = 500): Promise<Job> {
  const line = new ProgressLine(out, tty);
  let job = await client.call<Job>('GET', `/api/jobs/${id}`);
  // The stream replays the history first; what is already known is not drawn again (nor drawn backwards).
  const history = await client.call<JobEvent[]>('GET', `/api/jobs/${id}/events`);
  let seenSeq = history.at(-1)?.seq ?? 0;
  const draw = () => line.render(job.status, job.progress?.percent ?? (job.status === 'completed' ? 100 : null), job.progress?.message ?? null);
  draw();
  // The poll also ends a stream that missed the terminal event (e.g. the API's pub/sub lost its subscription).
  const stopStream = new AbortController();
  const poll = setInterval(() => {
    client.call<Job>('GET', `/api/jobs/${id}`).then(
      (j) => {
        if (!isTerminal(job.status)) {
          job = j;
          draw();
          if (isTerminal(j.status)) stopStream.abort();
        }
      },
      () => undefined,
    );
  }, pollMs);
  try {
    // The stream replays the history, so a reconnect after a dropped connection loses nothing.
    for (let attempt = 0; !isTerminal(job.status); attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      await followStream(client, id, (p) => {
        if (isTerminal(job.status)) return;
        job = { ...job, progress: { percent: p.percent, message: p.message } };
        draw();
      }, (e) => {
        if (e.seq <= seenSeq) return;
        seenSeq = e.seq;
        job = { ...job, status: e.to };
        // The terminal state is drawn from the final read below, with its final progress.
        if (!isTerminal(e.to)) draw();
      }, stopStream.signal).catch((err: unknown) => {
        if (err instanceof ApiError && err.status < 500) throw err;
      });
      if (!isTerminal(job.status)) job = await client.call<Job>('GET', `/api/jobs/${id}`);
    }
  } finally {
    clearInterval(poll);
  }
  job = await client.call<Job>('GET', `/api/jobs/${id}`);
  draw();
  line.done();
  return job;
}

async function followStream(
  client: ApiClient,
  id: string,
  onProgress: (p: { percent: number; message: string | null }) => void,
  onEvent: (e: JobEvent) => void,
  stop: AbortSignal,
): Promise<void> {
  if (stop.aborted) return;
  const abort = new AbortController();
  const onStop = () => abort.abort();
  stop.addEventListener('abort', onStop, { once: true });
  const res = await client.raw('GET', `/api/jobs/${id}/events?progress=true`, undefined, { accept: 'text/event-stream' }, abort.signal);
  if (!res.ok || !res.body) {
    const text = await res.text();
    throw new ApiError(res.status, text.slice(0, 200) || res.statusText);
  }
  try {
    for await (const msg of readSse(res.body)) {
      if (msg.event === 'progress') onProgress(JSON.parse(msg.data) as { percent: number; message: string | null });
      if (msg.event !== 'status') continue;
      const e = JSON.parse(msg.data) as JobEvent;
      onEvent(e);
      if (isTerminal(e.to)) return;
    }
  } finally {
    stop.removeEventListener('abort', onStop);
    abort.abort();
  }
}
