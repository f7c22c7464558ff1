// The package under Bun and under Deno (both from .tools/, installed by scripts/setup.sh),
// installed in an app by its name: both resolve it to the Node entry and run its wasm core, its
// model API parsers and its async context on their own AsyncLocalStorage. The spans must nest as
// under Node, a streamed model call must be read as under Node, and no secret may leave. (Deno
// also backs Deno Deploy, Netlify's and Supabase's edge functions.) Node 24 runs the same app as
// the control. All three enter each span with AsyncLocalStorage.run (tested under Node 20 and 24 by
// spans_are_entered_with_async_local_storage_run.test.mjs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startMockLlm } from '../../mock-llm/server.mjs';
import { startCollector } from './helpers/collector.mjs';
import { root } from './helpers/util.mjs';

const RUNTIMES = {
  bun: { bin: join(root, '.tools/bun/bin/bun'), args: ['app.mjs'] },
  deno: { bin: join(root, '.tools/deno/deno'), args: ['run', '--allow-all', 'app.mjs'] },
  'Node 24': { bin: join(root, '.tools/node24/bin/node'), args: ['app.mjs'] },
};
let app;
let col;
let mock;
before(async () => {
  col = await startCollector();
  mock = await startMockLlm();
  // An app directory with the package installed under its name (a link to pkg/).
  app = mkdtempSync(join(tmpdir(), 'edgetrace-app-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(join(root, 'pkg'), join(app, 'node_modules/edgetrace'), 'dir');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'server-runtime-app', private: true, type: 'module' }));
  copyFileSync(new URL('./fixtures/server-runtime-app.mjs', import.meta.url), join(app, 'app.mjs'));
});
after(async () => {
  await col?.close();
  await mock?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** The app's output and the spans it sent: the same wherever it runs. */
function checkApp(stdout) {
  const out = JSON.parse(stdout.trim().split('\n').pop());
  assert.deepEqual(out, { docs: 2, streamed: true });
  const spans = col.spans();
  const named = (n) => spans.filter((s) => s.name === n);
  const [agent] = named('agent');
  assert.ok(agent, `an agent span among: ${spans.map((s) => s.name).join(', ')}`);
  assert.equal(agent.parentSpanId, undefined);
  assert.equal(agent.attributes['mlflow.spanType'], 'AGENT');
  assert.equal(agent.attributes['session.id'], 'app-session');
  assert.equal(spans.length, 5, spans.map((s) => s.name).join(', '));
  for (const s of spans) assert.equal(s.traceId, agent.traceId, `${s.name} is in the agent's trace`);
  // Every other span is the agent's child: the two lookups run at once, the span started in
  // the timer callback, and the model call.
  const children = spans.filter((s) => s.parentSpanId === agent.spanId);
  assert.equal(children.length, 4, children.map((s) => s.name).join(', '));
  assert.equal(named('lookup').length, 2);
  assert.equal(named('in-timer').length, 1);
  const llm = children.find((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.ok(llm, `a CHAT_MODEL span for the model call among: ${children.map((s) => s.name).join(', ')}`);
  assert.equal(llm.attributes['mlflow.llm.model'], 'gpt-4o-mini');
  const usage = JSON.parse(llm.attributes['mlflow.chat.tokenUsage']);
  assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0, JSON.stringify(usage));
  assert.ok(!JSON.stringify(col.requests.map((r) => r.json)).includes('sk-app-SECRET'), 'the API key never leaves');
}

for (const [name, rt] of Object.entries(RUNTIMES)) {
  test(`under ${name}, spans nest across awaits, Promise.all and a timer, and a streamed model call is traced`, async () => {
    assert.ok(existsSync(rt.bin), `no ${name} at ${rt.bin}: run scripts/setup.sh`);
    col.requests.length = 0;
    // Asynchronously: the collector and the model server answer from this process.
    const { stdout } = await promisify(execFile)(rt.bin, [...rt.args, col.url, mock.url], { cwd: app, timeout: 60_000 });
    checkApp(stdout);
  });
}


// Bun resolves the package to its Bun entry (bun.js), which imports the .wasm files as files:
// `bun build` copies them beside the bundle, and `bun build --compile` embeds them in the
// executable, which ran untraced when it took the Node entry (its wasm was looked for in Bun's
// embedded file system, where nothing had put it).
for (const how of ['--compile', '--target=bun']) {
  test(`bun build ${how}: what it builds runs traced, away from node_modules`, async () => {
    const bun = RUNTIMES.bun.bin;
    const out = mkdtempSync(join(tmpdir(), 'edgetrace-bun-build-'));
    try {
      const args = how === '--compile' ? ['build', '--compile', 'app.mjs', '--outfile', join(out, 'app')] : ['build', '--target=bun', 'app.mjs', '--outdir', out];
      await promisify(execFile)(bun, args, { cwd: app, timeout: 120_000 });
      col.requests.length = 0;
      // Run from another folder (a service's working directory is rarely the bundle's), with no
      // node_modules in reach.
      const run = how === '--compile' ? [join(out, 'app'), []] : [bun, [join(out, 'app.js')]];
      const elsewhere = mkdtempSync(join(tmpdir(), 'edgetrace-bun-cwd-'));
      const { stdout, stderr } = await promisify(execFile)(run[0], [...run[1], col.url, mock.url], { cwd: elsewhere, timeout: 60_000 }).finally(() => rmSync(elsewhere, { recursive: true, force: true }));
      assert.doesNotMatch(stdout + stderr, /tracing is off|failed to load/, stdout + stderr);
      checkApp(stdout);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
