// Values the app hands to the tracing API that throw when edgetrace reads them (a getter, a proxy
// trap) never reach the app: each call warns, keeps what it read before the fault, and returns;
// every span still ends and is exported. Span options that throw leave the span unrecorded and
// the callback running. An error the app's own callback throws still reaches the app, unchanged,
// even when it is such a value itself.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { flush, getStats, getTraceHeaders, init, startSpan, trace, updateCurrentTrace, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

let col;
const warnings = [];

before(async () => {
  col = await startCollector();
});
after(() => col.close());
beforeEach(() => {
  col.requests.length = 0;
  warnings.length = 0;
  init({ endpoint: col.url, format: 'json', serviceName: 'throwing-values', logger: { warn: (m) => warnings.push(m) } });
});

// `{ first: 'kept', bad: <getter that throws>, last: 'never read' }`
const badGetter = () => {
  const o = { first: 'kept' };
  Object.defineProperty(o, 'bad', { enumerable: true, get() { throw new Error('getter boom'); } });
  o.last = 'never read';
  return o;
};
// An object (a proxy) every trap of which throws.
const hostile = (what = 'trap boom') => new Proxy({}, new Proxy({}, { get: () => () => { throw new Error(what); } }));
const badToString = () => ({ toString() { throw new Error('toString boom'); } });

async function spanNamed(name) {
  await flush();
  const spans = col.spans().filter((s) => s.name === name);
  assert.equal(spans.length, 1, `one span "${name}" exported, got ${spans.length}`);
  return spans[0];
}

test('every Span method given a value that throws when read returns, warns, and the span is exported', async () => {
  const calls = {
    setAttributes: (s) => s.setAttributes(badGetter()),
    'setAttributes (proxy)': (s) => s.setAttributes(hostile()),
    'setAttribute (value)': (s) => s.setAttribute('v', hostile()),
    addEvent: (s) => s.addEvent('ev', badGetter()),
    'addEvent (name)': (s) => s.addEvent(badToString(), { a: 1 }),
    recordException: (s) => s.recordException(hostile()),
    setInputs: (s) => s.setInputs(hostile()),
    setOutputs: (s) => s.setOutputs(badGetter()),
    'end (its options)': () => startSpan({ name: 'ended-by-hand' }).end(hostile('end options boom')),
    updateCurrentTrace: () => updateCurrentTrace({ tags: badGetter() }),
    'updateCurrentTrace (proxy)': () => updateCurrentTrace(hostile()),
    'getTraceHeaders (not a span)': () => assert.deepEqual(getTraceHeaders({}), {}),
  };
  for (const [name, call] of Object.entries(calls)) {
    assert.equal(withSpan((s) => {
      call(s);
      return 'done';
    }, { name }), 'done', name);
  }
  for (const name of [...Object.keys(calls), 'ended-by-hand']) await spanNamed(name);
  // Each fault is warned about (a warning's text is given once, so values that JSON cannot hold,
  // recorded as strings, say so once for setAttribute, setInputs and setOutputs).
  const said = warnings.join('\n');
  for (const what of ['setAttributes', 'addEvent', 'recordException', 'end', 'updateCurrentTrace']) {
    assert.ok(said.includes(`edgetrace: a value given to ${what}() threw when read (`), `a warning for ${what}: ${said}`);
  }
  const st = getStats();
  assert.equal(st.open, 0, 'no span is left open');
  assert.equal(st.started, st.ended);
});

test('what was read before the fault is kept: attributes up to it, the event without its attributes', async () => {
  withSpan((s) => {
    s.setAttributes(badGetter());
    s.addEvent('partial', badGetter());
    updateCurrentTrace({ sessionId: 'read first', tags: badGetter() });
  }, { name: 'partial' });
  const span = await spanNamed('partial');
  assert.equal(span.attributes.first, 'kept');
  assert.equal(span.attributes.bad, undefined);
  assert.equal(span.attributes.last, undefined, 'reading stops at the fault');
  const ev = span.events.find((e) => e.name === 'partial');
  assert.ok(ev, 'the event is kept');
  assert.ok(!ev.attributes?.length, 'without the attributes that threw');
  // The trace update: its tags throw, so none is recorded (session ids are read after the tags).
  assert.equal(span.attributes['mlflow.traceTag.first'], undefined);
});

test('an exception that throws when read still sets ERROR status and an exception event', async () => {
  withSpan((s) => s.recordException(hostile('exception boom')), { name: 'bad-exception' });
  const span = await spanNamed('bad-exception');
  assert.equal(span.status.code, 2);
  assert.ok(span.events.some((e) => e.name === 'exception'));
});

