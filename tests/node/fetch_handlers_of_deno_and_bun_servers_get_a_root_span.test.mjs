// Deno.serve and Bun.serve take the same fetch-style handler as a Worker, so instrumentWorker
// wraps it there too (README, "Servers with fetch-style handlers"): each request is a root span
// named by its method and path, with the handler's spans under it, exported without a
// ctx.waitUntil. Run by the real Deno and Bun from .tools/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { shape, startCollector } from './helpers/collector.mjs';
import { root } from './helpers/util.mjs';

let app;
let col;
before(async () => {
  col = await startCollector();
  app = mkdtempSync(join(tmpdir(), 'edgetrace-serve-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(join(root, 'pkg'), join(app, 'node_modules/edgetrace'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'serve-app', private: true, type: 'module' }));
  copyFileSync(new URL('./fixtures/fetch-handler-server.mjs', import.meta.url), join(app, 'server.mjs'));
});
after(async () => {
  await col?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

const RUNTIMES = {
  'Deno.serve': [join(root, '.tools/deno/deno'), ['run', '--allow-read', '--allow-net', '--allow-env', 'server.mjs']],
  'Bun.serve': [join(root, '.tools/bun/bin/bun'), ['server.mjs']],
};
for (const [name, [bin, args]] of Object.entries(RUNTIMES)) {
  test(`${name}: a handler wrapped by instrumentWorker makes a root span per request, with its spans under it`, async () => {
    col.requests.length = 0;
    const { stdout } = await promisify(execFile)(bin, [...args, col.url], { cwd: app, timeout: 60_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()), { status: 200, text: 'answer to why' });
    const spans = col.spans();
    assert.deepEqual(shape(spans), [['GET /chat', [['answer', []]]]]);
    const rootSpan = spans.find((s) => !s.parentSpanId);
    assert.deepEqual(JSON.parse(rootSpan.attributes['mlflow.spanInputs']), { method: 'GET', path: '/chat' });
    assert.deepEqual(JSON.parse(rootSpan.attributes['mlflow.spanOutputs']), { status: 200 });
    assert.equal(rootSpan.attributes['http.response.status_code'], 200);
    // instrumentWorker's options changed the span type only, not the app's own init() endpoint.
    assert.equal(rootSpan.attributes['mlflow.spanType'], 'AGENT');
  });
}
