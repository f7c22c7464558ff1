// A bundler may load the package more than once in one process: Next.js bundles
// instrumentation.ts (where its docs say tracing is set up) and each route apart, each with a copy
// of edgetrace. An init() in instrumentation.ts configured only its own copy; the routes' spans
// stayed queued and were never sent, with no warning (a Next.js review). Here the copies are real:
// three copies of pkg/ in a temporary directory, each loaded as modules of its own.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCollector } from './helpers/collector.mjs';

const pkg = fileURLToPath(new URL('../../pkg/', import.meta.url));
let dir;
let col;
before(async () => {
  col = await startCollector();
  dir = mkdtempSync(join(tmpdir(), 'edgetrace-copies-'));
  for (const name of ['instrumentation', 'route', 'late-route', 'own-init']) cpSync(pkg, join(dir, name), { recursive: true });
});
after(async () => {
  await col?.close();
  rmSync(dir, { recursive: true, force: true });
});

const load = (name) => import(pathToFileURL(join(dir, name, 'node.js')).href);

test("an init() in one copy configures the copies without one of their own, loaded before it or after; a copy's own init() is its own", async () => {
  const instrumentation = await load('instrumentation');
  const route = await load('route');
  const own = await load('own-init');
  assert.notEqual(instrumentation.startSpan, route.startSpan, 'the copies are separate modules');
  const warnings = [];
  own.init({ endpoint: 'http://127.0.0.1:9/', serviceName: 'own', logger: { warn: (m) => warnings.push(m) }, enabled: false });
  instrumentation.init({ endpoint: col.url, format: 'json', serviceName: 'next-app', logger: { warn() {} } });
  const late = await load('late-route');

  await route.withSpan(async () => {}, { name: 'GET /api/chat' });
  await late.withSpan(async () => {}, { name: 'GET /api/late' });
  await own.withSpan(async () => {}, { name: 'not sent' });
  await Promise.all([route.flush(), late.flush(), own.flush()]);

  const spans = col.spans();
  const names = spans.map((s) => s.name).sort();
  assert.deepEqual(names, ['GET /api/chat', 'GET /api/late']);
  for (const s of spans) {
    const service = s.resource.attributes.find((a) => a.key === 'service.name').value.stringValue;
    assert.equal(service, 'next-app', `${s.name}: the options given in the other copy`);
  }
  assert.equal(own.getStats().exported, 0, 'the copy with an init() of its own (tracing off) kept it');
});
