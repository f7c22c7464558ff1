// The hot path records span operations into a buffer in wasm memory (pkg-templates/recorder.js)
// that the core applies later, in order. These tests push that buffer where it breaks most
// easily: it fills in the middle of a span, wasm memory grows (and moves) while operations wait
// in it, values are too big to record or not ASCII, names and keys too long to intern, thousands
// of distinct keys, and reads (ids, traceparent) that must see what was recorded before them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, getStats, init, startSpan, updateCurrentTrace, withSpan } from '../../pkg/node.js';
import { startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
});
after(async () => {
  await col?.close();
});

const fresh = (extra = {}) => {
  col.requests.length = 0;
  const warnings = [];
  init({
    endpoint: col.url, format: 'json', serviceName: 'recorder', maxQueueSpans: 100_000, maxQueueBytes: 1 << 28,
    maxValueBytes: 1 << 20, maxAttributes: 5000, logger: { warn: (m) => warnings.push(m) }, ...extra,
  });
  return warnings;
};

test('a span whose attributes overflow the buffer several times arrives whole, in order, with the values set last', async () => {
  const warnings = fresh();
  const big = 'x'.repeat(3000);
  const expected = {};
  withSpan((s) => {
    for (let i = 0; i < 200; i++) {
      s.setAttribute(`k${i}`, `${i}:${big}`); // 200 × 3 KB: the 128 KB buffer fills about 4 times
      expected[`k${i}`] = `${i}:${big}`;
    }
    for (let i = 0; i < 200; i += 7) {
      s.setAttribute(`k${i}`, i); // replaces the string: the later operation wins
      expected[`k${i}`] = i;
    }
  }, { name: 'overflow' });
  await flush();
  const [span] = col.spans().filter((x) => x.name === 'overflow');
  assert.ok(span, 'the span arrived');
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(span.attributes[k], v, k);
  assert.deepEqual(warnings, []);
});

test('wasm memory growing while operations wait in the buffer loses none of them', async () => {
  const warnings = fresh();
  const huge = 'y'.repeat(600_000); // bigger than the buffer: applied as a command of its own, which grows wasm memory
  const names = [];
  for (let t = 0; t < 20; t++) {
    withSpan((s) => {
      s.setAttributes({ before: `b${t}`, n: t, ok: t % 2 === 0 });
      s.setInputs({ huge: t === 3 ? huge : 'small', t }); // a huge input in the middle
      s.setOutputs(t === 11 ? huge : `out${t}`);
      s.setAttribute('after', `a${t}`);
    }, { name: `grow-${t}` });
    names.push(`grow-${t}`);
  }
  await flush();
  const spans = col.spans();
  for (let t = 0; t < 20; t++) {
    const s = spans.find((x) => x.name === `grow-${t}`);
    assert.ok(s, `grow-${t} arrived`);
    assert.equal(s.attributes.before, `b${t}`);
    assert.equal(s.attributes.n, t);
    assert.equal(s.attributes.ok, t % 2 === 0);
    assert.equal(s.attributes.after, `a${t}`);
    assert.deepEqual(JSON.parse(s.attributes['mlflow.spanInputs']), { huge: t === 3 ? huge : 'small', t });
    assert.equal(JSON.parse(s.attributes['mlflow.spanOutputs']), t === 11 ? huge : `out${t}`);
  }
  assert.deepEqual(warnings, []);
});

test('text that is not ASCII, and names and keys too long to intern, arrive as given', async () => {
  const warnings = fresh();
  const longName = `n${'é'.repeat(300)}`;
  const longKey = `key.${'k'.repeat(500)}`;
  const values = {
    latin: 'grüße, çà',
    cjk: '漢字かな交じり文',
    emoji: 'tracing 🚀🧪 done',
    mixed: `${'a'.repeat(70)}ü${'b'.repeat(70)}`, // longer than the ASCII fast path
    lone: 'bad \ud800 surrogate',
    empty: '',
    [longKey]: 'long key',
    '': 'empty key',
  };
  withSpan((s) => s.setAttributes(values), { name: longName, spanType: 'CUSTOM_TYPE_✓' });
  withSpan(() => {}, { name: '' });
  await flush();
  const spans = col.spans();
  const s = spans.find((x) => x.name === longName);
  assert.ok(s, 'the span with the long name arrived');
  assert.equal(s.attributes['mlflow.spanType'], 'CUSTOM_TYPE_✓');
  for (const [k, v] of Object.entries(values)) {
    assert.equal(s.attributes[k], k === 'lone' ? 'bad \ufffd surrogate' : v, k || '(empty key)');
  }
  assert.ok(spans.some((x) => x.name === ''), 'a span with an empty name arrived');
  assert.deepEqual(warnings, []);
});

