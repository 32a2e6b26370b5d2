import { parseArgs } from 'node:util';
import type { ApiClient } from '../client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import type { Io } from './jobs';

interface KeyObject {
  id: string;
  key?: string;
  prefix: string;
  user_id: string;
  organization_id: string;
  role: string;
  created_at: string;
  revoked_at?: string | null;
}

const need = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`--${flag} is required`);
  return v;
};

/** `jobs orgs create`, `jobs users create`, `jobs keys create|list|revoke`: the admin routes of API.md. */
export async function adminCommand(client: ApiClient, noun: string, args: string[], io: Io): Promise<number> {
  const [verb, ...rest] = args;
  const { values: v, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      organization: { type: 'string' },
      name: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const print = (obj: unknown, human: string) => io.out.write(v.json ? json(obj) : human);

  if (noun === 'orgs' && verb === 'create') {
    const name = positionals[0] ?? need(v.name, 'name');
    const org = await client.call<{ id: string; name: string }>('POST', '/api/admin/organizations', { name });
    print(org, `${org.id} ${org.name}\n`);
    return 0;
  }
  if (noun === 'users' && verb === 'create') {
    const user = await client.call<{ id: string; name: string }>('POST', '/api/admin/users', { organization_id: need(v.organization, 'organization'), name: need(v.name, 'name') });
    print(user, `${user.id} ${user.name}\n`);
    return 0;
  }
  if (noun === 'keys' && verb === 'create') {
    const key = await client.call<KeyObject>('POST', '/api/admin/api-keys', { user_id: need(v.user, 'user'), role: need(v.role, 'role') });
    // The clear key is shown this once; it goes to stdout alone so `$(jobs keys create ...)` captures it.
    print(key, `${key.key ?? ''}\n`);
    if (!v.json) process.stderr.write(`created ${key.id} (${key.role}, prefix ${key.prefix}); the key is not shown again\n`);
    return 0;
  }
  if (noun === 'keys' && verb === 'list') {
    const keys = await client.call<KeyObject[]>('GET', `/api/admin/api-keys${v.organization ? `?organization_id=${encodeURIComponent(v.organization)}` : ''}`);
    print(keys, table([['ID', 'PREFIX', 'ROLE', 'USER', 'CREATED', 'REVOKED'], ...keys.map((k) => [k.id, k.prefix, k.role, k.user_id, k.created_at, k.revoked_at ?? '-'])]));
    return 0;
  }
  if (noun === 'keys' && verb === 'revoke') {
    if (positionals.length !== 1) throw new UsageError('expected one key id');
    const key = await client.call<KeyObject>('DELETE', `/api/admin/api-keys/${encodeURIComponent(positionals[0]!)}`);
    print(key, `${key.id} revoked\n`);
    return 0;
  }
  throw new UsageError(`unknown command: ${noun} ${verb ?? ''}`.trim());
}
