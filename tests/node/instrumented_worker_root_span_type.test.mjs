// instrumentWorker's request spans take their type from its options, given as an object or as a
// function of `env` (the form the README's Workers sample uses), and are CHAIN without one. Run in
// Node against a local collector: the wrapper needs no Workers runtime, only a `ctx.waitUntil`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, init, instrumentWorker } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(async () => {
  init({ enabled: false });
  await col?.close();
});

/** One request through `instrumentWorker(handler, options)`; the type of its root span. */
async function rootTypeOf(path, options) {
  const handler = { fetch: () => new Response('ok') };
  const worker = instrumentWorker(handler, options);
  const waits = [];
  const res = await worker.fetch(new Request(`http://worker.test${path}`), { COLLECTOR: col.url, TYPE: 'AGENT' }, { waitUntil: (p) => waits.push(p) });
  assert.equal(await res.text(), 'ok');
  await Promise.all(waits);
  await flush();
  const span = col.spans().find((s) => s.name === `GET ${path}`);
  assert.ok(span, `the span of ${path} arrived`);
  return span.attributes['mlflow.spanType'];
}

const base = (env) => ({ endpoint: env.COLLECTOR, format: 'json', logger: { warn() {} } });

test('the request span type comes from options given as an object or as a function of env', async () => {
  assert.equal(await rootTypeOf('/object', { endpoint: col.url, format: 'json', spanType: 'AGENT', logger: { warn() {} } }), 'AGENT');
  assert.equal(await rootTypeOf('/function', (env) => ({ ...base(env), spanType: env.TYPE })), 'AGENT');
  assert.equal(await rootTypeOf('/default', (env) => base(env)), 'CHAIN');
});
