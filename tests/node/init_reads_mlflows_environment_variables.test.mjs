// MLflow's SDKs read MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID and MLFLOW_TRACKING_TOKEN: in Node,
// init() without an endpoint sends there. With neither, init() says that spans go nowhere, where
// it said nothing and the spans piled up unsent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from './helpers/collector.mjs';
import { root } from './helpers/util.mjs';

const pkg = fileURLToPath(new URL('../../pkg/node.js', import.meta.url));
// A second copy of the package, as a bundler that bundles it twice loads one.
const copyDir = mkdtempSync(join(tmpdir(), 'edgetrace-copy-'));
cpSync(fileURLToPath(new URL('../../pkg/', import.meta.url)), copyDir, { recursive: true });
const pkgCopy = join(copyDir, 'node.js');
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
    if (env.MLFLOW_TRACKING_URI) assert.match(said[0], /MLFLOW_TRACKING_URI \(file:\/\/\/tmp\/mlruns\) is not an http:\/\/ or https:\/\/ URL/);
  }
});

test('MLFLOW_TRACKING_URI without MLFLOW_EXPERIMENT_ID: init() says MLflow will refuse the spans, and what to set', async () => {
  const col = await startCollector();
  try {
    const { stdout } = await run({ MLFLOW_TRACKING_URI: col.url });
    assert.match(stdout, /MLFLOW_TRACKING_URI is set and MLFLOW_EXPERIMENT_ID is not: MLflow refuses spans without an experiment/, stdout);
  } finally {
    await col.close();
  }
});

test("an endpoint of another server (the ingest service) takes nothing from MLflow's variables: no token, no experiment; MLflow's own URI given as the endpoint takes both", async () => {
  const mlflow = await startCollector();
  const ingest = await startCollector();
  try {
    const env = { MLFLOW_TRACKING_URI: mlflow.url, MLFLOW_EXPERIMENT_ID: '42', MLFLOW_TRACKING_TOKEN: 'tok-for-mlflow-only' };
    const withOptions = (options) => `
      import { flush, init, withSpan } from ${JSON.stringify(pkg)};
      init({ format: 'json', logger: { warn: (m) => console.log(m) }, ...${JSON.stringify(options)} });
      withSpan(() => 1, { name: 'explicit' });
      await flush();
    `;
    const go = (options) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', withOptions(options)], { env: { PATH: process.env.PATH, ...env } });
    await go({ endpoint: ingest.url, ingestKey: 'pk_app' });
    assert.equal(mlflow.requests.length, 0);
    assert.equal(ingest.requests.length, 1);
    const sent = ingest.requests[0].headers;
    assert.equal(sent.authorization, undefined, "MLflow's token went to another server");
    assert.equal(sent['x-mlflow-experiment-id'], undefined, "MLflow's experiment went to another server");
    assert.equal(sent['x-edgetrace-key'], 'pk_app');
    // The same server as MLFLOW_TRACKING_URI, written with /v1/traces: its token and experiment go with it.
    await go({ endpoint: `${mlflow.url}/v1/traces` });
    assert.equal(mlflow.requests.length, 1);
    assert.equal(mlflow.requests[0].headers.authorization, 'Bearer tok-for-mlflow-only');
    assert.equal(mlflow.requests[0].headers['x-mlflow-experiment-id'], '42');
  } finally {
    await mlflow.close();
    await ingest.close();
  }
});

