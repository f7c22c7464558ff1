// init() in Node (and Workers: the same check, exporter.js checkTransport) throws for an option of
// the wrong kind, where it used to take it and then fail every export (an export timeout of -1, a
// fetch that is not a function) or ignore it (enabled: 'false' from an environment variable kept
// tracing on). And init() again with the options it already has (a Worker that calls it in each
// request) changes nothing: its counters go on, and open spans are no reason for a warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getStats, init, startSpan, withSpan } from '../../pkg/node.js';

test('an option of the wrong kind throws at init, naming it and the value, and leaves the tracer as it was', () => {
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m) };
  init({ endpoint: 'http://127.0.0.1:9', logger });
  const bad = [
    [{ exportTimeoutMs: -1 }, 'exportTimeoutMs must be a number, 0 or more, not -1'],
    [{ flushIntervalMs: Number.NaN }, 'flushIntervalMs must be a number, 0 or more, not NaN'],
    [{ maxRetries: -1 }, 'maxRetries must be a number, 0 or more, not -1'],
    [{ maxBackoffMs: '30s' }, "maxBackoffMs must be a number, 0 or more, not '30s'"],
    [{ initialBackoffMs: Infinity }, 'initialBackoffMs must be a number, 0 or more, not Infinity'],
    [{ maxValueBytes: 'big' }, "maxValueBytes must be a number, 64 or more, not 'big'"],
    [{ maxValueBytes: 10 }, 'maxValueBytes must be a number, 64 or more, not 10'],
    [{ maxConcurrentExports: null }, 'maxConcurrentExports must be a number, 0 or more, not null'],
    [{ enabled: 'false' }, "enabled must be true or false, not 'false'"],
    [{ flushOnPageHide: 1 }, 'flushOnPageHide must be true or false, not 1'],
    [{ fetch: 5 }, 'fetch must be a function, not 5'],
    [{ redact: 'secret' }, "redact must be a function, not 'secret'"],
    [{ onSpanEnd: {} }, 'onSpanEnd must be a function, not [object Object]'],
    [{ maxQueueSpans: Symbol('n') }, 'maxQueueSpans must be a number, 0 or more, not a symbol'],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => init({ endpoint: 'http://127.0.0.1:9', logger, ...options }), { message: `edgetrace: invalid configuration: ${message}` }, message);
  }
  // The tracer is as it was: spans are still recorded, nothing was warned.
  const before = getStats().started;
  assert.equal(withSpan(() => 3, { name: 'after-bad-options' }), 3);
  assert.equal(getStats().started, before + 1);
  assert.deepEqual(warnings, []);
  // Good values of each kind pass: 0 where a number is asked, hooks given or left out.
  init({ endpoint: 'http://127.0.0.1:9', logger, exportTimeoutMs: 0, maxRetries: 0, flushIntervalMs: 5, enabled: true, fetch: async () => new Response(null), redact: null, onSpanEnd: undefined });
  init({ enabled: false });
});

test('init() again with the same options keeps its counters and open spans, without a warning', async () => {
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m) };
  const options = () => ({ endpoint: 'http://127.0.0.1:9', headers: { authorization: 'Bearer x' }, prices: { mine: { input: 1, output: 2 } }, logger, flushIntervalMs: 60_000 });
  init(options());
  const open = startSpan({ name: 'open-across-inits' });
  withSpan(() => 1, { name: 'done-before' });
  const started = getStats().started;
  assert.equal(started >= 2, true);
  // Equal options in new objects (as a Worker's handler builds them from env on each request).
  for (let i = 0; i < 3; i++) init(options());
  assert.equal(getStats().started, started, 'the counters went on');
  assert.equal(getStats().open, 1);
  open.end();
  assert.equal(getStats().open, 0);
  assert.deepEqual(warnings, [], 'no "init() while spans are open" warning');
  // Different options are a new configuration, as before: with a span open, the earlier limits
  // stay until it ends, and that is warned.
  const open2 = startSpan({ name: 'open-at-change' });
  init({ ...options(), maxAttributes: 64 });
  assert.deepEqual(warnings, ['edgetrace: init() while spans are open keeps the earlier limits until they end']);
  open2.end();
  init({ enabled: false });
});
