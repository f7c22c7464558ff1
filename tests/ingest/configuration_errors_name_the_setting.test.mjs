// An invalid configuration is refused with one message naming the variable the operator set and
// the value it got: a misspelt field in a key of INGEST_KEYS, a REVOKED_KEYS entry that names no
// key, limits below their minimum, a bad MLFLOW_TRACKING_URI, the core's own settings by their
// variables; never a doubled "invalid configuration:". It is logged once when it is read, not per
// request, and the Node adapter's startup line says it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { IngestCore } from '../../ingest/build/edgetrace_ingest.js';
import { startNodeIngest } from '../../ingest/src/node.js';
import { createService } from '../../ingest/src/service.js';
import { repo } from './helpers.mjs';

const URI = 'http://127.0.0.1:47301';
const KEYS = JSON.stringify({ pk_appA: { origins: ['*'], experimentId: '1' }, pk_appB: { origins: ['*'], experimentId: '2', ratePerMinute: 5 } });

// startNodeIngest initialises the wasm core; its service reads any configuration it is given.
const ingest = await startNodeIngest({ port: 0, env: { MLFLOW_TRACKING_URI: URI, INGEST_KEYS: KEYS } });
test.after(() => ingest.close());
const errorOf = (env) => ingest.service.configuration({ MLFLOW_TRACKING_URI: URI, INGEST_KEYS: KEYS, ...env }).error ?? null;

test('a field of a key that is not one of its known fields is an error naming it and the known ones', () => {
  assert.equal(
    errorOf({ INGEST_KEYS: JSON.stringify({ pk_appB: { origins: ['*'], experimentID: '2' } }) }),
    'INGEST_KEYS["pk_appB"] has an unknown field "experimentID"; the known fields are origins, experimentId, ratePerMinute, revoked',
  );
  assert.match(errorOf({ INGEST_KEYS: JSON.stringify({ pk_appB: { origins: ['*'], experimentId: '2', ratePerMinut: 5 } }) }), /unknown field "ratePerMinut"/);
  assert.match(errorOf({ INGEST_KEYS: JSON.stringify({ pk_appB: { origin: ['*'] } }) }), /unknown field "origin"/);
  assert.equal(errorOf({ INGEST_KEYS: JSON.stringify({ pk_appB: { origins: ['*'], revoked: 'yes' } }) }), 'INGEST_KEYS["pk_appB"].revoked must be true or false, got "yes"');
  // Every known field, used: valid.
  assert.equal(errorOf({ INGEST_KEYS: JSON.stringify({ pk_x: { origins: ['*'], experimentId: '4', ratePerMinute: 5, revoked: false } }) }), null);
});

test('a REVOKED_KEYS entry that names no key of INGEST_KEYS is an error', () => {
  assert.equal(errorOf({ REVOKED_KEYS: 'pk_appA' }), null);
  assert.equal(errorOf({ REVOKED_KEYS: 'pk_appA, pk_appb' }), 'REVOKED_KEYS names "pk_appb", not a key of INGEST_KEYS (keys are case-sensitive)');
});

test('limits that must be at least 1 (or 64) say so, by their variable', () => {
  for (const name of ['MAX_SPANS_PER_REQUEST', 'MAX_VALUES_PER_REQUEST', 'MAX_ATTRIBUTE_DEPTH', 'MAX_ATTRIBUTES_PER_SPAN']) {
    assert.equal(errorOf({ [name]: '0' }), `${name} must be an integer of at least 1, got "0"`);
    assert.equal(errorOf({ [name]: '1' }), null);
  }
  assert.equal(errorOf({ MAX_ATTRIBUTE_BYTES: '63' }), 'MAX_ATTRIBUTE_BYTES must be an integer of at least 64, got "63"');
  assert.equal(errorOf({ MAX_ATTRIBUTE_BYTES: '64' }), null);
  // 0 still turns the rate limit off.
  assert.equal(errorOf({ RATE_LIMIT_PER_MINUTE: '0' }), null);
});

test("the core's settings are named by their variables, without a doubled prefix or a position in JSON the operator never wrote", () => {
  const notArray = errorOf({ REDACT_PATTERNS: '"sk-[a-z]+"' });
  assert.match(notArray, /^REDACT_PATTERNS must be a JSON array of strings/);
  assert.match(notArray, /got "\\"sk-\[a-z\]\+\\""$/);
  assert.match(errorOf({ REDACT_ATTRIBUTES: '[1]' }), /^REDACT_ATTRIBUTES must be a JSON array of strings/);
  // A pattern the core cannot compile.
  const regex = errorOf({ REDACT_PATTERNS: '["(unclosed"]' });
  assert.match(regex, /^REDACT_PATTERNS: redaction pattern "\(unclosed": /);
  for (const message of [notArray, regex, errorOf({ MAX_SPANS_PER_REQUEST: '0' })]) {
    assert.doesNotMatch(message, /invalid configuration/i);
    assert.doesNotMatch(message, /max[A-Z]|redact[A-Z]|line \d+ column \d+/);
  }
});

test('a bad MLFLOW_TRACKING_URI shows the value it got', () => {
  assert.equal(errorOf({ MLFLOW_TRACKING_URI: '127.0.0.1:5000' }), 'MLFLOW_TRACKING_URI must be the http(s) URL of the MLflow server, such as https://mlflow.example.com, got "127.0.0.1:5000"');
  assert.match(errorOf({ MLFLOW_TRACKING_URI: '' }), /^MLFLOW_TRACKING_URI is not set/);
});

