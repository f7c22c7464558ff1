// init() with no options in a Worker: with nodejs_compat (compatibility date 2025-04-01 or later),
// workerd puts the Worker's vars on process.env, and MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID and
// MLFLOW_TRACKING_TOKEN configure the export, as in Node. Without the flag there is no process.env:
// nothing is sent, and getStats() says so.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from './helpers.mjs';
import { startCollector } from '../node/helpers/collector.mjs';
import { waitFor } from '../node/helpers/util.mjs';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/worker_env.js');
let col;
const instances = [];
before(async () => {
  col = await startCollector();
});
after(async () => {
  await Promise.allSettled(instances.map((mf) => mf.dispose()));
  await col?.close();
});

async function run(compatibilityFlags, more = {}) {
  col.requests.length = 0;
  const mf = workerMiniflare(fixture, {
    ...more,
    compatibilityFlags,
    bindings: { MLFLOW_TRACKING_URI: col.url, MLFLOW_EXPERIMENT_ID: '42', MLFLOW_TRACKING_TOKEN: 'tok-env' },
  });
  instances.push(mf);
  const res = await mf.dispatchFetch('http://worker.test/');
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.out, 'hello env');
  return body;
}

test('with nodejs_compat, init() sends to MLFLOW_TRACKING_URI, into MLFLOW_EXPERIMENT_ID, with the token', async () => {
  const { stats, warnings } = await run(['nodejs_compat']);
  assert.equal(stats.requests, 1, JSON.stringify(stats));
  assert.deepEqual(warnings, []);
  assert.equal(col.requests.length, 1);
  const [r] = col.requests;
  assert.equal(r.headers['x-mlflow-experiment-id'], '42');
  assert.equal(r.headers.authorization, 'Bearer tok-env');
});

test('without nodejs_compat there is no process.env: nothing is sent, and the warning says what reads the variables', async () => {
  const { stats, warnings } = await run([]);
  assert.equal(stats.requests, 0);
  assert.equal(col.requests.length, 0);
  const said = warnings.filter((w) => w.includes('no endpoint'));
  assert.equal(said.length, 1, warnings.join('\n'));
  assert.match(said[0], /init\(\) has no endpoint \(nor MLFLOW_TRACKING_URI\).*nodejs_compat flag and a compatibility date of 2025-04-01 or later/);
});

test('with nodejs_compat before compatibility date 2025-04-01, process.env is empty: the warning says so too', async () => {
  const { stats, warnings } = await run(['nodejs_compat'], { compatibilityDate: '2025-03-01' });
  assert.equal(stats.requests, 0);
  const said = warnings.filter((w) => w.includes('no endpoint'));
  assert.equal(said.length, 1, warnings.join('\n'));
  assert.match(said[0], /compatibility date of 2025-04-01 or later/);
});

test("instrumentWorker with another endpoint (the ingest service) sends it neither MLflow's token nor its experiment", async () => {
  col.requests.length = 0;
  const ingest = await startCollector();
  try {
    const mf = workerMiniflare(join(dirname(fixture), 'worker_env_instrumented.js'), {
      compatibilityFlags: ['nodejs_compat'],
      bindings: { MLFLOW_TRACKING_URI: col.url, MLFLOW_EXPERIMENT_ID: '42', MLFLOW_TRACKING_TOKEN: 'tok-env', INGEST_URL: ingest.url },
    });
    instances.push(mf);
    const res = await mf.dispatchFetch('http://worker.test/');
    assert.equal(await res.text(), 'hello ingest');
    await waitFor(() => ingest.requests.length >= 1, { what: 'the export to the ingest service' });
    const sent = ingest.requests[0].headers;
    assert.equal(sent['x-edgetrace-key'], 'pk_app');
    assert.equal(sent.authorization, undefined, "MLflow's token went to the ingest service");
    assert.equal(sent['x-mlflow-experiment-id'], undefined, "MLflow's experiment went to the ingest service");
    assert.equal(col.requests.length, 0);
  } finally {
    await ingest.close();
  }
});
