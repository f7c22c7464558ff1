// The built npm package in Node: nesting, async context, concurrency, generators, errors, misuse,
// batching under the byte cap, retries. Exports go to a local collector as OTLP JSON.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import {
  flush, getCurrentActiveSpan, getLastActiveTraceId, getStats, getTraceHeaders, init, instrumentGlobalFetch,
  SpanType, startSpan, trace, updateCurrentTrace, withSpan,
} from '../../pkg/node.js';
import { byTrace, shape, startCollector } from './helpers/collector.mjs';

let col;
const warnings = [];
const logger = { warn: (m) => warnings.push(m) };

before(async () => {
  col = await startCollector();
});
after(() => col.close());
beforeEach(() => {
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', serviceName: 'node-test', logger, initialBackoffMs: 10, maxBackoffMs: 200 });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function exported(traceIdHex) {
  await flush();
  return col.spans().filter((s) => !traceIdHex || s.traceId === traceIdHex);
}

test('nested sync calls form one tree with inputs named by parameter and outputs', async () => {
  const add = trace(function add(a, b) {
    return a + b;
  });
  const calc = trace(function calc(x) {
    return add(x, 1) * add(x, 2);
  }, { spanType: SpanType.CHAIN });
  assert.equal(calc(3), 20);
  const tid = getLastActiveTraceId().slice(3);
  const spans = await exported(tid);
  assert.deepEqual(shape(spans), [['calc', [['add', []], ['add', []]]]]);
  const root = spans.find((s) => s.name === 'calc');
  assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
  assert.equal(root.attributes['mlflow.spanInputs'], '{"x":3}');
  assert.equal(root.attributes['mlflow.spanOutputs'], 20, 'a number: a typed value, not JSON text');
  const adds = spans.filter((s) => s.name === 'add').map((s) => s.attributes['mlflow.spanInputs']).sort();
  assert.deepEqual(adds, ['{"a":3,"b":1}', '{"a":3,"b":2}']);
  assert.equal(root.resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'node-test');
});

test('a destructured parameter records the fields of the object it was given as inputs', async () => {
  const search = trace(async ({ query, k = 3 }) => `${query}:${k}`, { name: 'search' });
  const pair = trace(([a, b]) => a + b, { name: 'pair' });
  const two = trace(({ a }, { b }) => a + b, { name: 'two' });
  const fromMap = trace(({ size }) => size, { name: 'from-map' });
  assert.equal(await search({ query: 'mlflow', k: 5 }), 'mlflow:5');
  assert.equal(pair([1, 2]), 3);
  assert.equal(two({ a: 1 }, { b: 2 }), 3);
  assert.equal(fromMap(new Map([[1, 2]])), 1);
  const spans = await exported();
  const inputs = (name) => spans.find((x) => x.name === name).attributes['mlflow.spanInputs'];
  assert.equal(inputs('search'), '{"query":"mlflow","k":5}', 'the options object, not {"args":[…]}');
  assert.equal(inputs('two'), '{"a":1,"b":2}', 'each destructured parameter');
  assert.equal(inputs('from-map'), '{"arg0":{"1":2}}', 'an object that is not a plain one is kept by its place');
  // Patterns whose names cannot be read keep the arguments by place.
  assert.equal(inputs('pair'), '{"args":[[1,2]]}');
});

test("arguments past the declared parameters are left out (a framework's extra arguments: the AI SDK's tool options, the OpenAI runner)", async () => {
  // The AI SDK calls a tool as execute(input, { toolCallId, messages, abortSignal }): the messages
  // are the whole conversation, and were recorded with every tool call.
  const options = { toolCallId: 'call_1', messages: [{ role: 'user', content: 'the whole conversation' }] };
  const weather = trace(async ({ city }) => `sunny in ${city}`, { name: 'weather' });
  const named = trace(async function named(input) {
    return input.city;
  });
  const rest = trace((first, ...more) => more.length, { name: 'rest' });
  assert.equal(await weather({ city: 'Paris' }, options), 'sunny in Paris');
  assert.equal(await named({ city: 'Oslo' }, options), 'Oslo');
  assert.equal(rest(1, 2, 3), 2);
  const spans = await exported();
  const inputs = (name) => spans.find((x) => x.name === name).attributes['mlflow.spanInputs'];
  assert.equal(inputs('weather'), '{"city":"Paris"}');
  assert.equal(inputs('named'), '{"input":{"city":"Oslo"}}');
  assert.equal(inputs('rest'), '{"first":1,"more":[2,3]}', 'a rest parameter keeps every argument');
});

test('parameters are named beside a destructured one and past an object default holding commas; bound functions keep every argument', async () => {
  // A cut at fn.length (which stops at the first default or rest parameter) lost these.
  const withDefault = trace((a, opts = { x: 1, y: 2 }) => a + opts.x, { name: 'with-default' });
  const mixed = trace(({ city }, unit = 'C') => `${city} ${unit}`, { name: 'mixed' });
  const destructuredDefault = trace(({ city } = {}) => city, { name: 'destructured-default' });
  const bound = trace(function add(a, b) {
    return this.base + a + b;
  }.bind({ base: 1 }), { name: 'bound' });
  assert.equal(withDefault(1, { x: 2, y: 0 }), 3);
  assert.equal(mixed({ city: 'Oslo' }, 'F'), 'Oslo F');
  assert.equal(destructuredDefault({ city: 'Paris' }, { toolCallId: 'call_1', messages: [] }), 'Paris');
  assert.equal(bound(2, 3), 6);
  const spans = await exported();
  const inputs = (name) => spans.find((x) => x.name === name).attributes['mlflow.spanInputs'];
  assert.equal(inputs('with-default'), '{"a":1,"opts":{"x":2,"y":0}}');
  assert.equal(inputs('mixed'), '{"city":"Oslo","unit":"F"}');
  // As a TypeScript handler takes a question and its options (the MLflow evaluation review).
  const ask = trace(async (question, { sessionId, userId }) => `${question} ${sessionId} ${userId}`, { name: 'ask' });
  await ask('why?', { sessionId: 's1', userId: 'u1' });
  assert.equal((await exported()).find((x) => x.name === 'ask').attributes['mlflow.spanInputs'], '{"question":"why?","sessionId":"s1","userId":"u1"}');
  // A field named as a parameter before it does not take that parameter's place.
  const same = trace((question, { question: other }) => `${question} ${other}`, { name: 'same-name' });
  same('first', { question: 'second', extra: 1 });
  assert.equal((await exported()).find((x) => x.name === 'same-name').attributes['mlflow.spanInputs'], '{"question":"first","extra":1}');
  assert.equal(inputs('destructured-default'), '{"city":"Paris"}', "a lone destructured parameter with a default: the framework's options left out");
  assert.equal(inputs('bound'), '{"args":[2,3]}');
});

test('work a traced function leaves running after its trace\'s root ended still records its spans under their parent, in the same trace', async () => {
  // The root returns without awaiting `bg`; `bg` awaits, then calls the traced `inner`. The root's
  // end closed the trace's context in the core, and `inner` was lost ("span handle … is not
  // open"), as a Worker's background model call in ctx.waitUntil was (a re-verification review).
  warnings.length = 0;
  const inner = trace(async function inner() {
    await sleep(5);
    return 1;
  });
  const bg = trace(async function bg() {
    await sleep(20);
    return inner();
  });
  let pending;
  await trace(async function root() {
    pending = bg();
    return 'done';
  })();
  await pending;
  const ended = startSpan({ name: 'ended parent' });
  ended.end();
  startSpan({ name: 'given an ended parent', parent: ended }).end();
  const spans = await exported();
  const by = (name) => spans.find((s) => s.name === name);
  assert.ok(by('inner'), spans.map((s) => s.name).join());
  assert.equal(by('bg').parentSpanId, by('root').spanId);
  assert.equal(by('inner').parentSpanId, by('bg').spanId);
  assert.equal(by('inner').traceId, by('root').traceId);
  assert.equal(by('given an ended parent').parentSpanId, by('ended parent').spanId);
  assert.equal(by('given an ended parent').traceId, by('ended parent').traceId);
  assert.deepEqual(warnings, []);
});

test('a start or end time that is not ms since 1970 is replaced by now, and a Symbol one never throws', async () => {
  const before = Date.now();
  startSpan({ name: 't-text', startTimeMs: 'yesterday' }).end({ endTimeMs: 'later' });
  startSpan({ name: 't-seconds', startTimeMs: before / 1000 }).end({ endTimeMs: performance.now() });
  const sym = startSpan({ name: 't-symbol' });
  assert.doesNotThrow(() => sym.end({ endTimeMs: Symbol('t') }));
  startSpan({ name: 't-date', startTimeMs: new Date(1577836800000) }).end({ endTimeMs: 1577836801000 });
  const after = Date.now();
  const spans = await exported();
  const ms = (name, k) => Number(BigInt(spans.find((x) => x.name === name)[k]) / 1_000_000n);
  for (const name of ['t-text', 't-seconds', 't-symbol']) {
    for (const k of ['startTimeUnixNano', 'endTimeUnixNano']) {
      assert.ok(ms(name, k) >= before - 1 && ms(name, k) <= after + 1, `${name} ${k}: ${ms(name, k)} not now`);
    }
  }
  assert.equal(ms('t-date', 'startTimeUnixNano'), 1577836800000, 'a Date is a time');
  assert.equal(ms('t-date', 'endTimeUnixNano'), 1577836801000);
});

test('a callback that returns its own span (a one-line arrow calling a Span method) records no outputs', async () => {
  const s1 = withSpan((s) => s.setAttribute('k', 1), { name: 'returns-its-span' });
  assert.equal(s1.name, 'returns-its-span', 'the app still gets the return value');
  await withSpan(async (s) => {
    await null;
    return s.setAttributes({ k: 2 });
  }, { name: 'resolves-to-its-span' });
  withSpan((s) => s.setOutputs(s), { name: 'sets-itself-as-outputs' });
  const other = startSpan({ name: 'other' });
  withSpan(() => other, { name: 'returns-another-span' });
  other.end();
  const spans = await exported();
  for (const name of ['returns-its-span', 'resolves-to-its-span', 'sets-itself-as-outputs']) {
    const span = spans.find((x) => x.name === name);
    assert.ok(span, name);
    assert.equal(span.attributes['mlflow.spanOutputs'], undefined, name);
  }
  assert.equal(spans.find((x) => x.name === 'resolves-to-its-span').attributes.k, 2);
  // Another span is a value like any other: its name and ids.
  const out = JSON.parse(spans.find((x) => x.name === 'returns-another-span').attributes['mlflow.spanOutputs']);
  assert.deepEqual(Object.keys(out), ['name', 'traceId', 'spanId']);
  assert.equal(out.name, 'other');
});

test('a returned thenable that is not a Promise (a query builder) goes back untouched and is not run early', async () => {
  const ran = [];
  class QueryBuilder {
    constructor() {
      this.filters = [];
      this.apiKey = 'sb-SECRET-key';
    }
    eq(k, v) {
      this.filters.push(`${k}=${v}`);
      return this;
    }
    then(resolve, reject) {
      ran.push(this.filters.join('&'));
      return Promise.resolve({ rows: this.filters.length }).then(resolve, reject);
    }
  }
  const getDocs = trace(function getDocs() {
    return new QueryBuilder();
  });
  const q = getDocs();
  assert.ok(q instanceof QueryBuilder, 'the caller gets the builder itself');
  assert.deepEqual(ran, [], 'tracing did not run the query');
  const result = await q.eq('a', 1).eq('b', 2);
  assert.deepEqual(result, { rows: 2 });
  assert.deepEqual(ran, ['a=1&b=2'], 'the query ran once, as the caller built it');
  // Promises still end their span when they settle, with what they resolve to.
  const later = trace(function later() {
    return new Promise((r) => setTimeout(() => r('done'), 30));
  });
  assert.equal(await later(), 'done');
  // So do promises of another realm (Jest runs tests in vm contexts; iframes have their own).
  const { runInNewContext } = await import('node:vm');
  const foreign = trace(function foreign() {
    return runInNewContext('new Promise((r) => setTimeout(() => r(42), 30))', { setTimeout });
  });
  assert.equal(await foreign(), 42);
  const spans = await exported();
  const f = spans.find((x) => x.name === 'foreign');
  assert.equal(f.attributes['mlflow.spanOutputs'], 42, "another realm's promise is awaited for its outputs");
  assert.ok(Number(BigInt(f.endTimeUnixNano) - BigInt(f.startTimeUnixNano)) >= 25e6, 'and its span lasts until it settles');
  const docs = spans.find((x) => x.name === 'getDocs');
  assert.ok(docs, 'the span is exported');
  assert.equal(docs.attributes['mlflow.spanOutputs'], undefined, 'the builder (and its key) is not recorded');
  assert.ok(!JSON.stringify(spans).includes('sb-SECRET-key'));
  const l = spans.find((x) => x.name === 'later');
  assert.equal(l.attributes['mlflow.spanOutputs'], '"done"');
  assert.ok(Number(BigInt(l.endTimeUnixNano) - BigInt(l.startTimeUnixNano)) >= 25e6, 'the promise span lasts until it settles');
});

test("a traced function keeps the function's own properties (a tool's description and parameters, as mlflow-tracing keeps them)", () => {
  function getWeather(city) {
    return `sunny in ${city}`;
  }
  getWeather.description = 'The weather in a city';
  getWeather.parameters = { type: 'object', properties: { city: { type: 'string' } } };
  const traced = trace(getWeather, { spanType: SpanType.TOOL });
  assert.equal(traced.description, 'The weather in a city');
  assert.equal(traced.parameters, getWeather.parameters);
  assert.equal(traced('Paris'), 'sunny in Paris');
  assert.equal(traced.name, 'getWeather');
});

test("a traced function keeps the function's name and length (Express tells error middleware by length 4)", () => {
  const errorHandler = trace(function errorHandler(err, req, res, next) {
    return [err, req, res, next].length;
  });
  assert.equal(errorHandler.length, 4);
  assert.equal(errorHandler.name, 'errorHandler');
  assert.equal(trace(async (a, b) => a + b, { name: 'sum' }).length, 2);
  const gen = trace(function* numbers(from, to) {
    for (let i = from; i < to; i++) yield i;
  });
  assert.deepEqual([gen.name, gen.length], ['numbers', 2]);
  assert.deepEqual([...gen(1, 4)], [1, 2, 3]);
  const agen = trace(async function* pages(n) {
    yield n;
  });
  assert.deepEqual([agen.name, agen.length], ['pages', 1]);
});

test('null and undefined attribute values set nothing (as in OpenTelemetry), and leave an earlier value', async () => {
  withSpan((s) => {
    s.setAttribute('kept', 'yes');
    s.setAttribute('kept', undefined);
    s.setAttribute('none', null);
    s.setAttributes({ alsoNone: undefined, nullToo: null, n: 0, f: false, e: '' });
  }, { name: 'nullish-attributes' });
  const span = (await exported()).find((x) => x.name === 'nullish-attributes');
  const { 'mlflow.spanType': _, 'mlflow.traceTag.mlflow.traceName': name, ...attrs } = span.attributes;
  assert.deepEqual(attrs, { kept: 'yes', n: 0, f: false, e: '' });
  assert.equal(name, 'nullish-attributes', 'a root names its trace');
});

test('nested async calls stay nested across several awaits', async () => {
  const leaf = trace(async function leaf(n) {
    await sleep(2);
    await sleep(1);
    return n * 2;
  }, { spanType: SpanType.TOOL });
  const mid = trace(async function mid(n) {
    const a = await leaf(n);
    await sleep(1);
    const b = await leaf(a);
    return b;
  });
  const top = trace(async function top() {
    return mid(1);
  }, { spanType: SpanType.AGENT });
  assert.equal(await top(), 4);
  const spans = await exported(getLastActiveTraceId().slice(3));
  assert.deepEqual(shape(spans), [['top', [['mid', [['leaf', []], ['leaf', []]]]]]]);
});

test('five concurrent interleaved flows each produce exactly their own tree', async () => {
  const step = trace(async function step(flow, i) {
    await sleep(Math.random() * 5);
    return `${flow}.${i}`;
  }, { spanType: SpanType.TOOL });
  const flow = trace(async function flow(id) {
    const out = [];
    for (let i = 0; i < 3; i++) out.push(await step(id, i));
    await Promise.all([step(id, 'p1'), step(id, 'p2')]);
    return out;
  }, { spanType: SpanType.AGENT });
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => flow(`f${i}`)));
  assert.equal(results.length, 5);
  const spans = await exported();
  const traces = byTrace(spans);
  assert.equal(traces.size, 5);
  for (const [, ts] of traces) {
    assert.equal(ts.length, 6);
    const root = ts.find((s) => !s.parentSpanId);
    const flowId = JSON.parse(root.attributes['mlflow.spanInputs']).id;
    for (const s of ts.filter((x) => x !== root)) {
      assert.equal(s.parentSpanId, root.spanId);
      assert.equal(JSON.parse(s.attributes['mlflow.spanInputs']).flow, flowId, 'a step landed in another flow');
    }
  }
});

