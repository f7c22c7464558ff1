// A full command buffer is kept and filled again, rather than applied: the span hot path records
// without the core (issue 7), up to `maxLog` bytes (half of `maxQueueBytes`), and the core applies
// everything, in order, when it is next asked. The core keeps full buffers (`cmd_buffer`) in every
// runtime; what is recorded before it exists (browsers compile it asynchronously) is kept in JS
// memory and applied first once it is attached: both are tested. Nothing recorded may be lost or
// reordered across kept buffers, their cap, commands too big for the buffer, or wasm memory that
// grows meanwhile; and the span end that fills a batch does not wait for the core: the batch goes
// out in a task of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Recorder, STATS_LEN, attrCommand, configBytes } from '../../pkg/recorder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CAP = 1 << 17; // the recorder's buffer (pkg-templates/recorder.js)
const ATTRS = { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.e': 'echo' };

// The Node core, its `run` calls counted.
async function counted() {
  const glue = await import(pathToFileURL(join(root, 'pkg', 'core', 'edgetrace.js')).href);
  const { memory } = glue.initSync({ module: readFileSync(join(root, 'pkg', 'core', 'edgetrace_bg.wasm')) });
  const options = { serviceName: 'log', maxQueueSpans: 1 << 20, maxQueueBytes: 1 << 30, maxBatchSpans: 1 << 20, maxExportBytes: 1 << 30, maxValueBytes: 1 << 20 };
  const core = new glue.Core(configBytes(options, Object.keys(options), JSON.stringify), Date.now(), 0, 1);
  const runs = { n: 0 };
  const counting = {
    run: (len) => {
      runs.n++;
      return core.run(len);
    },
    cmd_buffer: (cap, keep) => core.cmd_buffer(cap, keep),
  };
  const stats = () => new Float64Array(memory.buffer, core.write_stats(), STATS_LEN);
  return { core, counting, memory, runs, stats };
}

// `n` lone roots with five attributes, as the root5 scenario records them.
function record(rec, n) {
  for (let i = 0; i < n; i++) {
    const ctx = rec.newContext();
    const h = rec.start({}, ctx, 0, `root${i % 7}`, 'CHAIN', 1_700_000_000_000 + i);
    for (const k in ATTRS) rec.str(h, k, ATTRS[k]);
    rec.end(h, 1_700_000_000_001 + i, ctx);
  }
}

// Every span the core queued, from its OTLP/JSON batches: each has its five attributes.
function exported(core) {
  const spans = [];
  for (let body = core.take_batch(false); body; body = core.take_batch(false)) {
    const req = JSON.parse(new TextDecoder().decode(body));
    for (const rs of req.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
  }
  for (const s of spans) {
    const attrs = Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue]));
    for (const [k, v] of Object.entries(ATTRS)) assert.equal(attrs[k], v, `span ${s.name}: ${k}`);
  }
  return spans;
}

