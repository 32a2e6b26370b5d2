import { capturingLogger } from '../support/log-capture';
import { REDACTED, redactString, redactValue, registerSecrets, registerSettingsSecrets } from '../../packages/observability/src/redact';

/** SPEC F14: secrets are redacted from logs at any depth, by key name and by value; the walk is bounded. */
describe('log redaction', () => {
  const logged = (meta: Record<string, unknown>, message = 'line'): Record<string, unknown> => {
    const { logger, lines } = capturingLogger();
    logger.info(message, meta);
    return lines[0]!;
  };

  it('redacts secret keys at any depth, in arrays too, without touching the caller’s objects', () => {
    const meta = {
      request: { headers: { Authorization: 'Bearer abcdefgh', 'x-api-key': 'k-123456', cookie: 'sid=1', accept: 'json' } },
      orgs: [{ id: 'org-1', webhook_secret: 'whsec_x', previous_webhook_secret: 'whsec_y' }],
      deeper: { a: { b: { c: { password: 'hunter22', refresh_token: 'r', client_secret: 's', key_id: 'key-1' } } } },
    };
    const copy = JSON.parse(JSON.stringify(meta)) as typeof meta;
    const line = logged(meta);
    expect(line.request).toEqual({ headers: { Authorization: REDACTED, 'x-api-key': REDACTED, cookie: REDACTED, accept: 'json' } });
    expect(line.orgs).toEqual([{ id: 'org-1', webhook_secret: REDACTED, previous_webhook_secret: REDACTED }]);
    expect(line.deeper).toEqual({ a: { b: { c: { password: REDACTED, refresh_token: REDACTED, client_secret: REDACTED, key_id: 'key-1' } } } });
    expect(meta).toEqual(copy);
  });

  it('redacts secrets inside strings: key formats, bearer tokens, URL passwords, secret query parameters, registered values', () => {
    registerSecrets('configured-secret-value');
    const s = [
      'jsk_wqx3IDuBvAOpfADj_n1hVlcD5WD7J4y6lyRm1ZCIWxY',
      'whsec_AbXBFGB6Joto78njnJGwVEp3Fdhgps4bgHK%2BAqMeN54%3D',
      'sk-ant-api03-abcdefghijkl',
      'Authorization: Bearer abc.def.ghi',
      'postgresql://app:pa55word@db:5432/jobs',
      'https://h/x?api_key=one&token=two&page=3',
      'prefix configured-secret-value suffix and configured-secret-value',
    ].join(' | ');
    const out = redactString(s);
    for (const secret of ['wqx3IDuB', 'AbXBFGB6', 'abcdefghijkl', 'abc.def.ghi', 'pa55word', 'one', 'two', 'configured-secret-value']) expect(out).not.toContain(secret);
    expect(out).toContain('page=3');
    expect(out).toContain('postgresql://app:[redacted]@db:5432/jobs');
    const text = JSON.stringify(logged({ err: new Error(`failed: ${s}`), url: s }, `message with ${s}`));
    for (const secret of ['wqx3IDuB', 'AbXBFGB6', 'abcdefghijkl', 'abc.def.ghi', 'pa55word', 'configured-secret-value']) expect(text).not.toContain(secret);
  });

  it('redacts the message and nested errors (with their causes)', () => {
    const cause = Object.assign(new Error('token=abcdefgh'), { code: 'E1' });
    const line = logged({ err: new Error('outer jsk_wqx3IDuBvAOpfADj_n1hVlcD5WD7J4y6lyRm1ZCIWxY', { cause }) }, 'see sk-ant-api03-abcdefghijkl');
    const text = JSON.stringify(line);
    expect(text).not.toContain('wqx3IDuB');
    expect(text).not.toContain('abcdefghijkl');
    expect(text).not.toContain('abcdefgh"');
    expect(line.err).toMatchObject({ name: 'Error', message: `outer jsk_${REDACTED}`, cause: { message: `token=${REDACTED}`, code: 'E1' } });
  });

  it('is bounded: deep, wide and cyclic objects neither overflow nor stall', () => {
    let deep: Record<string, unknown> = { password: 'p4ssw0rd!' };
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    const cyclic: Record<string, unknown> = { name: 'a', token: 'secret-token' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic, { cyclic }];
    const wide = Array.from({ length: 50_000 }, (_, i) => ({ i, secret: 'shh-secret' }));
    const started = Date.now();
    const line = logged({ deep, cyclic, wide });
    expect(Date.now() - started).toBeLessThan(2000);
    const text = JSON.stringify(line);
    expect(text).not.toContain('p4ssw0rd');
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('shh-secret');
    expect(text).toContain('[circular]');
    expect(text).toContain('[too deep]');
    expect(text).toContain('[truncated]');
    // A shared (not cyclic) object is written out each time it appears.
    const shared = { v: 1 };
    expect(redactValue({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it('a short URL password (postgres:postgres) is redacted in the URL, not in every word it spells', () => {
    // Registered last in this file: configured secrets are process-wide.
    registerSettingsSecrets({
      DATABASE_URL: 'postgresql://postgres:postgres@host/db',
      REDIS_URL: 'redis://:0123456789abcdefXYZ@host:6379',
    });
    const line = logged({ url: 'postgresql://postgres:postgres@host/db', reason: 'postgres unavailable (ECONNREFUSED)' }, 'postgres unavailable, retrying');
    expect(line.message).toBe('postgres unavailable, retrying');
    expect(line.reason).toBe('postgres unavailable (ECONNREFUSED)');
    expect(line.url).toBe(`postgresql://postgres:${REDACTED}@host/db`);
    // A long (unambiguous) URL password is still redacted wherever it appears, not only inside its URL.
    expect(redactString('AUTH failed with 0123456789abcdefXYZ')).toBe(`AUTH failed with ${REDACTED}`);
  });

  it('keeps ordinary values as JSON would write them', () => {
    const at = new Date('2026-12-07T00:00:00.000Z');
    expect(redactValue({ at, n: 1, ok: true, none: null, list: [1, 'two'], map: new Map([['token', 'x']]) })).toEqual({
      at: '2026-12-07T00:00:00.000Z',
      n: 1,
      ok: true,
      none: null,
      list: [1, 'two'],
      map: { token: REDACTED },
    });
  });
});
