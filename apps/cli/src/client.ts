/** The parts of the REST contract (API.md) the CLI reads. */
export interface Job {
  id: string;
  task: string;
  status: string;
  attempts: number;
  max_attempts: number;
  progress: { percent: number; message: string | null } | null;
  result: unknown;
  error: { message: string; code?: string } | null;
  stop_reason: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface JobEvent {
  seq: number;
  from: string | null;
  to: string;
  at: string;
  attempt: number;
  worker_id: string | null;
  reason: string | null;
}

/** An answer that is not 2xx, carrying the problem document's detail and field errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(`${status}: ${detail}${errors.length ? ` (${errors.map((e) => `${e.path}: ${e.message}`).join('; ')})` : ''}`);
  }
}

/** A thin HTTP client over the service's REST API; the key travels as a Bearer header. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), { accept: 'application/json' });
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : null;
    if (!res.ok) {
      const p = (parsed ?? {}) as { detail?: string; title?: string; errors?: { path: string; message: string }[] };
      throw new ApiError(res.status, p.detail ?? p.title ?? res.statusText, p.errors);
    }
    return parsed as T;
  }

  /** The Authorization header, for requests the client does not build itself (multipart uploads). */
  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.key}` };
  }

  async raw(method: string, path: string, body?: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    return fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body,
      signal,
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { detail: text.slice(0, 200) };
  }
}