{
const kind = 'kept by the core';
const Rec = Recorder;
test(`full buffers are kept with no call into the core, then applied in order when it is asked: ${kind}`, async () => {
  const { core, counting, memory, runs, stats } = await counted();
  const failed = [];
  const rec = new Rec(counting, memory, (f) => failed.push(f), 1 << 20);
  record(rec, 5000); // about 140 B each: five times the buffer's length
  assert.equal(runs.n, 0, 'the core applied nothing while spans were recorded');
  assert.ok(rec.logged > 4 * CAP && rec.logged <= 1 << 20, `${rec.logged} bytes kept`);
  rec.drain();
  assert.equal(rec.logged, 0);
  assert.ok(runs.n >= 1, `applied (${runs.n} calls)`);
  assert.deepEqual(failed, []);
  const s = stats();
  assert.equal(s[0], 5000, 'every span started');
  assert.equal(s[3], 5000, 'and queued');
  assert.equal(exported(core).length, 5000, 'and exported whole');
  // The buffer records on as before.
  record(rec, 10);
  rec.drain();
  assert.equal(exported(core).length, 10);
});

test(`at maxLog what was kept is applied to make room, and nothing is lost: ${kind}`, async () => {
  const { core, counting, memory, runs } = await counted();
  const failed = [];
  const rec = new Rec(counting, memory, (f) => failed.push(f), 2 * CAP);
  let most = 0;
  for (let i = 0; i < 50; i++) {
    record(rec, 100);
    most = Math.max(most, rec.logged);
  }
  assert.ok(most >= CAP && most < 3 * CAP, `at most ${most} bytes kept`);
  assert.ok(runs.n >= 1, `applied ${runs.n} times while recording 5,000 spans`);
  rec.drain();
  assert.deepEqual(failed, []);
  assert.equal(exported(core).length, 5000);
});

test(`a command too big for the buffer, and wasm memory grown meanwhile, keep the order of what was kept: ${kind}`, async () => {
  const { core, counting, memory } = await counted();
  const failed = [];
  const rec = new Rec(counting, memory, (f) => failed.push(f), 1 << 20);
  record(rec, 6000);
  rec.drain(); // queued, for the batch taken below
  record(rec, 1000); // buffers kept
  const ctx = rec.newContext();
  const h = rec.start({}, ctx, 0, 'ordered', 'CHAIN', 1_700_000_000_000);
  for (const k in ATTRS) rec.str(h, k, ATTRS[k]);
  rec.str(h, 'k', 'first');
  rec.write(attrCommand(h, 'k', 'x'.repeat(CAP + 10))); // applied at once, after all recorded before it
  rec.str(h, 'k', 'last');
  rec.end(h, 1_700_000_000_001, ctx);
  // The core's memory grows (as when a batch is taken) while the buffer holds commands and others
  // are kept: the recorder's views of it are detached, and what it keeps next must still be read.
  record(rec, 1500);
  assert.ok(rec.logged > 0 && rec.pos > 0);
  const first = exported(core);
  const view = rec.u8;
  memory.grow(16);
  assert.equal(view.length, 0, 'the views were detached');
  rec.drain();
  assert.deepEqual(failed, []);
  assert.equal(first.length, 7000);
  const rest = exported(core);
  assert.equal(rest.length, 1501);
  const ordered = rest.find((s) => s.name === 'ordered');
  assert.equal(ordered.attributes.find((a) => a.key === 'k').value.stringValue, 'last');
});
}

test('what is recorded before the core exists is kept in JS memory and applied first, in order, once it is attached', async () => {
  const { core, counting, memory, runs, stats } = await counted();
  const failed = [];
  const rec = new Recorder(null, null, (f) => failed.push(f), 1 << 20);
  record(rec, 3000); // about three buffers' worth, with no core to keep them
  assert.equal(rec.waiting.length >= 2, true, `${rec.waiting.length} buffers kept in JS memory`);
  rec.attach(counting, memory);
  assert.equal(rec.waiting.length, 0, 'all applied on attach');
  assert.ok(runs.n >= 1);
  assert.equal(stats()[0], 3000, 'every span started');
  // Then the core keeps full buffers: recorded on with no call into the core until drained.
  const before = runs.n;
  record(rec, 3000);
  assert.equal(runs.n, before, 'the core applied nothing while spans were recorded');
  rec.drain();
  assert.deepEqual(failed, []);
  const spans = exported(core);
  assert.equal(spans.length, 6000, 'nothing lost');
  // In order: the roots' names cycle root0..root6 within each run of 3000.
  assert.deepEqual(spans.slice(0, 8).map((x) => x.name), ['root0', 'root1', 'root2', 'root3', 'root4', 'root5', 'root6', 'root0']);
  assert.equal(spans[3000].name, 'root0');
  assert.equal(spans[2999].name, `root${2999 % 7}`);
});

test('the span end that fills a batch returns before the batch is taken; it goes out in a task of its own', async () => {
  const { flush, init, startSpan } = await import('../../pkg/node.js');
  const bodies = [];
  init({
    endpoint: 'http://127.0.0.1:9/v1/traces',
    format: 'json',
    fetch: async (_url, req) => {
      bodies.push(JSON.parse(new TextDecoder().decode(req.body)));
      return new Response(null, { status: 200 });
    },
    maxBatchSpans: 10,
    flushIntervalMs: 3_600_000,
    logger: { warn() {} },
  });
  for (let i = 0; i < 10; i++) startSpan({ name: `s${i}` }).end();
  assert.equal(bodies.length, 0, 'nothing was sent from within end()');
  await Promise.resolve();
  assert.equal(bodies.length, 0, 'nor in a microtask after it (unless half the queue waits: tests/node/batches_leave_during_awaited_loops.test.mjs)');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(bodies.length, 1, 'the full batch went out in a task of its own');
  assert.equal(bodies[0].resourceSpans[0].scopeSpans[0].spans.length, 10);
  await flush();
});
