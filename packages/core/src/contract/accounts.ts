import { z } from 'zod';
import { MAX_ORGANIZATION_WEIGHT, ROLES } from '../schemas';
import { idOf, nullableTimestamp, timestamp } from './common';

export const RoleSchema = z.enum(ROLES).meta({ id: 'Role' });

export const OrganizationSchema = z
  .strictObject({
    id: idOf('org'),
    name: z.string(),
    created_at: timestamp,
    webhook_secret: z.string().meta({ description: 'Signs the callbacks (Standard Webhooks)' }),
    weight: z
      .number()
      .int()
      .min(1)
      .max(MAX_ORGANIZATION_WEIGHT)
      .meta({ description: 'Its share of the turns workers take between organizations with work waiting (default 1)' }),
    max_concurrency: z
      .number()
      .int()
      .min(1)
      .nullable()
      .meta({ description: 'Most of its jobs running at once across every worker; null: no bound' }),
  })
  .meta({ id: 'Organization' });

export const UserSchema = z
  .strictObject({ id: idOf('user'), organization_id: idOf('org'), name: z.string(), created_at: timestamp })
  .meta({ id: 'User' });

const apiKeyFields = {
  id: idOf('key'),
  prefix: z.string().meta({ description: 'The first characters of the key, kept for identification' }),
  user_id: idOf('user'),
  organization_id: idOf('org'),
  role: RoleSchema,
  created_at: timestamp,
  revoked_at: nullableTimestamp,
};

/** An API key as listed and revoked: without its clear text. */
export const ApiKeySchema = z.strictObject(apiKeyFields).meta({ id: 'ApiKey' });

/** The answer to creating a key: the only time its clear text is shown. */
export const CreatedApiKeySchema = z
  .strictObject({ ...apiKeyFields, key: z.string().meta({ description: 'The clear text, shown this once' }) })
  .meta({ id: 'CreatedApiKey' });
