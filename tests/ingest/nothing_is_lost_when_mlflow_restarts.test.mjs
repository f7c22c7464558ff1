// MLflow is stopped while two edgetrace apps are sending traces through the ingest Worker
// (workerd), one to a queue-mode service and one to a direct-mode service. Then MLflow is started
// again on the same port and data. Every trace arrives, counted exactly and read back span by span:
// the queue consumer retries in queue mode, and in direct mode the SDK retries after the
// service's 503 + Retry-After.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createExperiment, getTrace, searchAllTraces, startMlflow } from '../node/helpers/mlflow.mjs';
import { ingestMiniflare, repo, until } from './helpers.mjs';

const N = Number(process.env.RESTART_TRACES || 1000);
// MLflow stays down at least this long (its restart adds a few seconds more).
const DOWN_MS = Number(process.env.RESTART_DOWN_SECONDS || 30) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sender(endpoint, key, experimentId, count, intervalMs) {
  const child = spawn(process.execPath, [join(repo, 'tests/ingest/fixtures/send-traces.mjs'), endpoint, key, experimentId, String(count), String(intervalMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => {
    err += d;
    if (/\d+\/\d+/.test(String(d))) process.stderr.write(String(d));
  });
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`sender ${key} exited ${code}: ${err.slice(-2000)}`))));
  });
  return { child, done };
}

test(`MLflow stopped for ${DOWN_MS / 1000} s while ${N} traces per mode are sent, then restarted: every trace arrives in queue mode and in 503-and-retry mode`, { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgetrace-restart-'));
  let mlflow = await startMlflow({ own: true, dir, quiet: true });
  const services = [];
  const senders = [];
  try {
    const exp = { queue: await createExperiment(mlflow.url, 'restart-queue'), direct: await createExperiment(mlflow.url, 'restart-direct') };
    const INGEST_KEYS = JSON.stringify({ pk_queue: { origins: [], experimentId: exp.queue }, pk_direct: { origins: [], experimentId: exp.direct } });
    const queueMf = ingestMiniflare({ MLFLOW_TRACKING_URI: mlflow.url, INGEST_KEYS, QUEUE_RETRY_DELAY_SECONDS: '2', RATE_LIMIT_PER_MINUTE: '0' }, { queue: true, port: 0, maxRetries: 100 });
    services.push(queueMf);
    const directMf = ingestMiniflare({ MLFLOW_TRACKING_URI: mlflow.url, INGEST_KEYS, RELAY_ATTEMPTS: '2', RELAY_TIMEOUT_MS: '3000', RETRY_AFTER_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '0' }, { port: 0 });
    services.push(directMf);
    const url = async (mf) => String(await mf.ready).replace(/\/$/, '');
    const q = sender(await url(queueMf), 'pk_queue', exp.queue, N, 10);
    const d = sender(await url(directMf), 'pk_direct', exp.direct, N, 10);
    senders.push(q.child, d.child);

    // The outage starts in the middle: once some traces are in MLflow.
    await until(async () => (await searchAllTraces(mlflow.url, exp.direct)).length >= 10, { timeoutMs: 60_000, intervalMs: 250, what: 'the first traces in MLflow' });
    const before = { queue: (await searchAllTraces(mlflow.url, exp.queue)).length, direct: (await searchAllTraces(mlflow.url, exp.direct)).length };
    console.error(`[restart] stopping MLflow with ${before.queue} + ${before.direct} traces in`);
    await mlflow.stop();
    const downAt = Date.now();
    await sleep(DOWN_MS);
    mlflow = await startMlflow({ own: true, dir, port: mlflow.port, quiet: true });
    console.error(`[restart] MLflow back after ${((Date.now() - downAt) / 1000).toFixed(1)} s down`);
    assert.ok(before.queue < N && before.direct < N, 'the outage began while traces were still being sent');

    const [sq, sd] = await Promise.all([q.done, d.done]);
    for (const s of [sq, sd]) {
      assert.equal(s.sent, N);
      assert.equal(s.stats.dropped.total, 0, JSON.stringify(s.stats));
      assert.equal(s.stats.failedRequests, 0);
    }
    assert.ok(sd.stats.retried > 0, 'the direct-mode SDK retried after 503s');

    for (const [mode, s] of [['queue', sq], ['direct', sd]]) {
      const expected = new Set(s.traceIds);
      assert.equal(expected.size, N);
      // Search pages while traces still arrive can overlap, so compare sets of ids, and only
      // once every expected trace is there, finished, and nothing else is.
      const found = await until(async () => {
        const t = await searchAllTraces(mlflow.url, exp[mode]);
        const ids = new Map(t.map((x) => [x.trace_id, x]));
        const done = [...expected].every((id) => ids.get(id)?.state === 'OK');
        return done ? [...ids.values()] : null;
      }, { timeoutMs: 180_000, intervalMs: 1000, what: `${N} finished traces in the ${mode} experiment` });
      assert.equal(found.length, N, `${mode}: exactly ${N} traces, no others`);
      assert.deepEqual(new Set(found.map((t) => t.trace_id)), expected, `${mode}: the same traces`);
      let spans = 0;
      for (const t of found) spans += (await getTrace(mlflow.url, t.trace_id)).spans.length;
      assert.equal(spans, 3 * N, `${mode}: every span of every trace`);
    }
  } finally {
    for (const c of senders) if (c.exitCode === null) c.kill();
    for (const s of services) await s.dispose().catch(() => {});
    await mlflow.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