test('variables set after the import, before init() (as dotenv sets them), are read by init()', async () => {
  const col = await startCollector();
  try {
    const late = `
      import { flush, getStats, init, withSpan } from ${JSON.stringify(pkg)};
      process.env.MLFLOW_TRACKING_URI = ${JSON.stringify(col.url)};
      process.env.MLFLOW_EXPERIMENT_ID = '7';
      init({ format: 'json', logger: { warn: (m) => console.log(m) } });
      withSpan(() => 1, { name: 'late-env' });
      await flush();
      console.log(JSON.stringify({ exported: getStats().exported }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', late], { env: { PATH: process.env.PATH } });
    assert.doesNotMatch(stdout, /no endpoint/);
    assert.deepEqual(col.spans().map((s) => s.name), ['late-env']);
    assert.equal(col.requests[0].headers['x-mlflow-experiment-id'], '7');
  } finally {
    await col.close();
  }
});

test('with no init() at all, variables set after the import are used: before the first span, and after the spans ended (read again by flush and at exit)', async () => {
  const col = await startCollector();
  try {
    const noInit = (when, end) => `
      import { flush, withSpan } from ${JSON.stringify(pkg)};
      const set = () => {
        process.env.MLFLOW_TRACKING_URI = ${JSON.stringify(col.url)};
        process.env.MLFLOW_EXPERIMENT_ID = '8';
        process.env.MLFLOW_TRACKING_TOKEN = 'tok-late';
      };
      ${when === 'before' ? 'set();' : ''}
      withSpan(() => 1, { name: 'no-init-${when}-${end}' });
      ${when === 'after' ? 'set();' : ''}
      ${end === 'flush' ? 'await flush();' : '/* the script just ends */'}
    `;
    for (const [when, end] of [['before', 'flush'], ['after', 'flush'], ['after', 'exit']]) {
      const { stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', noInit(when, end)], { env: { PATH: process.env.PATH } });
      assert.doesNotMatch(stderr, /never sent/, stderr);
      const req = col.requests.at(-1);
      assert.ok(req.body.includes(`no-init-${when}-${end}`), 'the span went (OTLP/protobuf, the default: its name as it is)');
      assert.equal(req.headers['x-mlflow-experiment-id'], '8');
      assert.equal(req.headers.authorization, 'Bearer tok-late');
    }
    assert.equal(col.requests.length, 3);
  } finally {
    await col.close();
  }
});

test('with no init() and no variables, the script\'s exit says its spans were never sent, once; init({ enabled: false }) says nothing', async () => {
  const traced = (first) => `
    import { init, trace } from ${JSON.stringify(pkg)};
    ${first}
    const f = trace(async function answer(x) { return x + 1; });
    console.log(await f(1), await f(2));
  `;
  const quiet = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', traced('')], { env: { PATH: process.env.PATH } });
  assert.equal(quiet.stdout.trim(), '2 3', 'the app runs as it would untraced');
  const said = quiet.stderr.split('\n').filter((l) => l.includes('never sent'));
  assert.deepEqual(said, ['edgetrace: exiting with 2 span(s) traced and never sent: there is no endpoint (call init({ endpoint }) or set MLFLOW_TRACKING_URI; init({ enabled: false }) turns tracing off)']);
  const off = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', traced('init({ enabled: false });')], { env: { PATH: process.env.PATH } });
  assert.equal(off.stdout.trim(), '2 3');
  assert.equal(off.stderr, '');
  // A URI that is no http URL: the warning says why it gave no endpoint.
  const file = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', traced('')], { env: { PATH: process.env.PATH, MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' } });
  assert.match(file.stderr, /never sent: there is no endpoint .*; MLFLOW_TRACKING_URI \(file:\/\/\/tmp\/mlruns\) is not an http:\/\/ or https:\/\/ URL/, file.stderr);
  // init() with no endpoint after the spans: its own warning, not the exit's as well.
  const late = `
    import { init, trace } from ${JSON.stringify(pkg)};
    const f = trace(async function answer(x) { return x + 1; });
    await f(1);
    init({});
  `;
  const inited = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', late], { env: { PATH: process.env.PATH } });
  assert.match(inited.stderr, /init\(\) has no endpoint/);
  assert.doesNotMatch(inited.stderr, /never sent/);
  // Two copies of the package (a bundler's): one line, counting both copies' spans; an init() in
  // either configures both, and neither then says it.
  const two = (then) => `
    import { trace } from ${JSON.stringify(pkg)};
    const other = await import(${JSON.stringify(pkgCopy)});
    await trace(async function a() {})();
    await other.trace(async function b() {})();
    await other.trace(async function c() {})();
    ${then}
  `;
  const both = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', two('')], { env: { PATH: process.env.PATH } });
  assert.deepEqual(both.stderr.split('\n').filter((l) => l.includes('never sent')).map((l) => l.match(/exiting with (\d+) span/)[1]), ['3']);
  const initOther = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', two('other.init({});')], { env: { PATH: process.env.PATH } });
  assert.doesNotMatch(initOther.stderr, /never sent/);
});

test('with no init(), MLFLOW_TRACKING_URI without MLFLOW_EXPERIMENT_ID is said when the first export reads them, as init() says it', async () => {
  const col = await startCollector();
  try {
    const script = `
      import { withSpan, flush } from ${JSON.stringify(pkg)};
      withSpan(() => 1, { name: 'no-experiment' });
      await flush();
    `;
    const { stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, MLFLOW_TRACKING_URI: col.url } });
    const said = stderr.split('\n').filter((l) => l.includes('MLFLOW_EXPERIMENT_ID is not'));
    assert.equal(said.length, 1, stderr);
    // An experiment given right after the first span (by init(), or by the variable), in one copy
    // of the package or in another: nothing to say, and the batch goes with it.
    for (const after of ["init({ experimentId: '1' })", "process.env.MLFLOW_EXPERIMENT_ID = '1'", "await other.init({ experimentId: '1' })"]) {
      const fine = `
        import { withSpan, flush } from ${JSON.stringify(pkg)};
        const other = await import(${JSON.stringify(pkgCopy)});
        const { init } = await import(${JSON.stringify(pkg)});
        await withSpan(async () => 1, { name: 'then-experiment' });
        ${after};
        await flush();
        await other.flush();
      `;
      const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', fine], { env: { PATH: process.env.PATH, MLFLOW_TRACKING_URI: col.url } });
      assert.doesNotMatch(r.stderr, /MLFLOW_EXPERIMENT_ID is not/, `${after}: ${r.stderr}`);
      assert.equal(col.requests.at(-1).headers['x-mlflow-experiment-id'], '1', after);
    }
  } finally {
    await col.close();
  }
});

test('instrumentWorker reads the variables as init() does: set after the import, and kept from another endpoint', async () => {
  const mlflow = await startCollector();
  const ingest = await startCollector();
  try {
    const script = (options, initFirst = false, initCall = "init({ headers: { 'x-app': 'mlflow-only' } });") => `
      import { init, instrumentWorker } from ${JSON.stringify(pkg)};
      process.env.MLFLOW_TRACKING_URI = ${JSON.stringify(mlflow.url)};
      process.env.MLFLOW_EXPERIMENT_ID = '8';
      process.env.MLFLOW_TRACKING_TOKEN = 'tok-late';
      ${initFirst ? initCall : ''}
      const worker = instrumentWorker({ fetch: () => new Response('ok') }, { format: 'json', logger: { warn: (m) => console.log(m) }, ...${JSON.stringify(options)} });
      const waits = [];
      const res = await worker.fetch(new Request('http://worker.test/'), {}, { waitUntil: (p) => waits.push(p) });
      await res.text(); // the request's span ends with its response body
      await Promise.all(waits);
    `;
    const go = (options, initFirst, initCall) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(options, initFirst, initCall)], { env: { PATH: process.env.PATH } });
    const late = await go({});
    assert.doesNotMatch(late.stdout, /no endpoint/, late.stdout);
    assert.equal(mlflow.requests.length, 1, 'sent to the URI set after the import');
    assert.equal(mlflow.requests[0].headers['x-mlflow-experiment-id'], '8');
    assert.equal(mlflow.requests[0].headers.authorization, 'Bearer tok-late');
    await go({ endpoint: ingest.url, ingestKey: 'pk_app' });
    assert.equal(ingest.requests.length, 1);
    assert.equal(ingest.requests[0].headers.authorization, undefined, "MLflow's token went to another server");
    assert.equal(ingest.requests[0].headers['x-mlflow-experiment-id'], undefined);
    // An app's init() took MLflow's variables (and headers of its own) first: none of what it
    // gave MLflow goes to the ingest service instrumentWorker names.
    await go({ endpoint: ingest.url, ingestKey: 'pk_app' }, true);
    assert.equal(ingest.requests.length, 2);
    assert.equal(ingest.requests[1].headers.authorization, undefined, "MLflow's token went to another server after init()");
    assert.equal(ingest.requests[1].headers['x-mlflow-experiment-id'], undefined);
    assert.equal(ingest.requests[1].headers['x-app'], undefined);
    assert.equal(ingest.requests[1].headers['x-edgetrace-key'], 'pk_app');
    // The app's own server, written another way (a trailing /, /v1/traces): all of it is kept.
    for (const spelled of [ingest.url + '/', ingest.url + '/v1/traces']) {
      await go({ endpoint: spelled }, true, `init({ endpoint: ${JSON.stringify(ingest.url)}, ingestKey: 'pk_same', headers: { 'x-app': 'kept' } });`);
      assert.equal(ingest.requests.at(-1).headers['x-edgetrace-key'], 'pk_same', spelled);
      assert.equal(ingest.requests.at(-1).headers['x-app'], 'kept', spelled);
    }
    assert.equal(ingest.requests.length, 4);
  } finally {
    await mlflow.close();
    await ingest.close();
  }
});

test("MLflow's URI given as the endpoint with /v1/traces and no experiment: the same warning", async () => {
  const col = await startCollector();
  try {
    const s = `
      import { init } from ${JSON.stringify(pkg)};
      init({ endpoint: ${JSON.stringify(col.url + '/v1/traces')}, logger: { warn: (m) => console.log(m) } });
      await new Promise((r) => setTimeout(r, 10));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', s], { env: { PATH: process.env.PATH, MLFLOW_TRACKING_URI: col.url } });
    assert.match(stdout, /MLFLOW_EXPERIMENT_ID is not/, stdout);
  } finally {
    await col.close();
  }
});