test('generators: the span ends when the generator finishes and records what it yielded', async () => {
  const gen = trace(function* count(n) {
    for (let i = 0; i < n; i++) yield i;
  });
  const agen = trace(async function* stream(words) {
    for (const w of words) {
      await sleep(1);
      yield w;
    }
  }, { spanType: SpanType.CHAT_MODEL });
  assert.deepEqual([...gen(3)], [0, 1, 2]);
  const got = [];
  for await (const w of agen(['a', 'b'])) got.push(w);
  assert.deepEqual(got, ['a', 'b']);
  const spans = await exported();
  assert.equal(spans.find((s) => s.name === 'count').attributes['mlflow.spanOutputs'], '[0,1,2]');
  const st = spans.find((s) => s.name === 'stream');
  assert.equal(st.attributes['mlflow.spanOutputs'], '["a","b"]');
  assert.equal(st.attributes['mlflow.spanType'], 'CHAT_MODEL');
});

test('an exception sets ERROR, is recorded as an event, and is re-thrown unchanged', async () => {
  class MyError extends Error {}
  const err = new MyError('boom');
  const fails = trace(async function fails() {
    await sleep(1);
    throw err;
  });
  await assert.rejects(fails(), (e) => e === err);
  const failsSync = trace(function failsSync() {
    throw err;
  });
  assert.throws(() => failsSync(), (e) => e === err);
  const spans = await exported();
  for (const name of ['fails', 'failsSync']) {
    const s = spans.find((x) => x.name === name);
    assert.equal(s.status.code, 2);
    assert.match(s.status.message, /boom/);
    const ev = s.events.find((e) => e.name === 'exception');
    assert.ok(ev, 'exception event');
    const attrs = Object.fromEntries(ev.attributes.map((a) => [a.key, a.value.stringValue]));
    assert.equal(attrs['exception.message'], 'boom');
    assert.match(attrs['exception.stacktrace'], /package_traces_in_node/);
    // Its class, as MLflow's Python SDK records `type(e).__name__`: its `name` is still 'Error'.
    assert.equal(attrs['exception.type'], 'MyError');
  }
});

