import { createHash } from 'node:crypto';
import { ConflictError, canonicalJson, newId, type Actor } from '@jobs/core';
import type { Db } from './client';
import { insertJobRows, type InsertValues } from './job-inserter';
import type { JobRow } from './job-row';
import type { CreateJobInput } from './job-store';

/** What makes two creates under one idempotency_key the same request: the body without the key (API.md). */
export function idempotencyHash(input: CreateJobInput): string | null {
  const { idempotency_key: key, ...rest } = input;
  return key ? createHash('sha256').update(canonicalJson(rest)).digest('hex') : null;
}

/** A new row's values in INSERT_COLUMNS order. */
export function newRowValues(actor: Actor, input: CreateJobInput, hash: string | null): InsertValues {
  const sourceId = typeof input.metadata['source_id'] === 'string' ? input.metadata['source_id'] : null;
  const runAt = input.delay_ms ? new Date(Date.now() + input.delay_ms) : null;
  return [
    newId('job'),
    actor.organizationId,
    actor.userId,
    input.job_type ?? 'job',
    input.task,
    input.background,
    JSON.stringify(input.input),
    JSON.stringify(input.metadata),
    input.agent_id ?? null,
    sourceId,
    input.priority ?? null,
    input.max_attempts,
    input.backoff_ms,
    input.timeout_ms ?? null,
    input.delay_ms ?? null,
    runAt,
    input.expires_at ? new Date(input.expires_at) : null,
    input.idempotency_key ?? null,
    hash,
    input.callback_url ?? null,
    input.concurrency_key ?? null,
    input.concurrency_limit ?? null,
  ];
}

export interface NewJobItem {
  key: string | null;
  hash: string | null;
  values: InsertValues;
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * Writes many new rows (and their creation events; `queued`: written `pending`, see insertJobRows) with one statement, so they exist all together or not at
 * all. Items with an idempotency_key are decided under the same per-key advisory locks as a single create: a
 * key seen within `since` with the same body answers that job, with another body it is a 409 and nothing is
 * written. Two items sharing a key are one request when their bodies match (the first one's job answers
 * both), and a 409 otherwise.
 */
export async function createJobRows(db: Db, actor: Actor, items: readonly NewJobItem[], since: Date, queued = false): Promise<{ job: JobRow; created: boolean }[]> {
  const firstOfKey = new Map<string, number>();
  items.forEach((item, i) => {
    if (item.key === null) return;
    const first = firstOfKey.get(item.key);
    if (first === undefined) return void firstOfKey.set(item.key, i);
    if (items[first]!.hash !== item.hash) {
      throw new ConflictError(`idempotency_key "${item.key}" is used by items ${first} and ${i} with different request bodies`);
    }
  });
  if (firstOfKey.size === 0) {
    const rows = await insertJobRows(db, items.map((i) => i.values), { queued });
    return rows.map((job) => ({ job, created: true }));
  }
  return db.$transaction(async (tx: Tx) => {
    const keys = [...firstOfKey.keys()];
    // The same lock as a single create takes per key, taken in one order so two bulk creates never deadlock.
    await tx.$executeRawUnsafe(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtext($1 || ':' || k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS locks`,
      actor.organizationId,
      keys,
    );
    const found = await tx.$queryRawUnsafe<JobRow[]>(
      `SELECT DISTINCT ON (idempotency_key) * FROM jobs
       WHERE organization_id = $1 AND idempotency_key = ANY($2::text[]) AND created_at > $3
       ORDER BY idempotency_key, created_at DESC`,
      actor.organizationId,
      keys,
      since,
    );
    const existing = new Map(found.map((row) => [row.idempotency_key!, row]));
    for (const [key, first] of firstOfKey) {
      const row = existing.get(key);
      if (row && row.idempotency_hash !== items[first]!.hash) {
        throw new ConflictError(`idempotency_key "${key}" (item ${first}) was already used with a different request body`);
      }
    }
    // Only the first item of a key not seen before makes a row; every other item answers a row.
    const toInsert = items.filter((item, i) => item.key === null || (firstOfKey.get(item.key) === i && !existing.has(item.key)));
    const inserted = toInsert.length > 0 ? await insertJobRows(tx as unknown as Db, toInsert.map((i) => i.values), { queued }) : [];
    const byId = new Map(inserted.map((job) => [job.id, job]));
    const ofKey = new Map<string, JobRow>(existing);
    for (const job of inserted) if (job.idempotency_key !== null) ofKey.set(job.idempotency_key, job);
    return items.map((item) => {
      const mine = byId.get(item.values[0] as string);
      // A repeat of a key inserted by this request answers the same job, reported as created once.
      return mine ? { job: mine, created: true } : { job: ofKey.get(item.key!)!, created: false };
    });
  });
}
