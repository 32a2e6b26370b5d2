import { z } from 'zod';
import { idPattern, type IdPrefix } from '../ids';

/**
 * Building blocks of the response contract (API.md): timestamps are ISO 8601 in UTC with a `Z` and millisecond
 * precision, ids carry their prefix. Objects are strict so that a response with a field the contract does not
 * name fails its check as surely as one missing a field.
 */
export const timestamp = z.iso
  .datetime({ precision: 3 })
  .meta({ id: 'Timestamp', description: 'ISO 8601 in UTC, millisecond precision, e.g. 2026-11-22T10:00:00.000Z' });
export const nullableTimestamp = timestamp.nullable();

export const idOf = (prefix: IdPrefix) =>
  z
    .string()
    .regex(idPattern(prefix))
    .meta({ description: `\`${prefix}-<uuid4>\`` });

/** Any JSON object (free-form: task input, metadata, provider payloads). */
export const jsonObject = z.record(z.string(), z.unknown());

/** Any JSON value, null included. */
export const jsonValue = z.unknown();