test('70,000 distinct keys: every one arrives, also past the 65,000 that are interned', async () => {
  const warnings = fresh();
  const SPANS = 35;
  const KEYS = 2000;
  for (let t = 0; t < SPANS; t++) {
    withSpan((s) => {
      for (let i = 0; i < KEYS; i++) s.setAttribute(`span${t}.key${i}`, i);
    }, { name: `keys-${t}` });
  }
  // The first span's keys again (interned ones) with new values.
  withSpan((s) => {
    for (let i = 0; i < KEYS; i++) s.setAttribute(`span0.key${i}`, i + 0.5);
  }, { name: 'keys-again' });
  await flush();
  const spans = col.spans();
  for (let t = 0; t < SPANS; t++) {
    const s = spans.find((x) => x.name === `keys-${t}`);
    assert.ok(s, `keys-${t} arrived`);
    for (let i = 0; i < KEYS; i++) assert.equal(s.attributes[`span${t}.key${i}`], i, `span${t}.key${i}`);
  }
  const again = spans.find((x) => x.name === 'keys-again');
  for (let i = 0; i < KEYS; i++) assert.equal(again.attributes[`span0.key${i}`], i + 0.5);
  assert.deepEqual(warnings, []);
});

test('ids, traceparent and stats read while operations wait in the buffer match what is exported', async () => {
  fresh();
  const seen = [];
  await withSpan(async (root) => {
    const tp = root.traceparent();
    seen.push({ name: 'root', traceId: root.traceId, spanId: root.spanId, tp });
    await withSpan(async (child) => {
      await null;
      seen.push({ name: 'child', traceId: child.traceId, spanId: child.spanId, tp: child.traceparent() });
    }, { name: 'child' });
  }, { name: 'root' });
  const s = startSpan({ name: 'manual' });
  seen.push({ name: 'manual', traceId: s.traceId, spanId: s.spanId, tp: s.traceparent() });
  assert.equal(getStats().open, 1, 'the stats see the recorded starts and ends');
  s.end();
  await flush();
  const spans = col.spans();
  for (const x of seen) {
    const got = spans.find((y) => y.name === x.name);
    assert.ok(got, x.name);
    assert.equal(got.traceId, x.traceId);
    assert.equal(got.spanId, x.spanId);
    assert.match(x.traceId, /^[0-9a-f]{32}$/);
    assert.match(x.spanId, /^[0-9a-f]{16}$/);
    assert.equal(x.tp, `00-${x.traceId}-${x.spanId}-01`);
  }
  assert.equal(spans.find((y) => y.name === 'child').parentSpanId, seen[0].spanId);
  assert.notEqual(seen[2].traceId, seen[0].traceId, 'a new root has a new trace id');
});