test('span options that throw when read: the callback runs unrecorded and returns its value', async () => {
  const before = getStats().started;
  assert.equal(withSpan(() => 41 + 1, hostile('options boom')), 42);
  assert.equal(await withSpan(async (s) => {
    await null;
    return s.isRecording;
  }, { name: badToString() }), false, 'the callback gets a span that records nothing');
  assert.equal(startSpan({ name: 'typed', spanType: badToString() }).isRecording, false);
  assert.equal(getStats().started, before, 'no span was started');
  assert.match(warnings.join('\n'), /a value given to withSpan\(\) threw when read \(options boom\)/);
  // The options' own inputs and attributes are read before the span starts, so none is left open.
  const inputsThrow = Object.defineProperty({ name: 'never-started' }, 'inputs', { get() { throw new Error('inputs boom'); } });
  assert.equal(withSpan(() => 'ran', inputsThrow), 'ran');
  await flush();
  assert.equal(col.spans().filter((s) => s.name === 'never-started').length, 0);
  assert.equal(getStats().open, 0);
});

test("a callback's own error reaches the app unchanged, also when it is a value that throws when read", async () => {
  // Caught by hand: node:assert reads what was thrown, and this value throws when read.
  const thrown = hostile('the app threw this');
  let caught;
  try {
    withSpan(() => {
      throw thrown;
    }, { name: 'app-threw' });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught === thrown, 'withSpan rethrows what the callback threw');
  caught = undefined;
  try {
    await withSpan(async () => {
      await null;
      throw thrown;
    }, { name: 'app-rejected' });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught === thrown, "withSpan's promise rejects with what the callback threw");
  for (const name of ['app-threw', 'app-rejected']) assert.equal((await spanNamed(name)).status.code, 2, name);
});

test('a return value whose `then` throws when read goes back to the caller as it is', async () => {
  const value = hostile('then boom');
  const f = trace(function returnsHostile() {
    return value;
  });
  assert.equal(f(), value);
  assert.equal(withSpan(() => value, { name: 'returns-hostile', skipOutputs: false }), value);
  await spanNamed('returnsHostile');
  await spanNamed('returns-hostile');
  assert.equal(getStats().open, 0);
});

test('a fetch that rejects with a value that throws when read: the batch is counted as failed, and the next export goes through', async () => {
  let fail = true;
  init({
    endpoint: col.url, format: 'json', serviceName: 'throwing-values', maxRetries: 0, logger: { warn: (m) => warnings.push(m) },
    fetch: (url, req) => (fail ? Promise.reject(hostile('fetch boom')) : fetch(url, req)),
  });
  const before = getStats();
  startSpan({ name: 'lost-to-fetch' }).end();
  await flush();
  const after = getStats();
  assert.equal(after.dropped.exportFailed - before.dropped.exportFailed, 1, 'the span is counted as dropped');
  assert.equal(after.failedRequests - before.failedRequests, 1);
  assert.equal(after.lastExportError, `${col.url}/v1/traces: ?`, 'the error that could not be read is named so, after where it was sent');
  fail = false;
  startSpan({ name: 'after-fetch-failed' }).end();
  await spanNamed('after-fetch-failed');
});

test("an argument that throws when read spoils only itself: the traced function's other inputs are recorded", async () => {
  const f = trace(function takesThree(question, bad, opts) {
    return opts.n;
  });
  const self = { name: 'loop' };
  self.self = self;
  assert.equal(f('what is 2+2?', badGetter(), { n: 4, deep: [1, hostile('deep boom'), { x: 'y' }], self }), 4);
  const span = await spanNamed('takesThree');
  const inputs = JSON.parse(span.attributes['mlflow.spanInputs']);
  assert.equal(inputs.question, 'what is 2+2?');
  assert.equal(inputs.bad.first, 'kept', 'the throwing argument keeps what reads');
  assert.equal(inputs.bad.bad, '[threw: getter boom]');
  assert.equal(inputs.bad.last, 'never read');
  assert.equal(inputs.opts.n, 4);
  assert.equal(inputs.opts.deep[0], 1);
  assert.deepEqual(inputs.opts.deep[2], { x: 'y' });
  assert.equal(typeof inputs.opts.deep[1], 'string', 'the hostile proxy is written as a string');
  assert.equal(inputs.opts.self.name, 'loop');
  assert.equal(inputs.opts.self.self, '[Circular]');
  // Outputs too.
  withSpan((s) => {
    s.setOutputs({ answer: 'four', why: badGetter() });
  }, { name: 'partial-outputs' });
  const out = JSON.parse((await spanNamed('partial-outputs')).attributes['mlflow.spanOutputs']);
  assert.equal(out.answer, 'four');
  assert.equal(out.why.bad, '[threw: getter boom]');
});

test('a value nested too deep for JSON.stringify is recorded as unserialisable, at once', async () => {
  let list = null;
  for (let i = 0; i < 200_000; i++) list = { i, next: list };
  withSpan((s) => {
    s.setInputs({ question: 'deep', list });
  }, { name: 'too-deep' });
  const inputs = JSON.parse((await spanNamed('too-deep')).attributes['mlflow.spanInputs']);
  assert.equal(inputs.question, 'deep', 'the part that can be written is');
  // Written part by part to a depth of 8 levels, then given up on (not retried level by level
  // down the whole list, each retry running JSON.stringify out of stack again).
  let depth = 0;
  for (let l = inputs.list; typeof l === 'object'; l = l.next) depth++;
  assert.ok(depth >= 1 && depth <= 9, `cut at a bounded depth: ${depth}`);
  assert.match(JSON.stringify(inputs.list), /\[unserialisable\]/);
});
