import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventLoopWatchdog, createLogger, eventLoopHangs, eventLoopLag, eventLoopSaturations, type HangReport } from '../../packages/observability/src';
import { waitFor } from '../support/wait';

/** Blocks the main thread outright, as a runaway synchronous handler would. */
function blockFor(ms: number): { started: number; ended: number } {
  const started = Date.now();
  while (Date.now() - started < ms) {
    // spin
  }
  return { started, ended: Date.now() };
}

const counterValue = async (c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> => (await c.get()).values[0]?.value ?? 0;

interface ReportLine extends HangReport {
  level: string;
  message: string;
  service: string;
  pid: number;
  thread: string;
}

describe('event loop watchdog', () => {
  const logger = createLogger({ level: 'error', service: 'test' });
  let dir: string;
  let reportPath: string;
  let watchdog: EventLoopWatchdog | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'watchdog-'));
    reportPath = path.join(dir, 'report.jsonl');
  });
  afterEach(async () => {
    await watchdog?.stop();
    watchdog = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = (): ReportLine[] =>
    existsSync(reportPath) ? readFileSync(reportPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ReportLine) : [];

  const start = (extra: ConstructorParameters<typeof EventLoopWatchdog>[1] = {}) => {
    watchdog = new EventLoopWatchdog(logger, {
      heartbeatMs: 100,
      checkIntervalMs: 100,
      timeoutMs: 600,
      reportPath,
      runningJobIds: () => ['job-11111111-1111-4111-8111-111111111111'],
      fields: { service: 'test' },
      ...extra,
    });
    watchdog.start();
    return watchdog;
  };

  it('reports a hang from its own thread while the main loop is still blocked, then critical while it lasts', async () => {
    const w = start();
    const heard: HangReport[] = [];
    w.onHang((r) => heard.push(r));
    const hangsBefore = await counterValue(eventLoopHangs);
    await w.online();
    await new Promise((r) => setTimeout(r, 200)); // the thread hears a heartbeat or two
    const block = blockFor(2500);

    // Everything below was written by the monitor thread before the main thread could run again.
    const written = lines();
    expect(written.length).toBeGreaterThanOrEqual(2);
    const [first, second] = written as [ReportLine, ReportLine];
    expect(first).toMatchObject({ level: 'error', message: 'event loop hang detected', severity: 'error', service: 'test', pid: process.pid, thread: 'watchdog' });
    expect(first.running_job_ids).toEqual(['job-11111111-1111-4111-8111-111111111111']);
    expect(first.active_handles).toBeGreaterThan(0);
    expect(first.memory.heap_used).toBeGreaterThan(0);
    expect(first.memory.rss_now).toBeGreaterThan(0);
    expect(first.blocked_ms).toBeGreaterThanOrEqual(600);
    expect(Date.parse(first.detected_at)).toBeLessThan(block.ended);
    expect(Date.parse(first.detected_at)).toBeGreaterThanOrEqual(block.started + 500);
    expect(second).toMatchObject({ severity: 'critical', hang_count: 1, first: false });

    // Once the loop runs again the reports arrive here too, and the hang is counted once.
    await waitFor(() => heard.length >= 2, 'hang reports posted to the main thread');
    expect(heard[0]).toMatchObject({ first: true, severity: 'error' });
    expect((await counterValue(eventLoopHangs)) - hangsBefore).toBe(1);
  });

  it('reports a new hang soon after the previous one as critical', async () => {
    const w = start({ timeoutMs: 400 });
    const heard: HangReport[] = [];
    w.onHang((r) => heard.push(r));
    await w.online();
    blockFor(900);
    await waitFor(() => heard.length >= 1, 'first hang');
    await new Promise((r) => setTimeout(r, 400)); // heartbeats resume: the first hang is over
    const before = heard.length;
    blockFor(900);
    await waitFor(() => heard.length > before, 'second hang');
    const next = heard[before]!;
    expect(next).toMatchObject({ first: true, severity: 'critical', hang_count: 2 });
  });

  it('stays quiet while the loop is healthy, measures lag, and counts a late heartbeat as saturation', async () => {
    start({ timeoutMs: 5000, saturationMs: 300 });
    const saturationsBefore = await counterValue(eventLoopSaturations);
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines()).toEqual([]);
    expect(await counterValue(eventLoopLag)).toBeLessThan(0.3);

    blockFor(700);
    await waitFor(async () => (await counterValue(eventLoopSaturations)) > saturationsBefore, 'saturation counted');
    expect(await counterValue(eventLoopLag)).toBeGreaterThanOrEqual(0.3);
    expect(lines()).toEqual([]);
  });
});

describe('event loop watchdog job notices', () => {
  it('sends a start at once and lets a finish ride on the next message: one message per job taken one at a time', async () => {
    const { Worker } = await import('node:worker_threads');
    const sent: { type: string; jobs?: { id: string; running: boolean }[] }[] = [];
    const spy = jest.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: unknown, m: unknown) {
      sent.push(m as (typeof sent)[number]);
    });
    const watchdog = new EventLoopWatchdog(createLogger({ level: 'error', service: 'test' }), { heartbeatMs: 60_000, checkIntervalMs: 60_000 });
    try {
      watchdog.start();
      const tick = () => new Promise((r) => setImmediate(r));
      for (let i = 0; i < 10; i++) {
        watchdog.jobStarted(`job-${i}`);
        await tick();
        watchdog.jobFinished(`job-${i}`);
        await tick();
      }
      const notices = sent.filter((m) => m.type === 'jobs');
      expect(notices).toHaveLength(10);
      // Every start, and every finish but the last (still waiting for a message to ride on), in order.
      expect(notices.flatMap((m) => m.jobs!.map((j) => `${j.running ? '+' : '-'}${j.id}`))).toEqual(
        Array.from({ length: 10 }, (_, i) => (i === 0 ? [`+job-0`] : [`-job-${i - 1}`, `+job-${i}`])).flat(),
      );
    } finally {
      spy.mockRestore();
      await watchdog.stop();
    }
  });
});
