import { useCallback, useEffect, useState } from 'react';
import { Link } from './components/Link';
import { ProblemView } from './components/ProblemView';
import { useLocation } from './router';
import { openSession, SessionContext, storedKey, storeKey, useSession, type Session } from './session';
import { AdminView } from './views/AdminView';
import { JobsView } from './views/JobsView';
import { JobView } from './views/JobView';
import { SignIn } from './views/SignIn';
import { SourcesView, SourceView } from './views/SourcesView';

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);
  const [error, setError] = useState<unknown>(null);

  const signIn = useCallback(async (key: string) => {
    setError(null);
    try {
      const opened = await openSession(key, () => {
        storeKey(null);
        setSession(null);
        setError(new Error('The API no longer accepts this key (revoked?): sign in again.'));
      });
      storeKey(key);
      setSession(opened);
    } catch (err) {
      storeKey(null);
      setError(err);
    }
  }, []);

  useEffect(() => {
    const key = storedKey();
    if (key) void signIn(key).finally(() => setRestoring(false));
  }, [signIn]);

  const signOut = () => {
    storeKey(null);
    setSession(null);
  };

  if (restoring && !session) return <p className="loading">Signing in…</p>;
  if (!session)
    return (
      <main className="signin-page">
        <SignIn onSignIn={signIn} />
        <ProblemView error={error} />
      </main>
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { path } = useLocation();
  const session = useSession();
  return (
    <>
      <header className="topbar">
        <strong className="brand">Jobs console</strong>
        <nav aria-label="Views">
          <Link to="/jobs" aria-current={path === '/' || path.startsWith('/jobs') ? 'page' : undefined}>
            Jobs
          </Link>
          <Link to="/jobs?job_type=run">Runs</Link>
          <Link to="/jobs?job_type=batch">Batches</Link>
          <Link to="/sources" aria-current={path.startsWith('/sources') ? 'page' : undefined}>
            Sources
          </Link>
          {session.role !== 'member' && (
            <Link to="/admin" aria-current={path.startsWith('/admin') ? 'page' : undefined}>
              Admin
            </Link>
          )}
          {session.role === 'operator' && <a href="/admin/queues">Queues</a>}
        </nav>
        <span className="role">role: {session.role}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <Route path={path} role={session.role} />
      </main>
    </>
  );
}

function Route({ path, role }: { path: string; role: string }) {
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job) return <JobView id={decodeURIComponent(job[1]!)} />;
  if (path === '/' || path === '/jobs') return <JobsView />;
  const source = /^\/sources\/([^/]+)$/.exec(path);
  if (source) return <SourceView id={decodeURIComponent(source[1]!)} />;
  if (path === '/sources') return <SourcesView />;
  if (path === '/admin')
    return role === 'member' ? <p role="alert">The admin view needs an admin or operator key.</p> : <AdminView />;
  return <p role="alert">No such view.</p>;
}
