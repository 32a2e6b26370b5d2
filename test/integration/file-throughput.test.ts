import { availableParallelism } from 'node:os';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { englishLikeText } from '../support/corpus';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { makePdf, upload } from '../support/uploads';
import { waitFor } from '../support/wait';

interface ApiFile {
  id: string;
  status: string;
  error_message: string | null;
  total_chunks: number | null;
  chunks_embedded: number;
}

const MB = 1024 * 1024;
const round = (n: number, d = 2) => Number(n.toFixed(d));

async function processAll(stack: TestStack, files: { name: string; type: string; bytes: Uint8Array | string }[]): Promise<{ seconds: number; files: ApiFile[] }> {
  const source = expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'perf' }), 201).id;
  // Uploads first, then the clock runs from the first job's queueing to the last file's completion.
  const started = Date.now();
  const ids = await Promise.all(
    files.map(async (f) => {
      const res = await upload(stack, source, f.name, f.bytes, { type: f.type });
      if (res.status !== 202) throw new Error(`upload ${f.name}: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body as { id: string }).id;
    }),
  );
  const done = await waitFor(async () => {
    const all = await Promise.all(ids.map(async (id) => (await stack.request('GET', `/api/files/${id}`)).body as ApiFile));
    return all.every((f) => f.status === 'completed' || f.status === 'error') ? all : null;
  }, 'every file to end', 600_000, 100);
  return { seconds: (Date.now() - started) / 1000, files: done };
}

describe('a 20 MB text file: the worker event loop stays free while it is processed', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: true, env: { EVENT_LOOP_THREADPOOL_MAX_WORKERS: String(availableParallelism()) } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('processes it to completed without blocking the event loop (lag measured and reported)', async () => {
    const text = englishLikeText(20 * MB);
    const source = expectStatus<{ id: string }>(await stack.request('POST', '/api/sources', { name: 'big' }), 201).id;
    const res = await upload(stack, source, 'big.txt', text, { type: 'text/plain' });
    expect(res.status).toBe(202);
    const id = (res.body as { id: string }).id;
    // The worker runs in this process: this loop is the worker's, on which BullMQ renews its locks.
    const gcs: string[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.duration > 20) gcs.push(`${e.duration.toFixed(0)}ms kind ${(e as unknown as { detail?: { kind?: number } }).detail?.kind}`);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    let worstTick = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worstTick = Math.max(worstTick, now - last - 20);
      last = now;
    }, 20);
    const started = Date.now();
    let file: ApiFile;
    try {
      file = await waitFor(async () => {
        const f = (await stack.request('GET', `/api/files/${id}`)).body as ApiFile;
        return f.status === 'completed' || f.status === 'error' ? f : null;
      }, 'the 20 MB file to end', 600_000, 250);
    } finally {
      clearInterval(ticker);
      histogram.disable();
      gcObserver.disconnect();
      console.log('GC pauses over 20 ms:', gcs);
    }
    const seconds = (Date.now() - started) / 1000;
    const lag = { max_ms: round(histogram.max / 1e6, 1), p99_ms: round(histogram.percentile(99) / 1e6, 1), mean_ms: round(histogram.mean / 1e6, 1), worst_20ms_tick_late_ms: round(worstTick, 1) };
    console.log(`[measured] 20 MB text: ${file.status} with ${file.total_chunks} chunks in ${seconds.toFixed(1)} s (${round(20 / seconds)} MB/s); event-loop lag ${JSON.stringify(lag)}`);
    expect(file.status).toBe('completed');
    expect(file.chunks_embedded).toBe(file.total_chunks);
    // The lag is a figure, reported above (the bar is 100 ms; README has the measured values), not a timed
    // assertion that a loaded CI machine could fail. What is asserted is the gross regression: parsing, chunking or
    // hashing 20 MB on this loop would block it for seconds at a time.
    expect(lag.max_ms).toBeLessThan(2000);
  }, 660_000);
});

describe('pipeline throughput with the local embedder, 1 thread and N threads (reported)', () => {
  const threadCounts = [...new Set([1, availableParallelism()])];
  const figures: Record<string, unknown>[] = [];
  afterAll(() => {
    console.log(`[measured] file pipeline throughput (availableParallelism ${availableParallelism()}):\n${figures.map((f) => JSON.stringify(f)).join('\n')}`);
  });

  for (const threads of threadCounts) {
    describe(`EVENT_LOOP_THREADPOOL_MAX_WORKERS=${threads}`, () => {
      let stack: TestStack;
      beforeAll(async () => {
        stack = await startStack({ worker: true, env: { EVENT_LOOP_THREADPOOL_MAX_WORKERS: String(threads) } });
      });
      afterAll(async () => {
        await stack.stop();
      });

      it('text: 4 files of 4 MB at once', async () => {
        const files = [0, 1, 2, 3].map((i) => ({ name: `t${i}.txt`, type: 'text/plain', bytes: englishLikeText(4 * MB, i + 1) }));
        const { seconds, files: done } = await processAll(stack, files);
        expect(done.every((f) => f.status === 'completed')).toBe(true);
        figures.push({ threads, kind: 'text', mb: 16, seconds: round(seconds), mb_per_s: round(16 / seconds) });
      }, 620_000);

      it('PDF: 4 files of 40 pages at once', async () => {
        const pdf = await makePdf(40, (i) => `Page ${i}. ${englishLikeText(600, i)}`.replace(/\n/g, ' ').slice(0, 90));
        const files = [0, 1, 2, 3].map((i) => ({ name: `p${i}.pdf`, type: 'application/pdf', bytes: pdf }));
        const { seconds, files: done } = await processAll(stack, files);
        expect(done.every((f) => f.status === 'completed')).toBe(true);
        figures.push({ threads, kind: 'pdf', pages: 160, seconds: round(seconds), pages_per_s: round(160 / seconds, 1) });
      }, 620_000);
    });
  }
});