test('the answers carry the message once, without a doubled prefix', async () => {
  const service = createService(IngestCore, { log: { warn() {}, error() {} } });
  const env = { MLFLOW_TRACKING_URI: URI, INGEST_KEYS: KEYS, MAX_SPANS_PER_REQUEST: '0' };
  const health = await service.fetch(new Request('http://ingest.test/healthz'), env);
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), { ok: false, error: 'misconfigured', message: 'MAX_SPANS_PER_REQUEST must be an integer of at least 1, got "0"' });
});

test('an invalid configuration is logged once when it is read, not per request', async () => {
  const lines = [];
  const service = createService(IngestCore, { log: { warn: (m) => lines.push(m), error: (m) => lines.push(m) } });
  const env = { MLFLOW_TRACKING_URI: URI, INGEST_KEYS: JSON.stringify({ pk_a: { origins: ['*'], experimentID: '2' } }) };
  for (let i = 0; i < 3; i++) {
    const res = await service.fetch(new Request('http://ingest.test/v1/traces', { method: 'POST', headers: { 'x-edgetrace-key': 'pk_a', 'content-type': 'application/json' }, body: '{}' }), env);
    assert.equal(res.status, 500);
    assert.equal((await res.json()).error, 'misconfigured');
  }
  // The same configuration again, as a new object (a runtime may hand each request its own).
  await service.fetch(new Request('http://ingest.test/healthz'), { ...env });
  assert.deepEqual(lines, [
    'edgetrace ingest: invalid configuration: INGEST_KEYS["pk_a"] has an unknown field "experimentID"; the known fields are origins, experimentId, ratePerMinute, revoked; every request is answered 500 misconfigured (and /healthz 503) until it is fixed',
  ]);
});

/** The Node adapter run as a command with `env` only: its first line of output. */
function startupLine(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'ingest/src/node.js')], { env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const done = (line) => {
      child.kill();
      resolve(line);
    };
    for (const [name, stream] of [['stdout', child.stdout], ['stderr', child.stderr]]) {
      stream.on('data', (d) => {
        out += d;
        if (out.includes('\n')) done(`${name}: ${out.split('\n')[0]}`);
      });
    }
    child.on('error', reject);
    child.on('exit', (code) => resolve(`exited ${code}: ${out}`));
  });
}

test("the Node adapter's startup line says what is wrong with its configuration, or where it relays", async () => {
  const missing = await startupLine({ MLFLOW_TRACKING_URI: URI });
  assert.match(missing, /^stderr: edgetrace ingest listening on http:\/\/127\.0\.0\.1:\d+, but its configuration is invalid: INGEST_KEYS must be a JSON object/);
  const noScheme = await startupLine({ MLFLOW_TRACKING_URI: '127.0.0.1:47301', INGEST_KEYS: KEYS });
  assert.match(noScheme, /configuration is invalid: MLFLOW_TRACKING_URI must be the http\(s\) URL of the MLflow server, such as https:\/\/mlflow\.example\.com, got "127\.0\.0\.1:47301"/);
  assert.doesNotMatch(noScheme, /relaying to/);
  const good = await startupLine({ MLFLOW_TRACKING_URI: 'http://relay:secret@127.0.0.1:47301/', INGEST_KEYS: KEYS });
  assert.match(good, /^stdout: edgetrace ingest listening on http:\/\/127\.0\.0\.1:\d+ \(POST \/v1\/traces, GET \/healthz\), relaying to http:\/\/127\.0\.0\.1:47301$/);
});

test("MLflow's credentials never reach a sender or a log line: a URL's user:password, a token that cannot be a header, a fetch error quoting them", async () => {
  // Credentials in the URL are Basic auth, and out of the URL requests go to.
  const { config } = ingest.service.configuration({ MLFLOW_TRACKING_URI: 'http://ops:s3cret-pw@127.0.0.1:47301/', INGEST_KEYS: KEYS });
  assert.equal(config.mlflowUri, 'http://127.0.0.1:47301');
  assert.equal(config.auth, `Basic ${btoa('ops:s3cret-pw')}`);
  // A URL the service cannot take is shown without its credentials.
  const bad = errorOf({ MLFLOW_TRACKING_URI: 'ops:s3cret-pw@127.0.0.1:47301' });
  assert.match(bad, /MLFLOW_TRACKING_URI must be/);
  assert.ok(!bad.includes('s3cret-pw'), bad);
  // A token with a line break is refused without being echoed.
  const token = errorOf({ MLFLOW_TRACKING_TOKEN: 'tok-s3cret\nX' });
  assert.equal(token, 'MLFLOW_TRACKING_TOKEN holds a line break or another control character, so it cannot be sent in a header');
  // A fetch error that quotes the token: the 503 and its log line say [REDACTED].
  const lines = [];
  const log = { warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const service = createService(IngestCore, { log, fetch: () => Promise.reject(new Error('Headers.append: "Bearer tok-s3cret-123" is an invalid header value')) });
  const env = { MLFLOW_TRACKING_URI: URI, INGEST_KEYS: KEYS, MLFLOW_TRACKING_TOKEN: 'tok-s3cret-123', CHECK_TRACE_OWNERS: 'false' };
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 's', startTimeUnixNano: String(now - 1000n), endTimeUnixNano: String(now) }] }] }] });
  const res = await service.fetch(new Request('http://ingest.test/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json', 'x-edgetrace-key': 'pk_appA' }, body }), env);
  const text = await res.text();
  assert.equal(res.status, 503, text);
  assert.ok(text.includes('[REDACTED]') && !text.includes('tok-s3cret-123'), text);
  assert.ok(lines.length > 0 && lines.every((l) => !l.includes('tok-s3cret-123')), lines.join('\n'));
});
