import { nextLink, unwrap, type Job } from '@jobs/client';
import { Link } from '../components/Link';
import { ProblemView } from '../components/ProblemView';
import { StatusBadge } from '../components/StatusBadge';
import {
  afterOf,
  filtersFromQuery,
  filtersToQuery,
  fromLocalInput,
  JOB_TYPES,
  listQuery,
  STATUSES,
  toLocalInput,
  type JobFilters,
} from '../jobs-filters';
import { navigate, useLocation } from '../router';
import { useSession } from '../session';
import { usePoll } from '../use-poll';

/**
 * How often the visible page is asked for again. One list request refreshes every row at once: a stream per
 * visible job would hold one connection each, and a browser keeps only a handful per origin.
 */
export const LIST_POLL_MS = 2000;

export function JobsView() {
  const { client } = useSession();
  const { query } = useLocation();
  const filters = filtersFromQuery(query);
  const key = filtersToQuery(filters).toString();
  const { data, error } = usePoll(
    async (signal) => {
      const result = await client.GET('/api/jobs', { params: { query: listQuery(filters) }, signal });
      return { jobs: unwrap(result) as Job[], after: afterOf(nextLink(result.response.headers.get('link'))) };
    },
    key,
    LIST_POLL_MS,
  );
  const set = (change: Partial<JobFilters>, replace = true) => {
    const q = filtersToQuery({ ...filters, after: '', ...change }).toString();
    navigate(`/jobs${q ? `?${q}` : ''}`, { replace });
  };
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <JobFiltersForm filters={filters} onChange={set} />
      <ProblemView error={error} />
      {data && data.jobs.length === 0 && <p>No jobs match.</p>}
      {data && data.jobs.length > 0 && (
        <div className="table-wrap">
          <table className="jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Attempts</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.jobs.map((job) => (
                <tr key={job.id} data-job-id={job.id} data-status={job.status}>
                  <td>
                    <Link to={`/jobs/${encodeURIComponent(job.id)}`}>{job.id.slice(0, 13)}…</Link>
                  </td>
                  <td>{job.task}</td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>
                    {job.progress ? (
                      <progress max={100} value={job.progress.percent} aria-label={`${job.id} progress`} />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {job.attempts}/{job.max_attempts}
                  </td>
                  <td>
                    <time dateTime={job.created_at}>{new Date(job.created_at).toLocaleString()}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        {filters.after && (
          <button type="button" onClick={() => set({ after: '' }, false)}>
            First page
          </button>
        )}
        {data?.after && (
          <button type="button" onClick={() => set({ after: data.after ?? '' }, false)}>
            Next page
          </button>
        )}
      </nav>
    </section>
  );
}

export function JobFiltersForm({
  filters,
  onChange,
}: {
  filters: JobFilters;
  onChange: (change: Partial<JobFilters>) => void;
}) {
  const toggle = (status: string, on: boolean) =>
    onChange({ status: on ? [...filters.status, status] : filters.status.filter((s) => s !== status) });
  return (
    <form className="filters" role="search" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <fieldset>
        <legend>Status</legend>
        {STATUSES.map((s) => (
          <label key={s} className="check">
            <input
              type="checkbox"
              name="status"
              value={s}
              checked={filters.status.includes(s)}
              onChange={(e) => toggle(s, e.target.checked)}
            />
            {s}
          </label>
        ))}
      </fieldset>
      <label>
        Task
        <input name="task" value={filters.task} onChange={(e) => onChange({ task: e.target.value })} />
      </label>
      <label>
        Type
        <select
          name="job_type"
          value={filters.job_type}
          onChange={(e) => onChange({ job_type: e.target.value as JobFilters['job_type'] })}
        >
          {JOB_TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        Agent
        <input name="agent_id" value={filters.agent_id} onChange={(e) => onChange({ agent_id: e.target.value })} />
      </label>
      <label>
        Order
        <select
          name="order"
          value={filters.order}
          onChange={(e) => onChange({ order: e.target.value as JobFilters['order'] })}
        >
          <option value="desc">newest first</option>
          <option value="asc">oldest first</option>
        </select>
      </label>
      <label>
        Created after
        <input
          type="datetime-local"
          name="created_after"
          value={toLocalInput(filters.created_after)}
          onChange={(e) => onChange({ created_after: fromLocalInput(e.target.value) })}
        />
      </label>
      <label>
        Created before
        <input
          type="datetime-local"
          name="created_before"
          value={toLocalInput(filters.created_before)}
          onChange={(e) => onChange({ created_before: fromLocalInput(e.target.value) })}
        />
      </label>
    </form>
  );
}
