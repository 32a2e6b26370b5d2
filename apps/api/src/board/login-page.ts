const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The page needs nothing from elsewhere, so it can carry a strict policy even though the app disables CSP. */
export const LOGIN_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/**
 * Where a login may send the browser besides the board: the jobs console (any of its views), which links here
 * with `?next=`. Anything else is refused, so the form cannot be made into a redirect to another site.
 */
export function returnPath(value: unknown): string | null {
  return typeof value === 'string' && /^\/console(?:[/?#][^\\\s]*)?$/.test(value) ? value : null;
}

/**
 * The Bull Board login form: one password field for the operator key, posted back to /admin/login; `next`
 * (from returnPath) rides along as a hidden field.
 */
export function loginPage(next: string | null, message?: string): string {
  const notice = message ? `<p role="alert" class="error">${escapeHtml(message)}</p>` : '';
  const hidden = next ? `\n  <input type="hidden" name="next" value="${escapeHtml(next)}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Job service · operator login</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; }
  label, input, button { display: block; width: 100%; box-sizing: border-box; }
  input { margin: .4rem 0 1rem; padding: .5rem; font-family: monospace; }
  button { padding: .5rem; }
  .error { color: #a40000; }
</style>
</head>
<body>
<h1>Queues dashboard</h1>
${notice}
<form method="post" action="/admin/login">${hidden}
  <label for="key">Operator API key</label>
  <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>
</body>
</html>
`;
}
