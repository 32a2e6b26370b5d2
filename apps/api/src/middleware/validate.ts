import { BadRequestError, ValidationError, fieldErrorsFromIssues, findUnsafeString, idSchema, type IdPrefix } from '@jobs/core';
import type { z } from 'zod';

/** Parses with a zod schema; failures become a 400 naming every offending field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const unsafe = findUnsafeString(value);
  if (unsafe) throw new ValidationError([{ path: unsafe.join('.'), message: 'must not contain NUL characters or lone surrogates' }]);
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(fieldErrorsFromIssues(r.error.issues));
  return r.data;
}

/** A path id of the wrong shape is a 400, never a 404 or 500. */
export function pathId(prefix: IdPrefix, value: unknown, name = 'id'): string {
  const r = idSchema(prefix).safeParse(value);
  if (!r.success) throw new BadRequestError(`${name} must be an id of the form ${prefix}-<uuid4>`, [{ path: name, message: `must be an id of the form ${prefix}-<uuid4>` }]);
  return r.data;
}
