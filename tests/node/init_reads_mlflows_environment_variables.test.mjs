// MLflow's SDKs read MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID and MLFLOW_TRACKING_TOKEN: in Node,
// init() without an endpoint sends there. With neither, init() says that spans go nowhere, where
// it said nothing and the spans piled up unsent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCollector } from './helpers/collector.mjs';

const pkg = fileURLToPath(new URL('../../pkg/node.js', import.meta.url));
const script = `
  import { flush, getStats, init, withSpan } from ${JSON.stringify(pkg)};
  init({ format: 'json', logger: { warn: (m) => console.log(m) } });
  withSpan(() => 1, { name: 'from-env' });
  await flush();
  console.log(JSON.stringify({ exported: getStats().exported }));
`;
const run = (env) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ...env } });

test('init() without an endpoint sends to MLFLOW_TRACKING_URI, into MLFLOW_EXPERIMENT_ID, with MLFLOW_TRACKING_TOKEN', async () => {
  const col = await startCollector();
  try {
    const { stdout } = await run({ MLFLOW_TRACKING_URI: col.url, MLFLOW_EXPERIMENT_ID: '42', MLFLOW_TRACKING_TOKEN: 'tok-123' });
    assert.doesNotMatch(stdout, /no endpoint/);
    assert.deepEqual(col.spans().map((s) => s.name), ['from-env']);
    const { headers } = col.requests[0];
    assert.equal(headers['x-mlflow-experiment-id'], '42');
    assert.equal(headers.authorization, 'Bearer tok-123');
  } finally {
    await col.close();
  }
});

test('init() with no endpoint and no MLFLOW_TRACKING_URI (or one that is no http URL) says spans go nowhere, once', async () => {
  for (const env of [{}, { MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' }]) {
    const { stdout } = await run(env);
    const said = stdout.split('\n').filter((l) => l.includes('init() has no endpoint (nor MLFLOW_TRACKING_URI)'));
    assert.equal(said.length, 1, stdout);
    assert.match(stdout, /"exported":0/);
  }
});
