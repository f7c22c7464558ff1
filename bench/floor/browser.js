// The floor in a browser: a stand-in for edgetrace's package (its `init`, `withSpan`, `flush` and
// `getStats`) that records nothing and does only what any tracer of this API must where there is
// no AsyncLocalStorage: make a span object, find the active span (the callback's parent), keep the
// new one active while its callback runs synchronously, and end a span when its callback's promise
// settles (a `.then`). It keeps no parent across `await` (that needs AsyncContext, Zone.js, or
// edgetrace's capture of V8's async stack, whose floor bench/runtimes.mjs measures on its own).
// bench/runtimes.mjs --bounds bundles it in place of the package for a page of its own (the floor
// stand-in of bench/RESULTS.md), as bench/node-spans.mjs --bounds times bench/floor/node.js.
import { Span, settled } from './common.js';

export { flush, init } from './common.js';

let active = null;

export function getStats() {
  return { started: 0 };
}

export function withSpan(callback, options) {
  const span = new Span(options?.parent ?? active);
  const before = active;
  active = span;
  let result;
  try {
    result = callback(span);
  } finally {
    active = before;
  }
  return settled(result);
}