test("statuses by name: any case, and OpenTelemetry's and mlflow-tracing's STATUS_CODE_ form", async () => {
  const named = [['error', 2], ['STATUS_CODE_ERROR', 2], ['status_code_ok', 1], ['OK', 1]];
  for (const [status, _] of named) startSpan({ name: `s-${status}` }).setStatus(status, 'why').end();
  startSpan({ name: 'by-end' }).end({ status: 'STATUS_CODE_ERROR' });
  const spans = await exported();
  for (const [status, code] of named) assert.equal(spans.find((s) => s.name === `s-${status}`).status.code ?? 0, code, status);
  assert.equal(spans.find((s) => s.name === 'by-end').status.code, 2);
});

test('an unknown status name (a typo such as FAILED) is warned about, and the status left unset', async () => {
  warnings.length = 0;
  startSpan({ name: 'typo' }).setStatus('FAILED', 'why').end();
  startSpan({ name: 'none set' }).end();
  const spans = await exported();
  const code = (name) => spans.find((s) => s.name === name).status?.code ?? 0;
  assert.equal(code('typo'), code('none set'), 'as if no status were set');
  assert.deepEqual(warnings, ['edgetrace: unknown status "FAILED" (OK, ERROR or UNSET): left unset']);
});

test('updateCurrentTrace writes tags, session and user onto the root only', async () => {
  await withSpan(async () => {
    await withSpan(() => updateCurrentTrace({ tags: { env: 'test', none: null, obj: { a: 1 }, n: 3, 'mlflow.traceName': 'renamed' }, sessionId: 's-1', userId: 'u-1' }), { name: 'inner' });
  }, { name: 'outer' });
  const spans = await exported(getLastActiveTraceId().slice(3));
  const outer = spans.find((s) => s.name === 'outer');
  const inner = spans.find((s) => s.name === 'inner');
  assert.equal(outer.attributes['mlflow.traceTag.env'], 'test');
  // A null tag sets nothing, an object goes as JSON (not "null" and "[object Object]").
  assert.equal(outer.attributes['mlflow.traceTag.none'], undefined);
  // The trace is named after its root; a tag naming it otherwise is warned about and left out.
  assert.equal(outer.attributes['mlflow.traceTag.mlflow.traceName'], 'outer');
  assert.ok(warnings.includes('edgetrace: the trace is named after its root span; a mlflow.traceName tag is ignored'), warnings.join('\n'));
  assert.equal(outer.attributes['mlflow.traceTag.obj'], '{"a":1}');
  assert.equal(outer.attributes['mlflow.traceTag.n'], '3');
  assert.equal(outer.attributes['session.id'], 's-1');
  assert.equal(outer.attributes['user.id'], 'u-1');
  assert.equal(inner.attributes['session.id'], undefined);
});

