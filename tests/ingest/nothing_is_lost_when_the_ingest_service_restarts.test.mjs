// The ingest Worker (workerd) is stopped in the middle of a stream of traces from an edgetrace
// app and started again on the same port: the SDK retries what failed, and every span arrives
// at MLflow's endpoint (a recording sink here), counted exactly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../node/helpers/util.mjs';
import { ingestMiniflare, repo, startSink, until } from './helpers.mjs';

const N = 500;

test(`the ingest service restarted while ${N} traces are sent: every span arrives`, { timeout: 180_000 }, async () => {
  const sink = await startSink();
  const port = await freePort();
  const vars = { MLFLOW_TRACKING_URI: sink.url, INGEST_KEYS: JSON.stringify({ pk_r: { origins: [], experimentId: '5' } }), RATE_LIMIT_PER_MINUTE: '0' };
  let mf = ingestMiniflare(vars, { port });
  const url = String(await mf.ready).replace(/\/$/, '');
  const child = spawn(process.execPath, [join(repo, 'tests/ingest/fixtures/send-traces.mjs'), url, 'pk_r', '5', String(N), '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await until(() => sink.spanIds.size >= 30, { what: 'the first traces through the service' });
    await mf.dispose();
    const downAt = Date.now();
    const atStop = sink.spanIds.size;
    await new Promise((r) => setTimeout(r, 3000));
    mf = ingestMiniflare(vars, { port });
    await mf.ready;
    console.error(`[restart] ingest down ${Date.now() - downAt} ms with ${atStop} spans relayed before`);
    assert.equal(await exited, 0);
    const r = JSON.parse(out.trim().split('\n').pop());
    assert.equal(r.sent, N);
    assert.equal(r.stats.dropped.total, 0, JSON.stringify(r.stats));
    assert.ok(r.stats.retried > 0, 'the SDK retried while the service was down');
    assert.ok(atStop < 3 * N, 'the service stopped while traces were still coming');
    await until(() => sink.spanIds.size >= 3 * N, { timeoutMs: 30_000, what: `${3 * N} spans at the sink` });
    assert.equal(sink.spanIds.size, 3 * N);
  } finally {
    if (child.exitCode === null) child.kill();
    await mf.dispose().catch(() => {});
    await sink.close();
  }
});
