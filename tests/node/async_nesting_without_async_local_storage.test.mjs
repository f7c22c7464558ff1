// Without AsyncLocalStorage (browsers, Workers without nodejs_compat) edgetrace finds the parent
// of a span started after an await from V8's async stack frames. These are the patterns the
// README documents as nesting automatically, and the ones that need the span handle.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { flush, getCurrentActiveSpan, getLastActiveTraceId, init, startSpan, trace, updateCurrentTrace, withSpan } from './helpers/entry-without-als.mjs';
import { byTrace, shape, startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(() => col.close());
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const spansOf = async (tid) => {
  await flush();
  return col.spans().filter((s) => !tid || s.traceId === tid);
};

test('async functions nest across awaits, timers and fetch-like waits', async () => {
  const leaf = trace(async function leaf(x) {
    await sleep(2);
    return x;
  });
  const syncLeaf = trace(function syncLeaf(x) {
    return x;
  });
  const mid = trace(async function mid() {
    await sleep(1);
    await leaf(1);
    syncLeaf(2);
    await Promise.resolve();
    return leaf(3);
  });
  const top = trace(async function top() {
    await sleep(1);
    return mid();
  });
  await top();
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []], ['syncLeaf', []]]]]]]);
});

test('five concurrent flows under Promise.all keep their own trees', async () => {
  const step = trace(async function step(flow) {
    await sleep(Math.random() * 4);
    return flow;
  });
  const flow = trace(async function flow(id) {
    await sleep(Math.random() * 3);
    await step(id);
    await Promise.all([step(id), step(id)]);
    return id;
  });
  await Promise.all([1, 2, 3, 4, 5].map((i) => flow(i)));
  const traces = byTrace(await spansOf());
  assert.equal(traces.size, 5);
  for (const [, ts] of traces) {
    const root = ts.find((s) => !s.parentSpanId);
    const id = JSON.parse(root.attributes['mlflow.spanInputs']).id;
    assert.equal(ts.length, 4);
    for (const s of ts.filter((x) => x !== root)) {
      assert.equal(s.parentSpanId, root.spanId);
      assert.equal(JSON.parse(s.attributes['mlflow.spanInputs']).flow, id);
    }
  }
});

test('withSpan with an async callback nests, and updateCurrentTrace after an await finds the trace', async () => {
  await withSpan(async () => {
    await sleep(1);
    updateCurrentTrace({ tags: { k: 'v' } });
    assert.ok(getCurrentActiveSpan(), 'active span found after an await');
    await withSpan(async () => sleep(1), { name: 'child' });
  }, { name: 'parent' });
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['parent', [['child', []]]]]);
  assert.equal(spans.find((s) => s.name === 'parent').attributes['mlflow.traceTag.k'], 'v');
});

test('documented limit: a .then() callback or a detached timer does not see the parent; the handle does', async () => {
  let tid;
  await withSpan(async (span) => {
    tid = span.traceId;
    await new Promise((resolve) => {
      setTimeout(() => {
        startSpan({ name: 'detached' }).end();
        startSpan({ name: 'with-handle', parent: span }).end();
        resolve();
      }, 1);
    });
  }, { name: 'outer' });
  const all = await spansOf();
  const detached = all.find((s) => s.name === 'detached');
  assert.equal(detached.parentSpanId, undefined, 'a detached timer starts its own trace');
  assert.notEqual(detached.traceId, tid);
  assert.deepEqual(shape(all.filter((s) => s.traceId === tid)), [['outer', [['with-handle', []]]]]);
});

// Calls `f` from `n` synchronous frames down, so the span's runner is that far up the stack.
const deep = (n, f) => (n === 0 ? f() : deep(n - 1, f) + 0);

