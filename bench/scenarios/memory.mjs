// Scenario 4: the worker's resident set size while it runs many jobs (start, plateau, peak, end).
import { rssOf } from '../lib/stack.mjs';
import { median, round } from '../lib/stats.mjs';
import { throughput } from './throughput.mjs';

const SAMPLE_MS = 250;
const SETTLE_MS = 3000;
const MB = 1024 * 1024;

export async function memory(ctx) {
  const pid = ctx.workers[0].pid;
  const samples = [];
  const t0 = Date.now();
  const sample = () => {
    const rss = rssOf(pid);
    if (rss !== null) samples.push({ t: Date.now() - t0, rss });
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  let run;
  try {
    run = await throughput(ctx, { n: ctx.opts.memoryN, label: 'memory' });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    sample();
  } finally {
    clearInterval(timer);
  }
  const rss = samples.map((s) => s.rss);
  // Plateau: the typical RSS over the second half of the run, once the heap has reached its working size.
  const half = samples.filter((s) => s.t >= samples[samples.length - 1].t / 2).map((s) => s.rss);
  const plateau = median(half);
  const end = rss[rss.length - 1];
  const result = {
    jobs: ctx.opts.memoryN,
    run,
    samples: samples.length,
    startMb: round(rss[0] / MB, 1),
    plateauMb: round(plateau / MB, 1),
    peakMb: round(Math.max(...rss) / MB, 1),
    endMb: round(end / MB, 1),
    endVsPlateau: round(end / plateau, 3),
    series: downsample(samples, 40).map((s) => ({ t: s.t, mb: round(s.rss / MB, 1) })),
  };
  ctx.log(
    `memory: worker RSS start ${result.startMb} MB, plateau ${result.plateauMb}, peak ${result.peakMb}, end ${result.endMb} MB over ${result.jobs} jobs`,
  );
  return result;
}

function downsample(xs, n) {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}
