import createClient, { type Client } from 'openapi-fetch';
import { listPages, type ListItem, type ListPath, type ListQuery, type PagesOptions } from './pages';
import type { paths } from './types';
import { watchJob, type WatchEvent, type WatchOptions } from './watch';

export interface JobsClientOptions {
  /** The API's address, e.g. http://127.0.0.1:8283 */
  baseUrl: string;
  /**
   * An API key; it travels as a Bearer header. Omitted in a browser page of the service itself that is
   * signed in to the operator dashboard: that session's cookie authenticates instead (see `headers`).
   */
  apiKey?: string;
  /** Headers for every request, e.g. `{ 'X-Jobs-Console': '1' }`, without which the API ignores the dashboard session cookie. */
  headers?: Record<string, string>;
  /** Whether the browser sends its cookies (fetch's `credentials`); the dashboard session needs `same-origin` or `include`. */
  credentials?: RequestInit['credentials'];
  /** A fetch to send requests with (the global one by default). */
  fetch?: (request: Request) => Promise<Response>;
}

/** The typed openapi-fetch client of the API (GET, POST, ... by path), plus the helpers the API's design calls for. */
export type JobsClient = Client<paths> & {
  readonly baseUrl: string;
  /** The status events of a job until its terminal one, resuming with Last-Event-ID after a dropped connection. */
  watch(jobId: string, opts?: WatchOptions): AsyncGenerator<WatchEvent>;
  /** The pages of a list, following `Link: rel="next"`. */
  pages<P extends ListPath>(path: P, query?: ListQuery<P>, opts?: PagesOptions<P>): AsyncGenerator<ListItem<P>[]>;
};

export function createJobsClient(opts: JobsClientOptions): JobsClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const fixed: Record<string, string> = { ...opts.headers, ...(opts.apiKey !== undefined ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
  const credentials = opts.credentials !== undefined ? { credentials: opts.credentials } : {};
  const fetchRequest = opts.fetch ?? ((request: Request) => globalThis.fetch(request));
  const api = createClient<paths>({ baseUrl, headers: fixed, fetch: fetchRequest, ...credentials });
  const send = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(fixed)) headers.set(name, value);
    return fetchRequest(new Request(/^https?:\/\//i.test(path) ? path : `${baseUrl}${path}`, { ...credentials, ...init, headers }));
  };
  return Object.assign(api, {
    baseUrl,
    watch: (jobId: string, watchOpts?: WatchOptions) => watchJob(send, jobId, watchOpts),
    pages: <P extends ListPath>(path: P, query?: ListQuery<P>, pagesOpts?: PagesOptions<P>) => listPages(send, path, query, pagesOpts),
  });
}
