// The floor: a stand-in for edgetrace's package (its `init`, `withSpan` and `flush`) that records
// nothing and does only what any tracer of this API must: make the span active for the callback
// with AsyncLocalStorage, find the active one, and end a span when its callback's promise settles
// (a `.then`). Given to bench/instructions.mjs or bench/garbage.mjs beside pkg/, it shows how much
// of a scenario's instructions and garbage is the scenario's own shape and how much is edgetrace:
//   node bench/instructions.mjs bench/floor pkg --timed-only --scenario nestedAsync
// bench/node-spans.mjs --bounds times it as a library of its own, beside edgetrace and
// OpenTelemetry (the floor stand-in of bench/RESULTS.md).
import { AsyncLocalStorage } from 'node:async_hooks';
import { Span, settled } from './common.js';

export { flush, init } from './common.js';

const als = new AsyncLocalStorage();

export function withSpan(callback) {
  const span = new Span(als.getStore());
  return settled(als.run(span, callback, span));
}
