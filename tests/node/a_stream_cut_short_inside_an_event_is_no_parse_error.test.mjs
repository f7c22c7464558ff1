// A streamed model answer the app cancels, or whose connection fails, stops wherever the reader or
// the network stopped it, as often as not inside an SSE event. The span says how it ended and
// holds what the events before it held; the unfinished event is no parse error, in every format
// (the SSE standard dispatches an event only at its blank line, and the official SDKs read none
// past the last one). A body the server ends on its last event without the blank line is read
// whole. Through the built package, against the local mock model server; spans go to a local
// collector as OTLP JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flush, init, traceFetch } from '../../pkg/node.js';
import { mockAndCollector } from './helpers/harness.mjs';

const servers = mockAndCollector(init);

const FORMATS = {
  'OpenAI chat': ['/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'cut me short' }] }],
  'OpenAI Responses': ['/v1/responses', { model: 'gpt-4o-mini', stream: true, input: 'cut me short' }],
  Anthropic: ['/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'cut me short' }] }],
  Gemini: ['/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse', { contents: [{ role: 'user', parts: [{ text: 'cut me short' }] }] }],
};

// A fetch whose response body arrives in pieces of `size` bytes, as a proxy or the network may
// split it (the mock writes one event a write); `trim` drops that many bytes from its end.
function rechunking(size, trim = 0) {
  return async (input, init) => {
    const res = await fetch(input, init);
    const whole = new Uint8Array(await res.arrayBuffer());
    const bytes = whole.subarray(0, whole.length - trim);
    let at = 0;
    const body = new ReadableStream({
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + size));
        at += size;
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

async function modelSpan() {
  await new Promise((r) => setTimeout(r, 20));
  await flush();
  const spans = servers.col.spans().filter((s) => s.attributes['mlflow.spanType'] === 'CHAT_MODEL');
  assert.equal(spans.length, 1);
  return spans[0];
}

const blankLines = (text) => (text.match(/\r\n\r\n|\n\n/g) || []).length;

for (const [name, [path, request]] of Object.entries(FORMATS)) {
  test(`${name}: a stream the app cancels inside an event ends as cancelled, without a parse error`, async () => {
    const f = traceFetch(rechunking(37));
    const res = await f(`${servers.mock.url}${path}`, { method: 'POST', body: JSON.stringify(request), headers: { 'x-mock-chunks': '20' } });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // Past the second event, and stopped inside the JSON of another.
    while (blankLines(text) < 2 || !/\ndata: \{[^\n]+$/.test(text)) {
      const r = await reader.read();
      assert.equal(r.done, false);
      text += decoder.decode(r.value, { stream: true });
    }
    await reader.cancel();
    const span = await modelSpan();
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'cancelled');
    assert.equal(span.attributes['edgetrace.llm.parse_errors'], undefined, `${span.attributes['edgetrace.llm.parse_errors']} after ${JSON.stringify(text)}`);
    assert.equal(span.attributes['edgetrace.llm.parse_error_count'], undefined);
    assert.notEqual(span.status?.code, 2, 'not an error');
  });

  test(`${name}: a stream whose connection fails inside an event ends as errored, without a parse error`, async () => {
    const f = traceFetch();
    const res = await f(`${servers.mock.url}${path}`, { method: 'POST', body: JSON.stringify(request), headers: { 'x-mock-truncate': 'reset' } });
    await assert.rejects(res.text());
    const span = await modelSpan();
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'errored');
    assert.equal(span.attributes['edgetrace.llm.parse_errors'], undefined, span.attributes['edgetrace.llm.parse_errors']);
  });

  test(`${name}: a body that ends on its last event without the blank line is read whole, as completed`, async () => {
    const whole = await (await traceFetch(rechunking(37))(`${servers.mock.url}${path}`, { method: 'POST', body: JSON.stringify(request) })).text();
    const reference = await modelSpan();
    servers.col.requests.length = 0;
    const eol = whole.endsWith('\r\n\r\n') ? 4 : 2;
    const cut = await (await traceFetch(rechunking(37, eol))(`${servers.mock.url}${path}`, { method: 'POST', body: JSON.stringify(request) })).text();
    assert.equal(cut, whole.slice(0, -eol));
    const span = await modelSpan();
    assert.equal(span.attributes['edgetrace.llm.stream_end'], 'completed');
    assert.equal(span.attributes['edgetrace.llm.parse_errors'], undefined);
    assert.equal(span.attributes['mlflow.spanOutputs'], reference.attributes['mlflow.spanOutputs']);
    assert.equal(span.attributes['mlflow.chat.tokenUsage'], reference.attributes['mlflow.chat.tokenUsage']);
  });
}