test('a parent found many frames up, then a few, then many again: the capture depth adapts both ways', async () => {
  const order = ['deep-30', 'near-1', 'near-2', 'near-3', 'near-4', 'near-5', 'near-6', 'deep-45', 'near-7', 'deep-90'];
  await withSpan(async () => {
    for (const name of order) {
      await sleep(0);
      const frames = name.startsWith('deep-') ? Number(name.slice(5)) : 0;
      deep(frames, () => {
        startSpan({ name }).end();
        return 0;
      });
    }
  }, { name: 'parent' });
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['parent', [...order].sort().map((n) => [n, []])]]);
});

test('an async body run without AsyncLocalStorage: its result becomes outputs, its error is recorded and rethrown', async () => {
  let tid;
  await withSpan(async (root) => {
    tid = root.traceId;
    const v = await withSpan(async () => {
      await sleep(1);
      return { answer: 42 };
    }, { name: 'returns' });
    assert.deepEqual(v, { answer: 42 });
    const boom = new Error('boom');
    await assert.rejects(withSpan(async () => {
      await sleep(1);
      throw boom;
    }, { name: 'throws' }), (e) => e === boom);
    // The runner the failed body used is free again; a span after it still nests.
    await withSpan(async () => {
      await sleep(1);
      startSpan({ name: 'after' }).end();
    }, { name: 'later' });
  }, { name: 'root' });
  const spans = await spansOf(tid);
  assert.deepEqual(shape(spans), [['root', [['later', [['after', []]]], ['returns', []], ['throws', []]]]]);
  const returns = spans.find((s) => s.name === 'returns');
  assert.deepEqual(JSON.parse(returns.attributes['mlflow.spanOutputs']), { answer: 42 });
  const throws = spans.find((s) => s.name === 'throws');
  assert.equal(throws.status?.code, 2);
  assert.ok(throws.events.some((e) => e.name === 'exception'), 'the exception is an event of the span');
  assert.ok(spans.every((s) => s.endTimeUnixNano), 'every span ended');
});

test('an async callback made in another realm (an iframe, here a vm context) nests as one made here', async () => {
  const { runInNewContext } = await import('node:vm');
  // Its constructor is that realm's AsyncFunction, not this one's: it is known by the name.
  const foreign = runInNewContext(
    '(sleep, withSpan) => async () => { await sleep(1); await sleep(1); withSpan(() => {}, { name: "after awaits" }); }',
  )(sleep, withSpan);
  assert.notEqual(foreign.constructor, (async () => {}).constructor);
  await withSpan(async () => {
    await sleep(1);
    await withSpan(foreign, { name: 'foreign' });
  }, { name: 'root' });
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['root', [['foreign', [['after awaits', []]]]]]]);
});

// Runs `fn` with every async-stack capture edgetrace takes recorded: `onCapture` gets the names
// of the frames each took.
async function recordingCaptures(onCapture, fn) {
  const capture = Error.captureStackTrace;
  Error.captureStackTrace = function (holder, top) {
    capture.call(Error, holder, top);
    if (Array.isArray(holder.stack)) onCapture(holder.stack.map((f) => f.getFunctionName?.() ?? ''));
  };
  try {
    return await fn();
  } finally {
    Error.captureStackTrace = capture;
  }
}

// Each frame an async-stack capture takes costs (about 0.25 µs in Chromium), so the capture
// leaves out the frames from the public function called (withSpan, startSpan) up. Checked by
// reading what each capture took; the spans must nest all the same, whichever function started
// them and however deep it was called.
test("the parent lookup after an await takes none of edgetrace's own frames, and still nests", async () => {
  const own = new Set(['withSpan', 'startSpan', 'openSpan', 'active', 'activeFromAsyncStack']);
  const taken = [];
  await recordingCaptures((names) => taken.push(names), () => withSpan(async () => {
    await sleep(0);
    await withSpan(async () => {
      await sleep(0);
      startSpan({ name: 'started' }).end();
      deep(5, () => withSpan(() => 0, { name: 'deep-sync' }));
    }, { name: 'child' });
  }, { name: 'parent' }));
  assert.ok(taken.length >= 3, `${taken.length} captures`);
  for (const names of taken) {
    assert.deepEqual(names.filter((n) => own.has(n)), [], `frames taken: ${names.join(', ')}`);
    assert.ok(names.some((n) => n.startsWith('__et_')), `a runner among ${names.join(', ')}`);
  }
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['parent', [['child', [['deep-sync', []], ['started', []]]]]]]);
});