test('an explicit parent handle nests a span wherever it is started', async () => {
  const root = startSpan({ name: 'root', spanType: SpanType.AGENT });
  await sleep(1);
  const child = startSpan({ name: 'child', parent: root });
  setTimeout(() => startSpan({ name: 'late', parent: child }).end(), 0);
  await sleep(5);
  child.end();
  root.end();
  const spans = await exported(root.traceId);
  assert.deepEqual(shape(spans), [['root', [['child', [['late', []]]]]]]);
  assert.equal(getTraceHeaders(root).traceparent, undefined, 'an ended span gives no traceparent');
});

test('misuse never throws: ended twice, foreign parent, odd inputs, calls after end', async () => {
  warnings.length = 0;
  const s = startSpan({ name: 'm' });
  const cyc = { a: 1 };
  cyc.self = cyc;
  s.setInputs({ cyc, big: 12n, fn() {}, sym: Symbol('x'), m: new Map([['k', 1]]) });
  s.end();
  s.end();
  s.setOutputs(1);
  s.setAttribute('x', 1);
  const orphan = startSpan({ name: 'orphan', parent: { not: 'a span' } });
  orphan.end();
  assert.equal(getCurrentActiveSpan(), undefined);
  const spans = await exported();
  const m = spans.find((x) => x.name === 'm');
  const inputs = JSON.parse(m.attributes['mlflow.spanInputs']);
  assert.deepEqual(inputs, { cyc: { a: 1, self: '[Circular]' }, big: '12', fn: '[Function fn]', sym: 'Symbol(x)', m: { k: 1 } });
  assert.ok(!spans.find((x) => x.name === 'orphan').parentSpanId);
  assert.ok(warnings.some((w) => /ended twice/.test(w)));
  assert.ok(warnings.some((w) => /not an edgetrace Span/.test(w)));
});

