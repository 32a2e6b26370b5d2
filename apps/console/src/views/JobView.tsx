import { useEffect, useState } from 'react';
import { ApiError, isTerminal, unwrap, type Job, type JobEvent } from '@jobs/client';
import { ProblemView } from '../components/ProblemView';
import { StatusBadge } from '../components/StatusBadge';
import { allowedActions } from '../job-actions';
import { useSession } from '../session';
import { usePoll } from '../use-poll';
import { BatchItems } from './BatchItems';
import { RunDetails } from './RunDetails';

/** The delivery log changes without a status event (retries of a callback): it is asked for again meanwhile. */
const ATTEMPTS_POLL_MS = 2000;

export function JobView({ id }: { id: string }) {
  const { client } = useSession();
  const [job, setJob] = useState<Job | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [generation, setGeneration] = useState(0);

  // The job, then its events live: each status event (the history first) reloads the job; progress updates it.
  useEffect(() => {
    const ac = new AbortController();
    const path = { params: { path: { id } }, signal: ac.signal };
    setEvents([]);
    setLoadError(null);
    (async () => {
      setJob(unwrap(await client.GET('/api/jobs/{id}', path)) as Job);
      for await (const message of client.watch(id, { progress: true, signal: ac.signal })) {
        if (message.event === 'progress') {
          const { percent, message: text } = message.data;
          setJob((j) => (j ? { ...j, progress: { percent, message: text } } : j));
          continue;
        }
        setEvents((list) => [...list.filter((e) => e.seq !== message.data.seq), message.data]);
        setJob(unwrap(await client.GET('/api/jobs/{id}', path)) as Job);
      }
    })().catch((err: unknown) => {
      if (!ac.signal.aborted) setLoadError(err);
    });
    return () => ac.abort();
  }, [client, id, generation]);

  const attempts = usePoll(
    async (signal) =>
      unwrap(await client.GET('/api/jobs/{id}/callback/attempts', { params: { path: { id } }, signal })),
    `${id}:${generation}`,
    job?.callback_url ? ATTEMPTS_POLL_MS : null,
  );

  if (loadError instanceof ApiError && (loadError.status === 404 || loadError.status === 400))
    return (
      <section>
        <h1>Job not found</h1>
        <p role="alert">
          No job <code>{id}</code> is visible to this key.
        </p>
      </section>
    );
  if (!job)
    return (
      <section>
        <ProblemView error={loadError} />
        {!loadError && <p className="loading">Loading…</p>}
      </section>
    );

  const act = async (run: () => Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
    setBusy(true);
    setActionError(null);
    try {
      const updated = unwrap(await run()) as Job;
      setJob(updated);
      setGeneration((g) => g + 1);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const allowed = allowedActions(job);
  const jobType = (job as { job_type?: string }).job_type;
  const params = { params: { path: { id } } };
  return (
    <section aria-labelledby="job-title" className="job">
      <h1 id="job-title">
        {job.task} <StatusBadge status={job.status} />
      </h1>
      <p className="job-id">
        <code>{job.id}</code>
      </p>
      <div className="actions">
        <button
          type="button"
          disabled={busy || !allowed.cancel}
          onClick={() => act(() => client.PATCH('/api/jobs/{id}/cancel', params))}
        >
          Cancel
        </button>
        <button
          type="button"
          disabled={busy || !allowed.retry}
          onClick={() => act(() => client.POST('/api/jobs/{id}/retry', params))}
        >
          Retry
        </button>
        <button
          type="button"
          disabled={busy || !allowed.redeliver}
          onClick={() => act(() => client.POST('/api/jobs/{id}/callback/redeliver', params))}
        >
          Redeliver callback
        </button>
      </div>
      <ProblemView error={actionError} />
      <ProblemView error={loadError} />
      <div className="progress-row">
        <label htmlFor="job-progress">Progress</label>
        <progress id="job-progress" max={100} value={job.progress?.percent ?? (job.status === 'completed' ? 100 : 0)} />
        <span>
          {job.progress
            ? `${Math.round(job.progress.percent)}%${job.progress.message ? ` ${job.progress.message}` : ''}`
            : ''}
        </span>
      </div>
      <dl className="facts">
        <dt>Attempts</dt>
        <dd>
          {job.attempts}/{job.max_attempts}
        </dd>
        <dt>Stop reason</dt>
        <dd>{job.stop_reason ?? '—'}</dd>
        <dt>Created</dt>
        <dd>{job.created_at}</dd>
        <dt>Completed</dt>
        <dd>{job.completed_at ?? '—'}</dd>
        <dt>Callback</dt>
        <dd>{job.callback_url ?? '—'}</dd>
      </dl>
      <div className="panes">
        <Pane title="Input" value={job.input} />
        <Pane title="Result" value={job.result} />
        {job.error && <Pane title="Error" value={job.error} />}
      </div>
      {jobType === 'run' && <RunDetails id={job.id} live={!isTerminal(job.status)} />}
      {jobType === 'batch' && <BatchItems id={job.id} live={!isTerminal(job.status)} />}
      <h2>Events</h2>
      <ol className="timeline" aria-label="Events">
        {events.map((e) => (
          <li key={e.seq} data-to={e.to}>
            <time dateTime={e.at}>{e.at}</time> <StatusBadge status={e.to} /> attempt {e.attempt}
            {e.reason ? ` — ${e.reason}` : ''}
          </li>
        ))}
      </ol>
      <h2>Callback deliveries</h2>
      <ProblemView error={attempts.error} />
      {attempts.data && attempts.data.length === 0 && <p>No delivery yet.</p>}
      {attempts.data && attempts.data.length > 0 && (
        <div className="table-wrap">
          <table className="attempts">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">At</th>
                <th scope="col">HTTP status</th>
                <th scope="col">Error</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {attempts.data.map((a) => (
                <tr key={`${a.webhook_id}:${a.attempt}`} data-status-code={a.status_code ?? ''}>
                  <td>{a.attempt}</td>
                  <td>{a.at}</td>
                  <td>{a.status_code ?? '—'}</td>
                  <td>{a.error ?? ''}</td>
                  <td>{a.duration_ms} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Pane({ title, value }: { title: string; value: unknown }) {
  return (
    <figure className="pane">
      <figcaption>{title}</figcaption>
      <pre tabIndex={0}>{value === null || value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>
    </figure>
  );
}