test('under Deno, --allow-env for the URI and experiment alone is enough; without it, the warning says which permission is missing', async () => {
  const deno = join(root, '.tools/deno/deno');
  const col = await startCollector();
  try {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: process.env.DENO_DIR || join(root, '.tools/deno-cache'), MLFLOW_TRACKING_URI: col.url, MLFLOW_EXPERIMENT_ID: '9', MLFLOW_TRACKING_TOKEN: 'tok-not-granted' };
    // `deno eval` grants every permission: the script runs from a file.
    const file = join(mkdtempSync(join(tmpdir(), 'edgetrace-deno-env-')), 'app.mjs');
    writeFileSync(file, script);
    const denoRun = (allowEnv) => promisify(execFile)(deno, ['run', '--no-prompt', '--allow-read', '--allow-net=127.0.0.1', ...allowEnv, file], { env, cwd: root });
    const scoped = await denoRun(['--allow-env=MLFLOW_TRACKING_URI,MLFLOW_EXPERIMENT_ID']);
    assert.doesNotMatch(scoped.stdout, /no endpoint/, scoped.stdout);
    assert.deepEqual(col.spans().map((s) => s.name), ['from-env']);
    assert.equal(col.requests[0].headers['x-mlflow-experiment-id'], '9');
    assert.equal(col.requests[0].headers.authorization, undefined, 'a token Deno did not grant is not read');
    // The URI allowed and the experiment not: said, as MLflow would otherwise refuse in silence.
    const noExperiment = await denoRun(['--allow-env=MLFLOW_TRACKING_URI']);
    assert.match(noExperiment.stdout, /Deno does not allow reading MLFLOW_EXPERIMENT_ID/, noExperiment.stdout);
    assert.doesNotMatch(scoped.stdout, /does not allow reading MLFLOW_EXPERIMENT_ID/);
    const denied = await denoRun([]);
    assert.match(denied.stdout, /no endpoint \(nor MLFLOW_TRACKING_URI\).*Deno does not allow reading MLFLOW_TRACKING_URI \(--allow-env=/, denied.stdout);
  } finally {
    await col.close();
  }
});
