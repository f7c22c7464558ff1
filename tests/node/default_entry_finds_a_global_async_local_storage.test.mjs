// Server runtimes that resolve the package to its default (browser) entry and put
// AsyncLocalStorage on the global object (Vercel's Edge runtime, Next.js middleware) get exact
// async context from it: a span started in a timer callback its traced parent does not await
// nests under that parent. Without the global, as in a browser, it starts a trace of its own
// (README, "Async context": the span handle is needed there).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCollector } from './helpers/collector.mjs';

const fixture = fileURLToPath(new URL('./fixtures/default-entry-with-global-als.mjs', import.meta.url));
let col;
before(async () => {
  col = await startCollector();
});
after(() => col.close());

// Runs the fixture in a Node process of its own (the global must not reach other tests) and
// returns the spans it exported.
async function spansOf(mode) {
  col.requests.length = 0;
  await promisify(execFile)(process.execPath, [fixture, col.url, mode], { timeout: 60_000 });
  const spans = col.spans();
  const parent = spans.find((s) => s.name === 'parent');
  const inTimer = spans.find((s) => s.name === 'in-timer');
  assert.ok(parent && inTimer, `both spans exported: ${spans.map((s) => s.name).join(', ')}`);
  return { parent, inTimer };
}

test('with a global AsyncLocalStorage, a span in an unawaited timer callback nests under its parent', async () => {
  const { parent, inTimer } = await spansOf('global');
  assert.equal(inTimer.traceId, parent.traceId);
  assert.equal(inTimer.parentSpanId, parent.spanId);
});

test('without one, as in a browser, the same span starts a trace of its own', async () => {
  const { parent, inTimer } = await spansOf('none');
  assert.notEqual(inTimer.traceId, parent.traceId);
  assert.equal(inTimer.parentSpanId, undefined);
});
