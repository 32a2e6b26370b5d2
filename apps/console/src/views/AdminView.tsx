import { useState, type FormEvent } from 'react';
import { nextLink, unwrap } from '@jobs/client';
import { afterOf } from '../jobs-filters';
import { ProblemView } from '../components/ProblemView';
import { useSession } from '../session';
import { usePoll } from '../use-poll';

/** Admin and operator views: the routes answer 403 to a member, and the console does not offer them one. */
export function AdminView() {
  return (
    <section aria-labelledby="admin-title" className="admin">
      <h1 id="admin-title">Admin</h1>
      <ApiKeys />
      <Users />
      <WebhookSecret />
      <Scheduler />
      <BatchJobs />
    </section>
  );
}

export function ApiKeys() {
  const { client } = useSession();
  const keys = usePoll(async (signal) => unwrap(await client.GET('/api/admin/api-keys', { signal })), 'keys', null);
  const [created, setCreated] = useState<{ id: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<'member' | 'admin' | 'operator'>('member');
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const key = unwrap(await client.POST('/api/admin/api-keys', { body: { user_id: userId.trim(), role } }));
      setCreated({ id: key.id, key: key.key });
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (id: string) => {
    setError(null);
    try {
      unwrap(await client.DELETE('/api/admin/api-keys/{id}', { params: { path: { id } } }));
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form className="inline-form" onSubmit={create}>
        <label>
          User id
          <input name="user_id" required value={userId} onChange={(e) => setUserId(e.target.value)} />
        </label>
        <label>
          Role
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option>member</option>
            <option>admin</option>
            <option>operator</option>
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>
      {created && <NewKey secret={created.key} onDismiss={() => setCreated(null)} />}
      <ProblemView error={error ?? keys.error} />
      {keys.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">User</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id}>
                  <td>
                    <code>{k.prefix}</code>
                  </td>
                  <td>{k.role}</td>
                  <td>
                    <code>{k.user_id}</code>
                  </td>
                  <td>{k.created_at}</td>
                  <td>
                    {k.revoked_at ? (
                      `revoked ${k.revoked_at}`
                    ) : (
                      <button type="button" onClick={() => revoke(k.id)} aria-label={`Revoke key ${k.prefix}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A new key's clear text: the API shows it once, so the console shows it until dismissed and keeps no copy. */
export function NewKey({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  return (
    <div className="new-key" role="status">
      <p>The new key, shown this once — copy it now:</p>
      <output aria-label="New API key">{secret}</output>
      <button type="button" onClick={onDismiss}>
        I have copied it
      </button>
    </div>
  );
}

/** Users: an admin's organization's, an operator's every organization's; one keyset page at a time. */
export function Users() {
  const { client, organizationId } = useSession();
  const [org, setOrg] = useState(organizationId ?? '');
  const [name, setName] = useState('');
  const [user, setUser] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [after, setAfter] = useState('');
  const users = usePoll(
    async (signal) => {
      const result = await client.GET('/api/admin/users', {
        params: { query: after ? { after } : {} },
        signal,
      });
      return { users: unwrap(result), after: afterOf(nextLink(result.response.headers.get('link'))) };
    },
    `users:${after}`,
    null,
  );
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setUser(
        unwrap(await client.POST('/api/admin/users', { body: { organization_id: org.trim(), name: name.trim() } })),
      );
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <form className="inline-form" onSubmit={create}>
        <label>
          Organization id
          <input name="organization_id" required value={org} onChange={(e) => setOrg(e.target.value)} />
        </label>
        <label>
          Name
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">Create user</button>
      </form>
      {user && (
        <p role="status">
          Created user {user.name}: <code>{user.id}</code>
        </p>
      )}
      <ProblemView error={error ?? users.error} />
      {users.data && (
        <div className="table-wrap">
          <table aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">User</th>
                <th scope="col">Organization</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.id} data-user-id={u.id}>
                  <td>{u.name}</td>
                  <td>
                    <code>{u.id}</code>
                  </td>
                  <td>
                    <code>{u.organization_id}</code>
                  </td>
                  <td>{u.created_at}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="User pages">
        {after && (
          <button type="button" onClick={() => setAfter('')}>
            First users
          </button>
        )}
        {users.data?.after && (
          <button type="button" onClick={() => setAfter(users.data?.after ?? '')}>
            More users
          </button>
        )}
      </nav>
    </section>
  );
}

function WebhookSecret() {
  const { client, organizationId } = useSession();
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (!organizationId) return null;
  const rotate = async () => {
    setError(null);
    try {
      setSecret(
        unwrap(
          await client.POST('/api/admin/organizations/{id}/webhook-secret/rotate', {
            params: { path: { id: organizationId } },
          }),
        ).webhook_secret,
      );
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="secret-title">
      <h2 id="secret-title">Webhook secret</h2>
      <p>
        Organization <code>{organizationId}</code>. A rotation keeps the old secret signing beside the new one for a
        day.
      </p>
      <button type="button" onClick={rotate}>
        Rotate webhook secret
      </button>
      {secret && <NewKey secret={secret} onDismiss={() => setSecret(null)} />}
      <ProblemView error={error} />
    </section>
  );
}

function Scheduler() {
  const { client } = useSession();
  const status = usePoll(
    async (signal) => unwrap(await client.GET('/api/admin/scheduler/status', { signal })),
    'scheduler',
    5000,
  );
  return (
    <section aria-labelledby="scheduler-title">
      <h2 id="scheduler-title">Scheduler</h2>
      <ProblemView error={status.error} />
      {status.data && (
        <>
          <p>Leader: {status.data.leader ? <code>{status.data.leader_id}</code> : 'none'}</p>
          <ul>
            {status.data.repeatable_jobs.map((j) => (
              <li key={j.name}>
                {j.name}: every {j.every_ms ?? '—'} ms, next {j.next_run_at ?? '—'}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function BatchJobs() {
  const { client } = useSession();
  const batches = usePoll(
    async (signal) => unwrap(await client.GET('/api/admin/batch-jobs', { signal })),
    'batch-jobs',
    5000,
  );
  return (
    <section aria-labelledby="batches-title">
      <h2 id="batches-title">Batch jobs</h2>
      <ProblemView error={batches.error} />
      {batches.data && batches.data.length === 0 && <p>No LLM batches.</p>}
      {batches.data && batches.data.length > 0 && (
        <ul>
          {batches.data.map((b) => (
            <li key={b.job_id}>
              <code>{b.job_id}</code> {b.status} / {b.processing_status}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
