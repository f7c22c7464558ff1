// A Node script that traces and ends without awaiting flush() still exports its spans before the
// process exits (the Node entry flushes on 'beforeExit'), and exits promptly; one with no
// endpoint exits at once, without looping on 'beforeExit'.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startCollector } from './helpers/collector.mjs';

const entry = fileURLToPath(new URL('../../pkg/node.js', import.meta.url));

function runScript(code) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, out, ms: Date.now() - t0 });
    });
  });
}

test('spans of a script that never calls flush() reach the collector before it exits', async () => {
  const col = await startCollector();
  try {
    const url = col.url;
    const r = await runScript(`
      import { init, trace, withSpan } from ${JSON.stringify(entry)};
      init({ endpoint: ${JSON.stringify(url)}, format: 'json', flushIntervalMs: 3600000 });
      const answer = trace(async function answer(q) { return withSpan(() => q.length, { name: 'count' }); });
      console.log('answer', await answer('four'));
    `);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /answer 4/);
    const names = col.spans().map((s) => s.name).sort();
    assert.deepEqual(names, ['answer', 'count'], 'both spans arrived, once each');
    assert.ok(r.ms < 10_000, `exited in ${r.ms} ms`);
  } finally {
    await col.close();
  }
});

test('a script that traces with no endpoint exits at once', async () => {
  const r = await runScript(`
    import { withSpan } from ${JSON.stringify(entry)};
    withSpan(() => 1, { name: 'unsent' });
    console.log('done');
  `);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /done/);
  assert.ok(r.ms < 10_000, `exited in ${r.ms} ms`);
});

test('a script whose collector does not answer exits within seconds, with a warning, not after every retry', async () => {
  // A server that accepts and never answers.
  const held = [];
  const server = createServer((req) => held.push(req));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${server.address().port}`;
    const r = await runScript(`
      import { init, withSpan } from ${JSON.stringify(entry)};
      init({ endpoint: ${JSON.stringify(url)}, flushIntervalMs: 3600000 });
      withSpan(() => 1, { name: 'stuck' });
      process.exitCode = 3;
    `);
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /edgetrace: exiting with spans unsent: their export did not finish within 5 s/);
    assert.ok(r.ms < 15_000, `exited in ${r.ms} ms`);
    assert.ok(held.length >= 1, 'the export was attempted');
  } finally {
    for (const q of held) q.socket.destroy();
    server.close();
  }
});

test('a script that exits with spans never ended is told so, once, and its ended spans still go', async () => {
  const col = await startCollector();
  try {
    const url = col.url;
    const r = await runScript(`
      import { init, startSpan, withSpan } from ${JSON.stringify(entry)};
      init({ endpoint: ${JSON.stringify(url)}, format: 'json' });
      const root = startSpan({ name: 'never-ended' });
      startSpan({ name: 'child-never-ended', parent: root });
      withSpan(() => 1, { name: 'ended', parent: root });
    `);
    assert.equal(r.code, 0, r.out);
    const warnings = r.out.split('\n').filter((l) => l.includes('never ended'));
    assert.deepEqual(warnings, ['edgetrace: exiting with 2 span(s) never ended; they are not exported, and MLflow shows their traces as in progress (end each span that startSpan() returns, or use withSpan/trace; the span of a model call ends when its streamed answer is read to its end, cancelled or aborted)']);
    assert.deepEqual(col.spans().map((s) => s.name), ['ended']);
  } finally {
    await col.close();
  }
});
