/** The problem document (RFC 9457) the API answers every error with. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** An answer that is not 2xx, carrying the problem document's detail and field errors. */
export class ApiError extends Error {
  readonly errors: { path: string; message: string }[];

  constructor(
    readonly status: number,
    readonly problem: Problem,
    statusText = '',
  ) {
    const errors = problem.errors ?? [];
    const detail = problem.detail ?? problem.title ?? statusText;
    super(`${status}: ${detail}${errors.length ? ` (${errors.map((e) => `${e.path}: ${e.message}`).join('; ')})` : ''}`);
    this.name = 'ApiError';
    this.errors = errors;
  }

  /** Reads the problem document from a failed response (a body that is not JSON becomes its detail). */
  static async from(res: Response): Promise<ApiError> {
    return new ApiError(res.status, problemOf(await res.text().catch(() => '')), res.statusText);
  }
}

export function problemOf(text: string): Problem {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Problem) : { detail: String(parsed) };
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

/**
 * The data of an openapi-fetch result, or the ApiError of its problem document: for callers that want the
 * answer or an exception rather than a `{ data, error }` pair.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  const error = result.error;
  throw new ApiError(result.response.status, error && typeof error === 'object' ? (error as Problem) : problemOf(typeof error === 'string' ? error : ''), result.response.statusText);
}
