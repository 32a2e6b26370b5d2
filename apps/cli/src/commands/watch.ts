import { isTerminal, unwrap, type Job, type JobEvent, type JobsClient } from '@jobs/client';
import { ProgressLine } from '../progress-bar';

/**
 * Follows a job to its end: status changes and progress reports from the client's event stream watch (which
 * resumes by itself after a dropped connection), and, in case a report is missed, its progress from the job
 * itself now and then, drawn as a live bar. Resolves with the terminal job.
 */
export async function watchJob(client: JobsClient, id: string, out: NodeJS.WritableStream, tty: boolean, pollMs = 500): Promise<Job> {
  const line = new ProgressLine(out, tty);
  const read = async () => unwrap(await client.GET('/api/jobs/{id}', { params: { path: { id } } }));
  let job = await read();
  // The stream resumes after the history already known: it is not drawn again (nor drawn backwards).
  // Asked without Accept: text/event-stream, the answer is the JSON history.
  const history = unwrap(await client.GET('/api/jobs/{id}/events', { params: { path: { id } } })) as JobEvent[];
  const draw = () => line.render(job.status, job.progress?.percent ?? (job.status === 'completed' ? 100 : null), job.progress?.message ?? null);
  draw();
  // The poll also ends a watch that missed the terminal event (e.g. the API's pub/sub lost its subscription).
  const stop = new AbortController();
  const poll = setInterval(() => {
    read().then(
      (j) => {
        if (!isTerminal(job.status)) {
          job = j;
          draw();
          if (isTerminal(j.status)) stop.abort();
        }
      },
      () => undefined,
    );
  }, pollMs);
  try {
    if (!isTerminal(job.status)) {
      for await (const e of client.watch(id, { signal: stop.signal, progress: true, lastEventId: history.at(-1)?.seq ?? 0 })) {
        if (isTerminal(job.status)) break;
        if (e.event === 'progress') {
          job = { ...job, progress: { percent: e.data.percent, message: e.data.message } };
          draw();
          continue;
        }
        job = { ...job, status: e.data.to as Job['status'] };
        // The terminal state is drawn from the final read below, with its final progress.
        if (!isTerminal(e.data.to)) draw();
      }
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    clearInterval(poll);
  }
  job = await read();
  draw();
  line.done();
  return job;
}
