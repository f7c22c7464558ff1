// In Node (and Workers: the same check), a malformed endpoint or format is a clear error at init (not a batch retried for half a minute
// before one warning), and leaves the tracer as it was; an export the server refuses is warned
// with the server's own reason (MLflow: an experiment that does not exist, a missing header).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { flush, getStats, init, withSpan } from '../../pkg/node.js';

test('a malformed endpoint or format throws at init, and the tracer goes on as it was', () => {
  const warnings = [];
  init({ logger: { warn: (m) => warnings.push(m) } });
  for (const endpoint of ['not a url', 'localhost:5000', '127.0.0.1:5000/v1/traces', 'ftp://127.0.0.1/x', 'http:/x', '/v1/traces', 42]) {
    assert.throws(() => init({ endpoint }), /edgetrace: invalid configuration: endpoint must be an http:\/\/ or https:\/\/ URL, not /, String(endpoint));
  }
  assert.throws(() => init({ format: 'xml' }), /format must be 'protobuf' or 'json', not xml/);
  // Good ones pass, and spans are still traced.
  init({ endpoint: 'http://127.0.0.1:9/', format: 'json', logger: { warn: (m) => warnings.push(m) } });
  init({ endpoint: 'https://mlflow.example.com/api/2.0/otel/v1/traces', logger: { warn: (m) => warnings.push(m) } });
  assert.equal(withSpan(() => 7, { name: 'after' }), 7);
  init({ enabled: false });
  assert.deepEqual(warnings, []);
});

test('an endpoint passed to init() as a string is one warning, not one per character, and changes nothing', () => {
  const warnings = [];
  init({ endpoint: 'http://127.0.0.1:9', format: 'json', logger: { warn: (m) => warnings.push(m) } });
  init('http://localhost:5000');
  assert.deepEqual(warnings, ["edgetrace: init() takes options ({ endpoint: 'http://localhost:5000' }), not a string; it is ignored"]);
  // The options are as they were: still traced, still warned to this test's logger.
  assert.equal(withSpan(() => 9, { name: 'after-string', parent: { not: 'a span' } }), 9);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /a parent that is not an edgetrace Span is ignored/);
  init({ enabled: false });
});

test('invalid model prices throw at init, naming the model, before the parsers that use them load', () => {
  for (const prices of [null, 'gpt-4o', [1, 2]]) {
    assert.throws(() => init({ prices }), /^Error: edgetrace: invalid configuration: prices must be an object of model prefixes$/, String(prices));
  }
  const bad = {
    'my-model': { input: -1, output: 2 },
    'my-other': { input: 1 },
    'my-cached': { input: 1, output: 2, cachedInput: '0.5' },
    'my-none': null,
  };
  for (const [model, price] of Object.entries(bad)) {
    assert.throws(() => init({ prices: { ok: { input: 1, output: 2 }, [model]: price } }),
      new RegExp(`^Error: edgetrace: invalid configuration: prices\\.${model}: prices must be non-negative numbers$`), model);
  }
  init({ prices: { 'my-model': { input: 0.5, output: 1.5, cachedInput: 0.25 }, free: { input: 0, output: 0 } } });
  assert.equal(withSpan(() => 8, { name: 'priced' }), 8);
  init({ enabled: false });
});

test('an endpoint with or without /v1/traces, with or without trailing slashes, posts to …/v1/traces', async () => {
  const paths = [];
  const server = createServer((req, res) => {
    paths.push(req.url);
    req.resume().on('end', () => res.writeHead(200).end());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const endpoint of [base, `${base}/`, `${base}/v1/traces`, `${base}/v1/traces/`, `${base}/ingest//`, `${base}/ingest/v1/traces//`]) {
      init({ endpoint, logger: { warn() {} } });
      withSpan(() => 1, { name: 'to-path' });
      await flush();
    }
  } finally {
    init({ enabled: false });
    server.close();
  }
  // (The first init may also carry spans an earlier test left queued without an endpoint.)
  assert.deepEqual(paths.slice(-6), ['/v1/traces', '/v1/traces', '/v1/traces', '/v1/traces', '/ingest/v1/traces', '/ingest/v1/traces']);
  assert.ok(paths.every((p) => p === '/v1/traces' || p === '/ingest/v1/traces'), paths.join(' '));
});

test("an export the server refuses is warned with the server's reason", async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No Experiment with id=${req.headers['x-mlflow-experiment-id']} exists` }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const warnings = [];
    init({ endpoint: `http://127.0.0.1:${server.address().port}`, experimentId: '77', maxRetries: 0, logger: { warn: (m) => warnings.push(m) } });
    assert.equal(await withSpan(async () => 'ok', { name: 'refused' }), 'ok');
    await flush();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    // Where it was sent comes first: a refusal from the wrong server reads as such.
    const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
    assert.ok(warnings[0].startsWith(`edgetrace: dropped a batch of 1 spans after 1 attempts (${url}: HTTP 404 `), warnings[0]);
    assert.match(warnings[0], /No Experiment with id=77 exists/);
    assert.ok(getStats().lastExportError.startsWith(`${url}: HTTP 404 {"error_code":"RESOURCE_DOES_NOT_EXIST"`), getStats().lastExportError);
  } finally {
    init({ enabled: false });
    server.close();
  }
});

test('a batch given up on because no answer came in time is told apart from one refused: it may have arrived', async () => {
  // Found by a Workers review (s50b): a freshly started MLflow took 10 s to answer its first
  // export, past the Workers timeout of 4 s, and the warning said the spans were dropped while
  // all of them were in MLflow.
  const held = [];
  const server = createServer((req, res) => {
    req.resume();
    held.push(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const warnings = [];
    init({ endpoint: `http://127.0.0.1:${server.address().port}`, experimentId: '1', maxRetries: 1, initialBackoffMs: 10, exportTimeoutMs: 200, logger: { warn: (m) => warnings.push(m) } });
    assert.equal(await withSpan(async () => 'ok', { name: 'slow collector' }), 'ok');
    await flush();
    const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
    const given = warnings.find((w) => w.includes('a batch of 1 spans after 2 attempts'));
    assert.ok(given?.startsWith(`edgetrace: gave up, unanswered, on a batch of 1 spans after 2 attempts (${url}: `), warnings.join('\n'));
    assert.equal(getStats().dropped.exportFailed, 1);
  } finally {
    init({ enabled: false });
    for (const res of held) res.destroy();
    server.close();
  }
});