// Each frame past the runner is paid for and read for nothing: once a call site is the deepest in
// use, its capture ends at its runner (after a deeper one, the capture shrinks back after a few
// spans). Call sites of a few depths in turn each find the runner at the first capture, and a
// deeper one than any before still finds it.
test('a parent lookup after an await takes no frame past the runner, and still nests at any depth', async () => {
  let taken = [];
  // Runs of call sites at one depth, single deeper ones between them, then two depths in turn.
  const RUN = 30;
  const depths = [...Array(RUN).fill(0), 4, ...Array(RUN).fill(0), 6, ...Array(RUN).fill(1), ...Array(RUN).fill(0).map((_, i) => (i % 2) * 3)];
  const captures = []; // each span's captures, each as the names of the frames it took
  const name = (i) => `at-${String(i).padStart(3, '0')}`;
  await recordingCaptures((names) => taken.push(names), () => withSpan(async () => {
    for (const [i, d] of depths.entries()) {
      // A microtask, not a timer: Node runs a timer's continuation under runNextTicks,
      // listOnTimeout and processTimers when another timer of the same duration expires after it
      // (likelier on a loaded host), 3 frames more before the runner, so a span could need a
      // second capture for a reason of Node's, not edgetrace's. Every span here resumes in the
      // same run of the microtask queue, with the same frames beneath it.
      await null;
      taken = [];
      deep(d, () => withSpan(() => 0, { name: name(i) }));
      captures.push(taken);
    }
  }, { name: 'steady' }));
  const spans = await spansOf(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['steady', depths.map((_, i) => [name(i), []])]]);
  const last = captures.map((c) => c.at(-1) ?? []);
  for (const [i, names] of last.entries()) {
    assert.ok(names.some((n) => n.startsWith('__et_')), `span ${i}: no runner among ${names.join(', ')}`);
  }
  // The last span of each run at one depth: its capture ends at the runner.
  for (const i of [RUN - 1, 2 * RUN, 3 * RUN + 1]) {
    assert.ok(last[i].at(-1).startsWith('__et_'), `span ${i}: frames past the runner: ${last[i].join(', ')}`);
  }
  // Two depths in turn: one capture each (none missed its runner), the deeper one's ending there.
  for (let i = 3 * RUN + 4; i < depths.length; i++) {
    assert.equal(captures[i].length, 1, `span ${i} (depth ${depths[i]}) took ${captures[i].length} captures`);
    if (depths[i] === 3) assert.ok(last[i].at(-1).startsWith('__et_'), `span ${i}: frames past the runner: ${last[i].join(', ')}`);
  }
});

test('a traced async generator keeps its spans, and its model call, under it after its awaits', async () => {
  const step = trace(async function step(i) {
    await sleep(1);
    return i;
  });
  // As a streaming chat yields its text to the page: awaits inside, a consumer's for await outside.
  const chat = trace(async function* chat(question) {
    await sleep(1);
    const first = await step(1);
    yield `${question}:${first}`;
    await sleep(1);
    const inner = withSpan(() => getCurrentActiveSpan()?.name, { name: 'after-yield' });
    yield await step(inner === 'after-yield' ? 2 : -1);
  });
  const turn = trace(async function turn() {
    const out = [];
    for await (const piece of chat('q')) out.push(piece);
    return out;
  });
  // Two turns at once: each keeps its own tree.
  const [a, b] = await Promise.all([turn(), turn()]);
  assert.deepEqual([a, b], [['q:1', 2], ['q:1', 2]]);
  const traces = byTrace(await spansOf());
  assert.equal(traces.size, 2, `one trace per turn, not ${traces.size}`);
  for (const [, spans] of traces) assert.deepEqual(shape(spans), [['turn', [['chat', [['after-yield', []], ['step', []], ['step', []]]]]]]);
});
