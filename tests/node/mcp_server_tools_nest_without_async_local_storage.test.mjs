// traceMcpTool where there is no AsyncLocalStorage (browsers, a Worker without nodejs_compat: the
// package wired as tests/node/helpers/entry-without-als.mjs wires it): an async tool's own spans,
// started after its awaits, nest under the tool's span, as they do under withSpan's. And a
// `traceparent` in `_meta` that is not a valid one leaves the tool's span where it would be
// without one: under the active span.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flush, init, withSpan } from './helpers/entry-without-als.mjs';
import { traceMcpTool } from '../../pkg/mcp.js';
import { startCollector } from './helpers/collector.mjs';

let col;
before(async () => {
  col = await startCollector();
  init({ endpoint: col.url, format: 'json', logger: { warn() {} } });
});
after(async () => {
  await col?.close();
});

const extra = (meta) => ({ requestId: 7, signal: new AbortController().signal, _meta: meta });

test("an async tool's spans after its awaits nest under the tool's span", async () => {
  const tool = traceMcpTool('lookup', async ({ q }) => {
    await new Promise((r) => setTimeout(r, 5));
    const hit = await withSpan(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return `found ${q}`;
    }, { name: 'search step' });
    return { content: [{ type: 'text', text: hit }] };
  });
  const out = await tool({ q: 'x' }, extra(undefined));
  await flush();
  assert.equal(out.content[0].text, 'found x');
  const spans = col.spans();
  const t = spans.find((s) => s.name === 'lookup');
  const step = spans.find((s) => s.name === 'search step');
  assert.equal(step.parentSpanId, t.spanId);
  assert.equal(step.traceId, t.traceId);
});

test('a traceparent that is not valid leaves the span under the active span', async () => {
  col.requests.length = 0;
  const tool = traceMcpTool('ping', () => ({ content: [{ type: 'text', text: 'pong' }] }));
  for (const bad of ['garbage', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']) {
    await withSpan(() => tool({}, extra({ traceparent: bad })), { name: `request ${bad.slice(0, 8)}` });
  }
  await flush();
  const spans = col.spans();
  const pings = spans.filter((s) => s.name === 'ping');
  assert.equal(pings.length, 3);
  for (const p of pings) {
    const parent = spans.find((s) => s.spanId === p.parentSpanId);
    assert.match(parent?.name ?? '', /^request /);
  }
});
