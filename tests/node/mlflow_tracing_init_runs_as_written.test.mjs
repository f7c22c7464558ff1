// An app moved from MLflow's TypeScript SDK (mlflow-tracing) calls init({ trackingUri,
// experimentId }) and flushTraces(): the spans go to that server, and the warning names edgetrace's
// option once (in the app's logger).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCollector } from './helpers/collector.mjs';

const pkg = fileURLToPath(new URL('../../pkg/node.js', import.meta.url));

test("init({ trackingUri }) sends there, says once that edgetrace's name is endpoint; an endpoint given too wins", async () => {
  const col = await startCollector();
  const other = await startCollector();
  try {
    const script = (extra) => `
      import * as mlflow from ${JSON.stringify(pkg)};
      mlflow.init({ trackingUri: ${JSON.stringify(col.url)}, experimentId: '5', ${extra} logger: { warn: (m) => console.log(m) } });
      mlflow.init({ trackingUri: ${JSON.stringify(col.url)}, experimentId: '5', ${extra} logger: { warn: (m) => console.log(m) } });
      await mlflow.withSpan(() => 1, { name: 'migrated' });
      await mlflow.flushTraces();
    `;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script('')], { env: { PATH: process.env.PATH } });
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trim().split('\n'), ["edgetrace: init({ trackingUri }) is mlflow-tracing's name: edgetrace's is init({ endpoint }), and trackingUri was taken as it"]);
    assert.equal(col.requests.length, 1);
    assert.equal(col.requests[0].headers['x-mlflow-experiment-id'], '5');
    assert.ok(col.requests[0].body.includes('migrated'));
    const both = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(`endpoint: ${JSON.stringify(other.url)},`)], { env: { PATH: process.env.PATH } });
    assert.deepEqual(both.stdout.trim().split('\n'), ["edgetrace: init({ trackingUri }) is mlflow-tracing's name for edgetrace's endpoint: both were given, and endpoint is used"]);
    assert.equal(other.requests.length, 1, 'the endpoint given');
    assert.equal(col.requests.length, 1);
  } finally {
    await col.close();
    await other.close();
  }
});