test('a remote parent and a name too long to intern are recorded starts too: ids known at once, as exported', async () => {
  const warnings = fresh();
  const parentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const server = startSpan({ name: 'server', traceparent: ` 00-${parentTrace}-00f067aa0ba902b7-01 `, parent: null });
  assert.equal(server.traceId, parentTrace, 'the remote trace id, before anything reached the core');
  const longName = `handler-${'x'.repeat(5000)}`;
  const inner = startSpan({ name: longName, spanType: 'TOOL', parent: server });
  assert.equal(inner.traceId, parentTrace);
  // A name bigger than the recorder's whole buffer: its start goes as bytes of its own, in order.
  const huge = startSpan({ name: `huge-${'h'.repeat(60_000)}`, parent: inner });
  huge.setAttribute('after', 'start');
  huge.end();
  const unsampled = startSpan({ name: 'unsampled', traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`, parent: null });
  unsampled.end();
  const tp = inner.traceparent();
  inner.end();
  server.end();
  assert.deepEqual(warnings, []);
  const bad = ['', 'garbage', `ff-${parentTrace}-00f067aa0ba902b7-01`, `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-${parentTrace.toUpperCase()}-00f067aa0ba902b7-01`, `00-${parentTrace}-00f067aa0ba902b7-01-extra`];
  const roots = bad.slice(1).map((h, i) => {
    const s = startSpan({ name: `bad-${i}`, traceparent: h, parent: null });
    s.end();
    return s;
  });
  assert.deepEqual(warnings, ['edgetrace: an invalid traceparent was ignored; a new trace is started'], 'warned once');
  await flush();
  const spans = col.spans();
  const get = (n) => spans.find((x) => x.name === n);
  assert.equal(get('server').traceId, parentTrace);
  assert.equal(get('server').parentSpanId, '00f067aa0ba902b7');
  assert.equal(get('server').spanId, server.spanId);
  const long = spans.find((x) => x.name.startsWith('handler-'));
  assert.ok(long, 'the long-named span arrived');
  assert.ok(long.name.length <= 1024 && long.name.startsWith(`handler-${'x'.repeat(900)}`), 'its name cut at maxNameBytes');
  assert.equal(long.attributes['mlflow.spanType'], 'TOOL');
  assert.equal(long.parentSpanId, server.spanId);
  assert.equal(long.spanId, inner.spanId);
  assert.equal(tp, `00-${parentTrace}-${inner.spanId}-01`);
  const h = spans.find((x) => x.name.startsWith('huge-'));
  assert.ok(h, 'the span whose start did not fit the buffer arrived');
  assert.equal(h.parentSpanId, inner.spanId);
  assert.equal(h.spanId, huge.spanId);
  assert.equal(h.attributes.after, 'start', 'what was recorded after it applied after it');
  assert.equal(get('unsampled'), undefined, 'not sampled upstream: not exported');
  roots.forEach((r, i) => {
    const got = get(`bad-${i}`);
    assert.ok(got, `bad-${i} arrived as a new trace`);
    assert.equal(got.traceId, r.traceId);
    assert.notEqual(got.traceId, parentTrace);
    assert.equal(got.parentSpanId, undefined);
  });
});

test("a span's traceparent says sampled exactly for the traces the core keeps", async () => {
  fresh({ sampleRatio: 0.5 });
  const flags = new Map();
  for (let i = 0; i < 400; i++) {
    const s = startSpan({ name: `sampled-${i}` });
    const child = startSpan({ name: `sampled-${i}-child`, parent: s });
    const tp = child.traceparent();
    assert.equal(tp.slice(0, 52), `00-${s.traceId}-${child.spanId}`);
    assert.equal(s.traceparent().slice(-2), tp.slice(-2), 'a trace is sampled as a whole');
    assert.equal(child.isRecording, tp.endsWith('01'), 'isRecording is false exactly for spans sampled out');
    assert.equal(s.isRecording, tp.endsWith('01'));
    flags.set(s.traceId, tp.slice(-2));
    child.end();
    s.end();
  }
  // A trace id the ratio keeps (its low 64 bits are 1): only the remote parent's flag decides.
  const keptId = `${'c'.repeat(16)}${'0'.repeat(15)}1`;
  const unsampled = startSpan({ name: 'remote-unsampled', traceparent: `00-${keptId}-${'d'.repeat(16)}-00`, parent: null });
  assert.equal(unsampled.traceparent().slice(-2), '00', 'a remote parent not sampled');
  assert.equal(unsampled.isRecording, false);
  unsampled.end();
  const remoteSampled = startSpan({ name: 'remote-sampled', traceparent: `00-${keptId}-${'e'.repeat(16)}-01`, parent: null });
  assert.equal(remoteSampled.traceparent().slice(-2), '01', 'a remote parent sampled, and a trace id the ratio keeps');
  flags.set(keptId, '01');
  remoteSampled.end();
  await flush();
  const exported = new Set(col.spans().map((x) => x.traceId));
  const kept = [...flags].filter(([, f]) => f === '01').map(([t]) => t);
  assert.ok(kept.length > 120 && kept.length < 280, `about half kept: ${kept.length}`);
  assert.deepEqual([...exported].sort(), kept.sort(), 'exported exactly the traces whose traceparent says sampled');
  fresh({ sampleRatio: 0 });
  const none = startSpan({ name: 'ratio-0' });
  assert.equal(none.traceparent().slice(-2), '00');
  assert.equal(none.isRecording, false);
  none.end();
});

test('timestamps come from one sub-millisecond clock: children inside parents, recorded or not', async () => {
  fresh();
  withSpan((root) => {
    const a = startSpan({ name: 't-a' });
    a.end();
    // A start with a given time is recorded like any other, stamped with that time.
    const b = startSpan({ name: 't-b', startTimeMs: performance.timeOrigin + performance.now() });
    b.end();
    root.setAttribute('x', 1);
  }, { name: 't-root' });
  await flush();
  const spans = col.spans();
  const get = (n) => spans.find((s) => s.name === n);
  const ns = (s, k) => BigInt(s[k]);
  const root = get('t-root');
  for (const n of ['t-a', 't-b']) {
    const c = get(n);
    assert.equal(c.parentSpanId, root.spanId, n);
    assert.ok(ns(c, 'startTimeUnixNano') >= ns(root, 'startTimeUnixNano'), `${n} starts inside its parent`);
    assert.ok(ns(c, 'endTimeUnixNano') <= ns(root, 'endTimeUnixNano'), `${n} ends inside its parent`);
  }
  const wall = BigInt(Date.now()) * 1_000_000n;
  const drift = wall - ns(root, 'endTimeUnixNano');
  assert.ok(drift >= -2_000_000_000n && drift < 60_000_000_000n, `timestamps are wall-clock time (off by ${drift} ns)`);
  const spread = new Set(spans.map((s) => s.startTimeUnixNano.slice(-6)));
  assert.ok(spread.size > 1, 'timestamps have sub-millisecond digits');
});

test('attributes the buffer does not take (keys too long to intern, objects) keep their OTLP types', async () => {
  const warnings = fresh();
  const k = (n) => `${'long.'.repeat(50)}${n}`; // 250+ characters: not interned
  withSpan((s) => {
    s.setAttributes({
      [k('int')]: 42, [k('neg')]: -7, [k('zero')]: -0, [k('big')]: 2 ** 53 - 1, [k('past')]: 2 ** 53,
      [k('double')]: 2.5, [k('inf')]: Infinity, [k('nan')]: NaN, [k('yes')]: true, [k('no')]: false,
      [k('text')]: 'grüße 🚀', [k('obj')]: { a: [1, 'x'], b: null },
    });
    s.setAttribute('short.obj', [1, { c: 'd' }]);
    s.setAttribute('short.int', 9); // interned: the buffer's NUM command, for comparison
  }, { name: 'inline-attrs' });
  await flush();
  const span = col.requests.flatMap((r) => r.json?.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans)
    .flatMap((ss) => ss.spans).find((x) => x.name === 'inline-attrs');
  assert.ok(span, 'the span arrived');
  const raw = Object.fromEntries(span.attributes.map((kv) => [kv.key, kv.value]));
  assert.deepEqual(raw[k('int')], { intValue: '42' });
  assert.deepEqual(raw[k('neg')], { intValue: '-7' });
  assert.deepEqual(raw[k('zero')], { intValue: '0' });
  assert.deepEqual(raw[k('big')], { intValue: String(2 ** 53 - 1) });
  assert.deepEqual(raw[k('past')], { doubleValue: 2 ** 53 });
  assert.deepEqual(raw[k('double')], { doubleValue: 2.5 });
  assert.deepEqual(raw[k('inf')], { doubleValue: 'Infinity' });
  assert.deepEqual(raw[k('nan')], { doubleValue: 'NaN' });
  assert.deepEqual(raw[k('yes')], { boolValue: true });
  assert.deepEqual(raw[k('no')], { boolValue: false });
  assert.deepEqual(raw[k('text')], { stringValue: 'grüße 🚀' });
  assert.deepEqual(raw[k('obj')], { stringValue: '{"a":[1,"x"],"b":null}' });
  assert.deepEqual(raw['short.obj'], { stringValue: '[1,{"c":"d"}]' });
  assert.deepEqual(raw['short.int'], { intValue: '9' });
  assert.deepEqual(warnings, []);
});

test('event attributes keep their types, and every field of a trace update arrives', async () => {
  const warnings = fresh();
  withSpan((s) => {
    s.addEvent('typed', { text: 'héllo', int: 42, neg: -7, float: 2.5, yes: true, no: false, obj: { a: [1, 'x'] }, list: [1, 2], nil: null, '': 'empty key' });
    s.addEvent('bare');
    s.addEvent('not-an-object', 'a string');
    // mlflow-tracing's form: one event object, such as its SpanEvent (whose timestamp is not read).
    s.addEvent({ name: 'as-object', attributes: { k: 'v', n: 1 } });
    s.addEvent({ name: 'object-bare' });
    class SpanEvent {
      constructor({ name, attributes = {}, timestamp = 1n }) {
        Object.assign(this, { name, attributes, timestamp });
      }
    }
    s.addEvent(new SpanEvent({ name: 'span-event', attributes: { ok: true } }));
    // An object that names no event (the types refuse it, plain JS does not): an 'event', not '[object Object]'.
    s.addEvent({ attributes: { unnamed: 1 } });
    updateCurrentTrace({
      tags: { env: 'prod', n: 3 }, metadata: { 'mlflow.source': 'ci' }, sessionId: 'sess', userId: 7,
      clientRequestId: 'req-1', requestPreview: 'what?', responsePreview: 'that.',
    });
    updateCurrentTrace({ tags: { env: 'staging' } }); // a later tag replaces an earlier one
  }, { name: 'typed-events' });
  await flush();
  const span = col.requests.flatMap((r) => r.json?.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans)
    .flatMap((ss) => ss.spans).find((x) => x.name === 'typed-events');
  assert.ok(span, 'the span arrived');
  const ev = Object.fromEntries(span.events.map((e) => [e.name, Object.fromEntries((e.attributes ?? []).map((a) => [a.key, a.value]))]));
  assert.deepEqual(ev.typed, {
    text: { stringValue: 'héllo' }, int: { intValue: '42' }, neg: { intValue: '-7' }, float: { doubleValue: 2.5 },
    yes: { boolValue: true }, no: { boolValue: false }, obj: { stringValue: '{"a":[1,"x"]}' }, list: { stringValue: '[1,2]' },
    nil: { stringValue: 'null' }, '': { stringValue: 'empty key' },
  });
  assert.deepEqual(ev.bare, {});
  assert.deepEqual(ev['not-an-object'], {}, 'the event is kept without attributes');
  assert.deepEqual(ev['as-object'], { k: { stringValue: 'v' }, n: { intValue: '1' } });
  assert.deepEqual(ev['object-bare'], {});
  assert.deepEqual(ev['span-event'], { ok: { boolValue: true } });
  assert.deepEqual(ev.event, { unnamed: { intValue: '1' } });
  assert.equal(span.events.length, 7, span.events.map((e) => e.name).join(', '));
  assert.deepEqual(warnings, [
    'edgetrace: event attributes that are not an object are ignored',
    "edgetrace: MLflow (3.17) takes no trace metadata, clientRequestId or previews over OTLP: updateCurrentTrace keeps them as attributes of the trace's root span (mlflow.traceMetadata.*, mlflow.clientRequestId, mlflow.requestPreview, mlflow.responsePreview); tags, sessionId and userId do reach the trace",
  ]);
  const a = Object.fromEntries(span.attributes.map((kv) => [kv.key, kv.value.stringValue]));
  assert.equal(a['mlflow.traceTag.env'], 'staging');
  assert.equal(a['mlflow.traceTag.n'], '3');
  assert.equal(a['mlflow.traceMetadata.mlflow.source'], 'ci');
  assert.equal(a['session.id'], 'sess');
  assert.equal(a['user.id'], '7');
  assert.equal(a['mlflow.clientRequestId'], 'req-1');
  assert.equal(a['mlflow.requestPreview'], 'what?');
  assert.equal(a['mlflow.responsePreview'], 'that.');
});

test('a bad limit is refused by init with a message naming it, and tracing goes on with the earlier one', async () => {
  fresh();
  for (const [bad, word] of [[{ maxQueueSpans: 0 }, 'maxQueueSpans'], [{ maxExportBytes: 1.5 }, 'maxExportBytes'],
    [{ sampleRatio: 2 }, 'sampleRatio'], [{ sampleRatio: Number.NaN }, 'sampleRatio'], [{ maxValueBytes: 10 }, '64'],
    [{ serviceName: 42 }, 'serviceName'], [{ resourceAttributes: [1, 2] }, 'resourceAttributes'], [{ maxEvents: '5' }, 'maxEvents']]) {
    assert.throws(() => init({ endpoint: col.url, ...bad }), (e) => e.message.includes(word), JSON.stringify(bad));
  }
  const s = startSpan({ name: 'after-bad-init' });
  assert.ok(s.isRecording, 'tracing is still on');
  s.end();
  await flush();
  col.requests.length = 0;
  init({ endpoint: col.url, format: 'json', serviceName: 'svc-x', resourceAttributes: { 'deployment.environment': 'test', 'host.count': 2, tags: { a: 1 } }, maxEvents: 1 });
  withSpan((s) => s.addEvent('one').addEvent('two'), { name: 'configured' });
  await flush();
  const rs = col.requests.flatMap((r) => r.json?.resourceSpans ?? []);
  const res = Object.fromEntries(rs[0].resource.attributes.map((a) => [a.key, a.value]));
  assert.deepEqual(res['service.name'], { stringValue: 'svc-x' });
  assert.deepEqual(res['deployment.environment'], { stringValue: 'test' });
  assert.deepEqual(res['host.count'], { intValue: '2' });
  assert.deepEqual(res.tags, { stringValue: '{"a":1}' });
  const span = rs.flatMap((r) => r.scopeSpans).flatMap((ss) => ss.spans).find((x) => x.name === 'configured');
  assert.equal(span.events.length, 1, 'maxEvents applied');
});

test('status, type, events, exceptions and trace updates are recorded in order, in the buffer or on their own', async () => {
  const warnings = fresh();
  const big = 'z'.repeat(200_000); // bigger than the 128 KB buffer
  withSpan((s) => {
    s.setSpanType('TOOL');
    s.addEvent('first', { n: 1 });
    s.setStatus('ERROR', 'small message');
    s.addEvent('big', { text: big }); // on its own, after the buffer's commands
    s.setStatus('OK', big);
    s.recordException(new TypeError('boom'));
    s.setSpanType('RETRIEVER'); // the last type wins
    updateCurrentTrace({ tags: { env: 'test' }, sessionId: 's-1' });
    updateCurrentTrace({ tags: { big } });
  }, { name: 'texts' });
  await flush();
  const span = col.requests.flatMap((r) => r.json?.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans)
    .flatMap((ss) => ss.spans).find((x) => x.name === 'texts');
  assert.ok(span, 'the span arrived');
  const attrs = Object.fromEntries(span.attributes.map((kv) => [kv.key, kv.value.stringValue]));
  assert.equal(attrs['mlflow.spanType'], 'RETRIEVER');
  assert.equal(attrs['mlflow.traceTag.env'], 'test');
  assert.equal(attrs['session.id'], 's-1');
  assert.ok(attrs['mlflow.traceTag.big'].startsWith('zzz'), 'the big tag arrived (bounded by maxValueBytes)');
  assert.deepEqual(span.events.map((e) => e.name), ['first', 'big', 'exception']);
  assert.equal(span.events[1].attributes[0].value.stringValue.length, big.length);
  // The exception came last and set ERROR after the OK with the big message.
  assert.equal(span.status.code, 2);
  assert.deepEqual(warnings, []);
});
