import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from './components/Link';
import { ProblemView } from './components/ProblemView';
import { useLocation } from './router';
import {
  endDashboardSession,
  isUnauthorized,
  openSession,
  SessionContext,
  storedCredentials,
  storeCredentials,
  useSession,
  type Credentials,
  type Session,
} from './session';
import { AdminView } from './views/AdminView';
import { JobsView } from './views/JobsView';
import { JobView } from './views/JobView';
import { SignIn } from './views/SignIn';
import { SourcesView, SourceView } from './views/SourcesView';

const ENDED: Record<Credentials['kind'], string> = {
  key: 'The API no longer accepts this key (revoked?): sign in again.',
  dashboard: 'The dashboard session has ended (signed out, expired, or its key revoked): sign in again.',
};

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedCredentials() !== null);
  const [error, setError] = useState<unknown>(null);
  const [noDashboardSession, setNoDashboardSession] = useState(false);
  // The sign-in whose refusals still count: a request refused after signing out says nothing new.
  const current = useRef<object | null>(null);

  const signIn = useCallback(async (credentials: Credentials) => {
    setError(null);
    setNoDashboardSession(false);
    const attempt = {};
    current.current = attempt;
    try {
      const opened = await openSession(credentials, () => {
        if (current.current !== attempt) return;
        current.current = null;
        storeCredentials(null);
        setSession(null);
        setError(new Error(ENDED[credentials.kind]));
      });
      storeCredentials(credentials);
      setSession(opened);
    } catch (err) {
      current.current = null;
      storeCredentials(null);
      if (credentials.kind === 'dashboard' && isUnauthorized(err)) {
        setError(null);
        setNoDashboardSession(true);
      } else setError(err);
    }
  }, []);

  useEffect(() => {
    const stored = storedCredentials();
    if (stored) void signIn(stored).finally(() => setRestoring(false));
  }, [signIn]);

  const signOut = () => {
    current.current = null;
    storeCredentials(null);
    setSession(null);
    // The console's own sign-out ends the dashboard session too: one session, one sign-out.
    if (session?.via === 'dashboard') endDashboardSession().catch(setError);
  };

  if (restoring && !session) return <p className="loading">Signing in…</p>;
  if (!session)
    return (
      <main className="signin-page">
        <SignIn onSignIn={signIn} noDashboardSession={noDashboardSession} returnTo={location.pathname + location.search} />
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
        <span className="role">
          role: {session.role}
          {session.via === 'dashboard' && ' · dashboard session'}
        </span>
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
