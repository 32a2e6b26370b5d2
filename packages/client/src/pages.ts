import { ApiError } from './api-error';
import type { paths } from './types';
import type { Send } from './watch';

type JsonOk<Op> = Op extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
type ListItem<P extends keyof paths> = paths[P] extends { get: infer Op } ? (JsonOk<Op> extends readonly (infer I)[] ? I : never) : never;
type Params<P extends keyof paths> = paths[P] extends { get: { parameters: infer Ps } } ? Ps : never;

/** The paths whose GET answers a JSON array: the lists that `pages` can follow. */
export type ListPath = { [P in keyof paths]: [ListItem<P>] extends [never] ? never : P }[keyof paths];
export type ListQuery<P extends ListPath> = NonNullable<Params<P> extends { query?: infer Q } ? Q : never>;
export type ListPathParams<P extends ListPath> = NonNullable<Params<P> extends { path?: infer Q } ? Q : never>;
export type { ListItem };

export interface PagesOptions<P extends ListPath> {
  /** Values for the `{name}` parts of the path. */
  path?: ListPathParams<P>;
  signal?: AbortSignal;
}

/**
 * The pages of a list, first to last: each page is fetched when the previous one was taken, following the
 * `Link: <...>; rel="next"` header the API sets on a full page; it stops at a page without one.
 */
export async function* listPages<P extends ListPath>(send: Send, path: P, query?: ListQuery<P>, opts: PagesOptions<P> = {}): AsyncGenerator<ListItem<P>[]> {
  let next: string | null = withQuery(fillPath(path, opts.path as Record<string, string> | undefined), query as Record<string, unknown> | undefined);
  while (next) {
    const res = await send(next, { headers: { accept: 'application/json' }, signal: opts.signal });
    if (!res.ok) throw await ApiError.from(res);
    const page = (await res.json()) as ListItem<P>[];
    next = nextLink(res.headers.get('link'));
    if (page.length) yield page;
  }
}

/** The target of a `rel="next"` link in a Link header, if any. */
export function nextLink(header: string | null): string | null {
  for (const part of header?.split(/,(?=\s*<)/) ?? []) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2]!)) return m[1]!;
  }
  return null;
}

function fillPath(path: string, params: Record<string, string> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`path parameter ${name} is missing for ${path}`);
    return encodeURIComponent(value);
  });
}

function withQuery(path: string, query: Record<string, unknown> | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined && item !== null) params.append(name, String(item));
  }
  return params.size ? `${path}?${params}` : path;
}
