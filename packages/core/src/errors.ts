/** Errors that map to an HTTP problem document (RFC 9457) in one middleware. */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[], detail?: string) {
    super(400, 'Bad Request', detail ?? errors.map((e) => `${e.path || '(body)'}: ${e.message}`).join('; '), errors);
  }
}

export class BadRequestError extends AppError {
  constructor(detail: string, errors?: FieldError[]) {
    super(400, 'Bad Request', detail, errors);
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'Not found') {
    super(404, 'Not Found', detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string) {
    super(409, 'Conflict', detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid API key is required') {
    super(401, 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'Your role does not allow this') {
    super(403, 'Forbidden', detail);
  }
}

export class DependencyDownError extends AppError {
  constructor(dependency: string, retryAfterSeconds = 5) {
    super(503, 'Service Unavailable', `${dependency} is unavailable; try again shortly`, undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, limitPerSecond: number) {
    super(429, 'Too Many Requests', `This API key is limited to ${limitPerSecond} requests per second; retry after ${retryAfterSeconds} s`, undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

/** Thrown by tasks for failures that retrying cannot fix (bad input, a definitive refusal). */
export class PermanentError extends Error {
  readonly permanent = true;
  constructor(
    message: string,
    readonly code = 'permanent_error',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export function isPermanent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { permanent?: unknown }).permanent === true;
}

interface IssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
}

/** Field errors from zod issues: unknown keys are named one by one, nested paths are dotted. */
export function fieldErrorsFromIssues(issues: readonly IssueLike[], base: string[] = []): FieldError[] {
  return issues.flatMap((i) => {
    const path = [...base, ...i.path.map(String)];
    if (i.code === 'unrecognized_keys' && i.keys) {
      return i.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown field' }));
    }
    return [{ path: path.join('.'), message: i.message }];
  });
}
