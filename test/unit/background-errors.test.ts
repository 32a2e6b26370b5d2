import { backgroundErrors, reportBackgroundError, setBackgroundErrorLogger, LOG_INTERVAL_MS } from '../../packages/observability/src';
import { capturingLogger } from '../support/log-capture';

/** Background errors: every one counted, at most one log line per source per interval, with the number suppressed. */
describe('reportBackgroundError', () => {
  afterEach(() => setBackgroundErrorLogger(undefined));

  const count = async (source: string) => (await backgroundErrors.get()).values.find((v) => v.labels.source === source)?.value ?? 0;

  it('logs the first error of a source, suppresses the rest for an interval, then says how many it suppressed', async () => {
    const { logger, lines } = capturingLogger();
    setBackgroundErrorLogger(logger);
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) reportBackgroundError('unit_a', Object.assign(new Error(`boom ${i}`), { code: 'ECONNRESET' }), t0 + i * 100);
    reportBackgroundError('unit_b', new Error('other source'), t0 + 200);
    reportBackgroundError('unit_a', new Error('boom later'), t0 + LOG_INTERVAL_MS + 1);
    const a = lines.filter((l) => l.source === 'unit_a');
    expect(a).toEqual([
      expect.objectContaining({ level: 'warn', message: 'background error', err: 'boom 0', code: 'ECONNRESET', suppressed: 0 }),
      expect.objectContaining({ err: 'boom later', suppressed: 4 }),
    ]);
    expect(lines.filter((l) => l.source === 'unit_b')).toHaveLength(1);
    expect(await count('unit_a')).toBe(6);
    expect(await count('unit_b')).toBe(1);
  });
});