test("an object's own constructor is left out of a value, without a warning (Next.js's Edge sandbox gives its streams one)", async () => {
  warnings.length = 0;
  class InternalReadableStream {
    constructor() {
      this.constructor = InternalReadableStream;
    }
  }
  const s = startSpan({ name: 'own-constructor' });
  s.setOutputs(new InternalReadableStream());
  assert.deepEqual(warnings.filter((w) => /recorded as strings/.test(w)), [], 'no warning for a stream as outputs');
  s.setInputs({ stream: new InternalReadableStream(), onChunk() {} });
  s.end();
  const spans = await exported();
  const span = spans.find((x) => x.name === 'own-constructor');
  assert.equal(span.attributes['mlflow.spanOutputs'], '{}');
  assert.deepEqual(JSON.parse(span.attributes['mlflow.spanInputs']), { stream: {}, onChunk: '[Function onChunk]' }, 'other functions are still recorded');
});

test('batches stay under maxExportBytes and no span is lost or duplicated', async () => {
  init({ endpoint: col.url, format: 'json', logger, maxExportBytes: 20000, flushIntervalMs: 0 });
  const big = 'x'.repeat(3000);
  for (let i = 0; i < 60; i++) startSpan({ name: `s${i}`, inputs: { big } }).end();
  await flush();
  assert.ok(col.requests.length >= 9, `${col.requests.length} requests`);
  for (const r of col.requests) assert.ok(r.body.length <= 20000, `body of ${r.body.length} bytes`);
  const names = col.spans().map((s) => s.name).sort();
  assert.equal(names.length, 60);
  assert.equal(new Set(names).size, 60);
});

