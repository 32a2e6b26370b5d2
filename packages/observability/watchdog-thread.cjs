'use strict';
/*
 * The event-loop watchdog's monitor thread (SPEC F12). It lives in plain CommonJS beside the package's
 * src/ and dist/ so the same file runs under ts-jest and from the build.
 *
 * The main thread posts a heartbeat every second carrying its diagnostics (running job ids, active
 * handles, heap), and a note whenever a job starts or finishes. This thread checks every `checkIntervalMs`; a silence of `timeoutMs` is a hang. While the
 * main loop is blocked it can neither log nor receive anything, so this thread writes the report itself,
 * synchronously, straight to a file descriptor (stdout by default): process.stdout in a worker thread is
 * relayed through the main thread and would stay silent until the hang ends. It also posts the report so
 * the main thread can count it once it runs again.
 */
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');

const { checkIntervalMs, timeoutMs, repeatWindowMs, reportPath, fields } = workerData;
const fd = reportPath ? fs.openSync(reportPath, 'a') : 1;

let last = { at: Date.now(), runningJobIds: [], activeHandles: 0, memory: null };
// Running jobs: sampled with every heartbeat, plus start/finish notes sent as they happen. A job that
// blocks the loop right as it starts began after the last heartbeat, and is exactly the one to name.
const noted = new Map();
let inHang = false;
let hangs = 0;
let lastHangEndedAt = 0;

parentPort.on('message', (msg) => {
  if (msg && msg.type === 'beat') {
    if (inHang) {
      inHang = false;
      lastHangEndedAt = Date.now();
      parentPort.postMessage({ type: 'recovered', blockedMs: Date.now() - last.at });
    }
    last = msg;
    // A note younger than a heartbeat may predate the runner's own bookkeeping; older ones the sample
    // no longer lists are over (finished where no note was sent, e.g. cancelled from another process).
    for (const [id, at] of noted) if (!msg.runningJobIds.includes(id) && msg.at - at > 5000) noted.delete(id);
  } else if (msg && msg.type === 'jobs') {
    // One message per main-loop tick, carrying that tick's starts and finishes in order.
    for (const j of msg.jobs) {
      if (j.running) noted.set(j.id, Date.now());
      else noted.delete(j.id);
    }
  } else if (msg && msg.type === 'stop') {
    clearInterval(timer);
    if (reportPath) fs.closeSync(fd);
    parentPort.close();
  }
});

function check() {
  const now = Date.now();
  const silentMs = now - last.at;
  if (silentMs < timeoutMs) return;
  // The first report of a hang is an error; the same hang still going at the next check, or a new hang
  // soon after the previous one, is critical: the process is not recovering on its own.
  const repeat = inHang || (lastHangEndedAt > 0 && now - lastHangEndedAt < repeatWindowMs);
  if (!inHang) hangs += 1;
  const report = {
    first: !inHang,
    severity: repeat ? 'critical' : 'error',
    detected_at: new Date(now).toISOString(),
    blocked_ms: silentMs,
    hang_count: hangs,
    running_job_ids: [...new Set([...last.runningJobIds, ...noted.keys()])],
    active_handles: last.activeHandles,
    memory: { ...last.memory, rss_now: process.memoryUsage.rss() },
  };
  inHang = true;
  const line = { level: 'error', message: 'event loop hang detected', ...fields, thread: 'watchdog', timestamp: report.detected_at, ...report };
  try {
    fs.writeSync(fd, JSON.stringify(line) + '\n');
  } catch {
    // Nowhere left to write; the posted report still reaches the main thread when it wakes.
  }
  parentPort.postMessage({ type: 'hang', report });
}

const timer = setInterval(check, checkIntervalMs);
