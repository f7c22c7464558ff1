// A full command buffer is made longer, keeping what it holds, rather than applied: the span hot
// path records without the core (issue 7), up to `maxLog` bytes (half of `maxQueueBytes`), and
// the core applies everything in one call when it is next asked. Nothing recorded may be lost
// across the buffer's growth, its cap, or a core that cannot grow it; and the span end that
// fills a batch does not wait for the core: the batch goes out in a task of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Recorder, STATS_LEN, configBytes } from '../../pkg/recorder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CAP = 1 << 17; // the recorder's buffer (pkg-templates/recorder.js)
const ATTRS = { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.e': 'echo' };

// The Node core, its `run` calls counted; `growFails` makes it refuse a buffer longer than CAP
// (as a core out of memory traps).
async function counted({ growFails = false } = {}) {
  const glue = await import(pathToFileURL(join(root, 'pkg', 'core', 'edgetrace.js')).href);
  const { memory } = glue.initSync({ module: readFileSync(join(root, 'pkg', 'core', 'edgetrace_bg.wasm')) });
  const options = { serviceName: 'log', maxQueueSpans: 1 << 20, maxQueueBytes: 1 << 30, maxBatchSpans: 1 << 20, maxExportBytes: 1 << 30 };
  const core = new glue.Core(configBytes(options, Object.keys(options), JSON.stringify), Date.now(), 0, 1);
  const runs = { n: 0 };
  const counting = {
    run: (len) => {
      runs.n++;
      return core.run(len);
    },
    cmd_buffer: (cap) => {
      if (growFails && cap > CAP) throw new WebAssembly.RuntimeError('unreachable');
      return core.cmd_buffer(cap);
    },
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

test('a full buffer grows, keeping what it holds, and the core applies it all in one call', async () => {
  const { core, counting, memory, runs, stats } = await counted();
  const failed = [];
  const rec = new Recorder(counting, memory, (f) => failed.push(f), 1 << 20);
  record(rec, 5000); // about 140 B each: five times the buffer's first length
  assert.equal(runs.n, 0, 'the core applied nothing while spans were recorded');
  assert.ok(rec.cap > CAP && rec.cap <= 1 << 20, `the buffer grew to ${rec.cap} bytes`);
  assert.ok(rec.pos > 4 * CAP, `${rec.pos} bytes recorded`);
  rec.drain();
  assert.equal(runs.n, 1, 'one call applied them');
  assert.equal(rec.cap, CAP, 'the long buffer was let go');
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

test('at maxLog the buffer is applied to make room, not grown further, and nothing is lost', async () => {
  const { core, counting, memory, runs } = await counted();
  const failed = [];
  const rec = new Recorder(counting, memory, (f) => failed.push(f), 2 * CAP);
  let most = 0;
  for (let i = 0; i < 50; i++) {
    record(rec, 100);
    most = Math.max(most, rec.cap);
  }
  assert.equal(most, 2 * CAP, 'grown once, to maxLog');
  assert.ok(runs.n >= 2, `applied ${runs.n} times while recording 5,000 spans`);
  rec.drain();
  assert.deepEqual(failed, []);
  assert.equal(exported(core).length, 5000);
});

test('a core that cannot grow the buffer is reported, and what was recorded is applied instead', async () => {
  const { core, counting, memory } = await counted({ growFails: true });
  const failed = [];
  const rec = new Recorder(counting, memory, (f) => failed.push(f), 1 << 20);
  assert.doesNotThrow(() => record(rec, 3000));
  assert.ok(failed.includes(8), `the failure was reported (${failed})`);
  assert.equal(rec.cap, CAP);
  rec.drain();
  assert.equal(exported(core).length, 3000, 'no span lost');
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
  assert.equal(bodies.length, 0, 'nor in a microtask after it');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(bodies.length, 1, 'the full batch went out in a task of its own');
  assert.equal(bodies[0].resourceSpans[0].scopeSpans[0].spans.length, 10);
  await flush();
});