test('in Node a batch body may reach 1,000,000 bytes by default, where browsers stop at 60,000', async () => {
  // 300 spans of about 2 KB: one request under Node's default, at least ten at the browsers'.
  const big = 'y'.repeat(2000);
  const send = async (options) => {
    init({ endpoint: col.url, format: 'json', logger, flushIntervalMs: 0, ...options });
    col.requests.length = 0;
    for (let i = 0; i < 300; i++) startSpan({ name: `b${i}`, inputs: { big } }).end();
    await flush();
    const names = col.spans().map((x) => x.name);
    assert.equal(new Set(names).size, 300, 'every span once');
    assert.equal(names.length, 300);
    return col.requests.map((r) => r.body.length);
  };
  const server = await send({});
  assert.equal(server.length, 1, `one request (${server.join(', ')} bytes)`);
  assert.ok(server[0] > 600_000 && server[0] <= 1_000_000, `${server[0]} bytes`);
  const browserCap = await send({ maxExportBytes: 60_000 });
  assert.ok(browserCap.length >= 10, `${browserCap.length} requests`);
  for (const n of browserCap) assert.ok(n <= 60_000, `a body of ${n} bytes`);
});

test('while spans keep ending, only full batches are sent; the rest waits for the timer or flush()', async () => {
  // As OpenTelemetry's BatchSpanProcessor: a burst of 1,250 spans, with time for requests to
  // complete every 25 spans, goes as twelve requests of 100 while it runs, not as a full batch
  // followed by whatever has queued behind each request.
  init({ endpoint: col.url, format: 'json', logger, maxBatchSpans: 100, flushIntervalMs: 60_000 });
  col.requests.length = 0;
  for (let i = 0; i < 1250; i++) {
    startSpan({ name: `burst${i}` }).end();
    if (i % 25 === 24) await sleep(2);
  }
  for (let waited = 0; col.requests.length < 12 && waited < 5000; waited += 20) await sleep(20);
  await sleep(50); // time for a thirteenth request, were one sent
  const perRequest = (r) => r.json.resourceSpans[0].scopeSpans[0].spans.length;
  const during = col.requests.map(perRequest);
  assert.deepEqual(during, Array(12).fill(100), `spans per request during the burst: ${during.join(', ')}`);
  await flush();
  assert.deepEqual(col.requests.slice(12).map(perRequest), [50]);
  const names = col.spans().map((s) => s.name);
  assert.equal(names.length, 1250);
  assert.equal(new Set(names).size, 1250);
});

