// Scenario 5: the throughput scenario with more worker processes.
import { throughput } from './throughput.mjs';

export async function scale(ctx) {
  const extra = [];
  try {
    while (ctx.workers.length + extra.length < ctx.opts.scaleWorkers) extra.push(await ctx.startWorker());
    const run = await throughput(ctx, { label: `scale (${ctx.opts.scaleWorkers} workers)` });
    return { workers: ctx.opts.scaleWorkers, ...run };
  } finally {
    for (const w of extra) await ctx.stopWorker(w);
  }
}
