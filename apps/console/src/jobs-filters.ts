/** The jobs list's filters, as the list route takes them and as the address bar keeps them. */
export interface JobFilters {
  status: string[];
  task: string;
  job_type: 'job' | 'run' | 'batch';
  agent_id: string;
  order: 'desc' | 'asc';
  /** Inclusive created_at bounds, as ISO 8601 UTC timestamps (what the list route takes). */
  created_after: string;
  created_before: string;
  limit: number;
  /** The keyset cursor: the page after this id. */
  after: string;
}

export const STATUSES = ['created', 'pending', 'running', 'completed', 'failed', 'cancelled', 'expired'] as const;
export const JOB_TYPES = ['job', 'run', 'batch'] as const;
export const DEFAULT_LIMIT = 50;

export const DEFAULT_FILTERS: JobFilters = {
  status: [],
  task: '',
  job_type: 'job',
  agent_id: '',
  order: 'desc',
  created_after: '',
  created_before: '',
  limit: DEFAULT_LIMIT,
  after: '',
};

/** An ISO timestamp from the address bar, or '' when it is not one (a hand-edited URL). */
const timestampOrEmpty = (value: string | null): string => {
  if (!value) return '';
  const time = Date.parse(value);
  return Number.isNaN(time) ? '' : new Date(time).toISOString();
};

const pad = (n: number) => String(n).padStart(2, '0');

/** A datetime-local input's value (the browser's zone, to the minute) for an ISO timestamp; '' for none. */
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The ISO UTC timestamp of a datetime-local value, read in the browser's zone; '' when cleared or incomplete. */
export function fromLocalInput(value: string): string {
  return value ? timestampOrEmpty(value) : '';
}

const oneOf = <T extends string>(values: readonly T[], value: string | null, fallback: T): T =>
  values.includes(value as T) ? (value as T) : fallback;

/** Reads filters from a query string; anything unknown falls back to the default rather than failing. */
export function filtersFromQuery(query: URLSearchParams): JobFilters {
  const limit = Number(query.get('limit'));
  return {
    status: query
      .getAll('status')
      .flatMap((s) => s.split(','))
      .filter((s): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s)),
    task: query.get('task') ?? '',
    job_type: oneOf(JOB_TYPES, query.get('job_type'), 'job'),
    agent_id: query.get('agent_id') ?? '',
    order: oneOf(['desc', 'asc'] as const, query.get('order'), 'desc'),
    created_after: timestampOrEmpty(query.get('created_after')),
    created_before: timestampOrEmpty(query.get('created_before')),
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : DEFAULT_LIMIT,
    after: query.get('after') ?? '',
  };
}

/** The query string of filters, defaults left out so that a plain list has a plain address. */
export function filtersToQuery(filters: JobFilters): URLSearchParams {
  const q = new URLSearchParams();
  for (const s of filters.status) q.append('status', s);
  if (filters.task) q.set('task', filters.task);
  if (filters.job_type !== 'job') q.set('job_type', filters.job_type);
  if (filters.agent_id) q.set('agent_id', filters.agent_id);
  if (filters.order !== 'desc') q.set('order', filters.order);
  if (filters.created_after) q.set('created_after', filters.created_after);
  if (filters.created_before) q.set('created_before', filters.created_before);
  if (filters.limit !== DEFAULT_LIMIT) q.set('limit', String(filters.limit));
  if (filters.after) q.set('after', filters.after);
  return q;
}

/** The list route's query for filters (empty ones left out). */
export function listQuery(filters: JobFilters) {
  return {
    ...(filters.status.length ? { status: filters.status as (typeof STATUSES)[number][] } : {}),
    ...(filters.task ? { task: filters.task } : {}),
    job_type: filters.job_type,
    ...(filters.agent_id ? { agent_id: filters.agent_id } : {}),
    order: filters.order,
    ...(filters.created_after ? { created_after: filters.created_after } : {}),
    ...(filters.created_before ? { created_before: filters.created_before } : {}),
    limit: filters.limit,
    ...(filters.after ? { after: filters.after } : {}),
  };
}

/** The `after` cursor of a `Link: rel="next"` target, if the list has a next page. */
export function afterOf(next: string | null): string | null {
  if (!next) return null;
  return new URL(next, 'http://api.invalid').searchParams.get('after');
}
