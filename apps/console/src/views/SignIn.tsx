import { useState, type FormEvent } from 'react';
import { dashboardLoginHref, storeCredentials, type Credentials } from '../session';

/**
 * Two ways in: an API key (kept in sessionStorage once the API accepted it), or the operator dashboard session
 * this browser may already hold. Without one, a link to the board's sign-in page, which comes back here.
 */
export function SignIn({
  onSignIn,
  noDashboardSession = false,
  returnTo = '/console',
}: {
  onSignIn: (credentials: Credentials) => Promise<void>;
  /** The last try of the dashboard session found none (or an ended one). */
  noDashboardSession?: boolean;
  /** The console path to come back to from the board's sign-in page. */
  returnTo?: string;
}) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const attempt = async (credentials: Credentials) => {
    setBusy(true);
    try {
      await onSignIn(credentials);
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await attempt({ kind: 'key', apiKey: key.trim() });
  };
  return (
    <div className="signin">
      <h1>Jobs console</h1>
      <form className="signin-form" onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <p className="hint">Kept in this tab's session storage only; closing the tab forgets it.</p>
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <section className="signin-form" aria-labelledby="dashboard-session">
        <h2 id="dashboard-session">Or the operator dashboard session</h2>
        <p className="hint">Signed in to the queues dashboard in this browser? The console can act with that session, no key to paste.</p>
        <button type="button" disabled={busy} onClick={() => void attempt({ kind: 'dashboard' })}>
          Use the dashboard session
        </button>
        {noDashboardSession && (
          <p role="status">
            No dashboard session in this browser.{' '}
            {/* Marked before leaving, so that the console opens with the session on the way back. */}
            <a href={dashboardLoginHref(returnTo)} onClick={() => storeCredentials({ kind: 'dashboard' })}>
              Sign in on the dashboard
            </a>{' '}
            with an operator key; it brings you back here.
          </p>
        )}
      </section>
    </div>
  );
}