test('failed exports are retried (503, 429 with Retry-After) and then delivered', async () => {
  col.failNext(1, 503);
  col.failNext(1, 429, { 'retry-after': '0' });
  const before = getStats().retried;
  startSpan({ name: 'retried' }).end();
  await flush();
  assert.equal(getStats().retried - before, 2);
  assert.equal(col.spans().filter((s) => s.name === 'retried').length, 1);
});

test('a 4xx other than 429 is not retried and the drop is counted', async () => {
  col.failNext(1, 400);
  const before = getStats();
  startSpan({ name: 'refused' }).end();
  await flush();
  const after = getStats();
  assert.equal(after.retried, before.retried);
  assert.equal(after.dropped.exportFailed - before.dropped.exportFailed, 1);
});

test('traceparent headers carry the active span and continue its trace', async () => {
  let headers;
  await withSpan(async (s) => {
    headers = getTraceHeaders();
    assert.equal(headers.traceparent, `00-${s.traceId}-${s.spanId}-01`);
  }, { name: 'client' });
  const server = startSpan({ name: 'server', traceparent: headers.traceparent, parent: null });
  server.end();
  const spans = await exported();
  const c = spans.find((s) => s.name === 'client');
  const sv = spans.find((s) => s.name === 'server');
  assert.equal(sv.traceId, c.traceId);
  assert.equal(sv.parentSpanId, c.spanId);
});

