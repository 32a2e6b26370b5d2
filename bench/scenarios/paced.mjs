// Scenario 2: open-loop creates at each offered rate (default 200/s and 500/s) for 20 s, with a callback_url per
// job and without; latency from the client's send time to the rows' timestamps, and from the terminal transition
// to the callback's arrival at the local receiver.
import { cpuMeter } from '../lib/cpu.mjs';
import { Outcomes, nowMs, runPaced } from '../lib/http-client.mjs';
import { scenarioTimes, startEpoch, waitTerminal } from '../lib/jobs.mjs';
import { percentiles } from '../lib/stats.mjs';

const CALLBACK_GRACE_MS = 10000;
// None at all this long after the last completion: this build has no callback delivery (reported as n/a).
const NO_CALLBACKS_AFTER_MS = 3000;

/** Every variant in turn (rate × callback), each on its own epoch; `variants` keeps the order they ran in. */
export async function paced(ctx) {
  const withCb = ctx.opts.pacedCallbacks === 'both' ? [false, true] : [ctx.opts.pacedCallbacks === 'with'];
  const variants = [];
  for (const callbacks of withCb) {
    for (const rate of ctx.opts.rates) {
      await startEpoch(ctx);
      variants.push(await pacedOnce(ctx, rate, callbacks));
    }
  }
  return { variants };
}

/** The variant at `rate` (callback or not), or undefined. */
export function pacedVariant(paced, rate, callbacks) {
  return paced?.variants?.find((v) => v.offeredRate === rate && v.callbacks === callbacks);
}

/** First callback attempt's start per job of the scenario (ms epoch), from the attempt log. */
async function firstAttemptTimes(ctx) {
  const { rows } = await ctx.db.pool.query(
    `SELECT a.job_id, extract(epoch FROM a.at) * 1000 AS at FROM callback_attempts a
      JOIN jobs j ON j.id = a.job_id WHERE a.attempt = 1 AND j.organization_id = $1 AND j.created_at >= $2`,
    [ctx.actor.organization_id, ctx.since],
  );
  return new Map(rows.map((r) => [r.job_id, Number(r.at)]));
}

async function pacedOnce(ctx, rate, callbacks) {
  const { pacedS } = ctx.opts;
  const count = Math.round(rate * pacedS);
  const sent = new Map(); // job id → send time
  const http = [];
  const outcomes = new Outcomes();
  const body = callbacks ? { task: 'noop', input: {}, callback_url: ctx.callbacks.url } : { task: 'noop', input: {} };
  ctx.callbacks.reset();
  const meter = await cpuMeter(ctx);
  const t0 = nowMs();
  await runPaced(rate, count, async () => {
    const at = nowMs();
    try {
      const res = await ctx.api.request('POST', '/api/jobs', body);
      http.push(nowMs() - at);
      if (outcomes.record(res, 201)) sent.set(res.json.id, at);
    } catch (err) {
      outcomes.record(err, 201);
    }
  });
  const offeredS = (nowMs() - t0) / 1000;
  const deadline = Date.now() + ctx.opts.timeoutS * 1000;
  const done = await waitTerminal(ctx, sent.size, deadline);

  // Callbacks are delivered by their own queue; give the tail a bounded moment to arrive.
  const cbStart = Date.now();
  while (callbacks && ctx.callbacks.arrivals.size < sent.size) {
    const waited = Date.now() - cbStart;
    if (waited > CALLBACK_GRACE_MS || (ctx.callbacks.arrivals.size === 0 && waited > NO_CALLBACKS_AFTER_MS)) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const cpu = await meter.stop();
  await new Promise((r) => setTimeout(r, 1200)); // pg_stat_database counters are flushed about once a second
  const db = await meter.dbActivity();
  const rows = await scenarioTimes(ctx);
  const attemptStarts = callbacks ? await firstAttemptTimes(ctx) : new Map();
  const toRunning = [];
  const toCompleted = [];
  const toCallback = [];
  const toInserted = [];
  const insertedToQueued = [];
  const queuedToRunning = [];
  const terminalToAttempt = [];
  const attemptToArrival = [];
  for (const r of rows) {
    const at = sent.get(r.id);
    if (at === undefined) continue;
    toInserted.push(Number(r.inserted) - at);
    if (r.queued !== null) insertedToQueued.push(Number(r.queued) - Number(r.inserted));
    if (r.queued !== null && r.started !== null) queuedToRunning.push(Number(r.started) - Number(r.queued));
    if (r.started !== null) toRunning.push(Number(r.started) - at);
    if (r.completed !== null) toCompleted.push(Number(r.completed) - at);
    const cb = ctx.callbacks.arrivals.get(r.id);
    if (cb !== undefined && r.completed !== null) toCallback.push(cb - Number(r.completed));
    const started = attemptStarts.get(r.id);
    if (started !== undefined && r.completed !== null) terminalToAttempt.push(started - Number(r.completed));
    if (started !== undefined && cb !== undefined) attemptToArrival.push(cb - started);
  }
  const result = {
    callbacks,
    offeredRate: rate,
    seconds: pacedS,
    sent: count,
    accepted: outcomes.ok,
    rejected: outcomes.failed,
    rejectSamples: outcomes.samples,
    achievedRate: Math.round(count / offeredS),
    completed: done.completed,
    timedOut: done.timedOut,
    httpCreateMs: percentiles(http),
    createToRunningMs: percentiles(toRunning),
    createToCompletedMs: percentiles(toCompleted),
    // Where create → running goes: send → insert, insert → `pending` write, `pending` write → `running` write.
    // A create inserts its row `pending` (both events at the insert's time), so the middle stage is 0 and the
    // last one holds the BullMQ add, the worker's wake-up and its claim.
    stagesMs: {
      sendToInsert: percentiles(toInserted),
      insertToQueued: percentiles(insertedToQueued),
      queuedToRunning: percentiles(queuedToRunning),
    },
    callbacksReceived: ctx.callbacks.arrivals.size,
    terminalToCallbackMs: toCallback.length ? percentiles(toCallback) : null,
    // Where terminal → callback goes: terminal write → first attempt's start (queue, wake-up, secrets read),
    // attempt start → arrival at the receiver (signing, the POST).
    callbackStagesMs: terminalToAttempt.length
      ? { terminalToAttempt: percentiles(terminalToAttempt), attemptToArrival: percentiles(attemptToArrival) }
      : null,
    // CPU milliseconds per accepted job (its callback included), by process group.
    cpuMsPerJob: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, outcomes.ok ? Math.round((v / outcomes.ok) * 1000) / 1000 : null])),
    // PostgreSQL work per accepted job: commits (each batched statement is one) and rows written or read.
    dbPerJob: Object.fromEntries(Object.entries(db).map(([k, v]) => [k, outcomes.ok ? Math.round((v / outcomes.ok) * 100) / 100 : null])),
    note: 'row timestamps have millisecond precision (timestamptz(3)); client send times are sub-millisecond',
  };
  const f = (p) => (p ? `p50 ${p.p50} / p99 ${p.p99} ms` : 'n/a');
  ctx.log(
    `paced ${rate}/s ${callbacks ? 'with' : 'without'} callbacks: create→running ${f(result.createToRunningMs)}, create→completed ${f(result.createToCompletedMs)}, terminal→callback ${f(result.terminalToCallbackMs)} (${result.callbacksReceived} callbacks); CPU ms/job ${JSON.stringify(result.cpuMsPerJob)}; PostgreSQL per job ${JSON.stringify(result.dbPerJob)}`,
  );
  return result;
}
