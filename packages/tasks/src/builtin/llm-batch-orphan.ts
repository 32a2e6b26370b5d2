import type Anthropic from '@anthropic-ai/sdk';

/** Clock difference we allow between the provider's `created_at` and our database's `now()`. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** How long after an attempt recorded its intent its create can have reached the provider (the SDK's timeout is 60 s). */
const CREATE_WINDOW_MS = 10 * 60_000;
const PAGE = 100;

export type OrphanSearch = { kind: 'none' } | { kind: 'one'; batch: Anthropic.Messages.MessageBatch } | { kind: 'ambiguous'; ids: string[] };

/**
 * Looks at the provider for the batch an earlier attempt created but never recorded (it crashed between the
 * provider's create and our write). Anthropic batches carry no metadata and their requests are not readable
 * before they end, so what can be matched faithfully is: created in the window of that attempt's create
 * (its recorded start, within clock skew), with as many requests as ours, and owned by no batch row.
 * One such batch is ours; several are ambiguous (two same-sized orphans at once, or another user of the key).
 */
export async function findOrphan(
  anthropic: Pick<Anthropic, 'messages'>,
  opts: { startedAt: Date; requestCount: number; owned: (ids: readonly string[]) => Promise<Set<string>>; signal: AbortSignal },
): Promise<OrphanSearch> {
  const from = opts.startedAt.getTime() - CLOCK_SKEW_MS;
  const to = opts.startedAt.getTime() + CREATE_WINDOW_MS + CLOCK_SKEW_MS;
  const candidates: Anthropic.Messages.MessageBatch[] = [];
  // Newest first: stop at the first batch older than the window.
  for await (const b of anthropic.messages.batches.list({ limit: PAGE }, { signal: opts.signal })) {
    const created = Date.parse(b.created_at);
    if (created < from) break;
    if (created > to) continue;
    const c = b.request_counts;
    if (c.processing + c.succeeded + c.errored + c.canceled + c.expired === opts.requestCount) candidates.push(b);
  }
  const owned = await opts.owned(candidates.map((b) => b.id));
  const orphans = candidates.filter((b) => !owned.has(b.id));
  if (orphans.length === 0) return { kind: 'none' };
  if (orphans.length === 1) return { kind: 'one', batch: orphans[0]! };
  return { kind: 'ambiguous', ids: orphans.map((b) => b.id) };
}
