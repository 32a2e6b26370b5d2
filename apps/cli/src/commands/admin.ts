import { parseArgs } from 'node:util';
import { unwrap, type JobsClient, type JsonBody } from '@jobs/client';
import { json, table } from '../format';
import { UsageError } from '../usage';
import { intArg, type Io } from './jobs';

const need = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`--${flag} is required`);
  return v;
};

/** `jobs orgs create|set`, `jobs users create`, `jobs keys create|list|revoke`: the admin routes of API.md. */
export async function adminCommand(client: JobsClient, noun: string, args: string[], io: Io): Promise<number> {
  const [verb, ...rest] = args;
  const { values: v, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      organization: { type: 'string' },
      name: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string' },
      weight: { type: 'string' },
      'max-concurrency': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const print = (obj: unknown, human: string) => io.out.write(v.json ? json(obj) : human);

  if (noun === 'orgs' && verb === 'create') {
    const name = positionals[0] ?? need(v.name, 'name');
    const org = unwrap(await client.POST('/api/admin/organizations', { body: { name } }));
    print(org, `${org.id} ${org.name}\n`);
    return 0;
  }
  if (noun === 'orgs' && verb === 'set') {
    if (positionals.length !== 1) throw new UsageError('expected one organization id');
    const cap = v['max-concurrency'];
    const body = {
      ...(v.weight !== undefined ? { weight: intArg('weight', v.weight)! } : {}),
      ...(cap !== undefined ? { max_concurrency: cap === 'none' ? null : intArg('max-concurrency', cap)! } : {}),
    };
    if (Object.keys(body).length === 0) throw new UsageError('give --weight and/or --max-concurrency');
    const org = unwrap(await client.PATCH('/api/admin/organizations/{id}', { params: { path: { id: positionals[0]! } }, body }));
    print(org, `${org.id} weight ${org.weight} max_concurrency ${org.max_concurrency ?? 'none'}\n`);
    return 0;
  }
  if (noun === 'users' && verb === 'create') {
    const user = unwrap(await client.POST('/api/admin/users', { body: { organization_id: need(v.organization, 'organization'), name: need(v.name, 'name') } }));
    print(user, `${user.id} ${user.name}\n`);
    return 0;
  }
  if (noun === 'keys' && verb === 'create') {
    // The role goes as typed: the API names a wrong one in its 400.
    const body = { user_id: need(v.user, 'user'), role: need(v.role, 'role') } as JsonBody<'/api/admin/api-keys', 'post'>;
    const key = unwrap(await client.POST('/api/admin/api-keys', { body }));
    // The clear key is shown this once; it goes to stdout alone so `$(jobs keys create ...)` captures it.
    print(key, `${key.key ?? ''}\n`);
    if (!v.json) process.stderr.write(`created ${key.id} (${key.role}, prefix ${key.prefix}); the key is not shown again\n`);
    return 0;
  }
  if (noun === 'keys' && verb === 'list') {
    const keys = unwrap(await client.GET('/api/admin/api-keys', { params: { query: v.organization ? { organization_id: v.organization } : {} } }));
    print(keys, table([['ID', 'PREFIX', 'ROLE', 'USER', 'CREATED', 'REVOKED'], ...keys.map((k) => [k.id, k.prefix, k.role, k.user_id, k.created_at, k.revoked_at ?? '-'])]));
    return 0;
  }
  if (noun === 'keys' && verb === 'revoke') {
    if (positionals.length !== 1) throw new UsageError('expected one key id');
    const key = unwrap(await client.DELETE('/api/admin/api-keys/{id}', { params: { path: { id: positionals[0]! } } }));
    print(key, `${key.id} revoked\n`);
    return 0;
  }
  throw new UsageError(`unknown command: ${noun} ${verb ?? ''}`.trim());
}