test("a continued trace follows its caller's sampling, whatever this process's sampleRatio (parent-based, as OpenTelemetry's default)", async () => {
  // With its own ratio on top, a caller's kept traces lost their part here (an OpenTelemetry
  // caller at 0.5 and edgetrace at 0.5 kept half of the caller's traces whole).
  for (const sampleRatio of [0, 0.5]) {
    init({ endpoint: col.url, format: 'json', serviceName: 'node-test', logger, sampleRatio });
    col.requests.length = 0;
    const ids = [];
    for (let i = 1; i <= 40; i++) {
      const traceId = (BigInt(i) * 0x9e3779b97f4a7c15f39cc0605cedc835n % (1n << 128n)).toString(16).padStart(32, '0');
      ids.push(traceId);
      await withSpan(async (s) => {
        await null;
        assert.equal(s.isRecording, true, `ratio ${sampleRatio}: the caller sampled it`);
        assert.match(getTraceHeaders().traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      }, { name: 'continued', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, parent: null });
      // And one its caller did not sample stays unsampled.
      withSpan((s) => assert.equal(s.isRecording, false), { name: 'not sampled', traceparent: `00-${traceId}-00f067aa0ba902b7-00`, parent: null });
    }
    const spans = await exported();
    assert.deepEqual(spans.map((s) => s.traceId).sort(), ids.sort(), `ratio ${sampleRatio}: every sampled trace, once, none of the others`);
  }
});

test('trace() as a method decorator: legacy (target, key, descriptor) and standard (value, context)', async () => {
  class Agent {
    constructor(prefix) {
      this.prefix = prefix;
    }
    async answer(q) {
      return `${this.prefix}${q}`;
    }
    plan(q) {
      return [q];
    }
  }
  const legacy = trace({ spanType: SpanType.AGENT });
  const desc = Object.getOwnPropertyDescriptor(Agent.prototype, 'answer');
  Object.defineProperty(Agent.prototype, 'answer', legacy(Agent.prototype, 'answer', desc));
  const standard = trace({ spanType: SpanType.CHAIN });
  Agent.prototype.plan = standard(Agent.prototype.plan, { kind: 'method', name: 'plan' });
  const a = new Agent('A:');
  assert.equal(await a.answer('x'), 'A:x', 'this is kept');
  assert.deepEqual(a.plan('y'), ['y']);
  const spans = await exported();
  const ans = spans.find((s) => s.name === 'answer');
  assert.equal(ans.attributes['mlflow.spanType'], 'AGENT');
  assert.equal(ans.attributes['mlflow.spanInputs'], '{"q":"x"}');
  assert.equal(spans.find((s) => s.name === 'plan').attributes['mlflow.spanType'], 'CHAIN');
});

test("the tracer's own export requests are never traced, even with the global fetch instrumented", async () => {
  const restore = instrumentGlobalFetch({ traceAll: true });
  try {
    init({ endpoint: col.url, format: 'json', logger, flushIntervalMs: 0 });
    startSpan({ name: 'app-span' }).end();
    await flush();
    await flush();
    const names = col.spans().map((s) => s.name);
    assert.deepEqual(names, ['app-span'], 'no span for the export POST itself');
  } finally {
    restore();
  }
});

test('onSpanEnd sees each span as it ends, with its final type and trace, and its faults are only warned', async () => {
  const ended = [];
  init({ endpoint: col.url, format: 'json', logger, onSpanEnd: (s) => ended.push(s) });
  await trace(async function outer() {
    await withSpan(async (s) => s.setSpanType(SpanType.TOOL), { name: 'tool' });
  }, { spanType: SpanType.AGENT })();
  assert.deepEqual(ended.map((s) => [s.name, s.spanType]), [['tool', 'TOOL'], ['outer', 'AGENT']]);
  assert.equal(ended[0].traceId, ended[1].traceId);
  assert.equal(ended[1].mlflowTraceId, getLastActiveTraceId());
  const spans = await exported(ended[0].traceId);
  assert.deepEqual(spans.map((s) => s.spanId).sort(), ended.map((s) => s.spanId).sort());
  warnings.length = 0;
  init({ endpoint: col.url, format: 'json', logger, onSpanEnd: () => { throw new Error('panel broke'); } });
  assert.equal(trace(function fine() { return 1; })(), 1);
  assert.ok(warnings.some((w) => /onSpanEnd hook threw: panel broke/.test(w)));
});
