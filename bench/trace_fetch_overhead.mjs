#!/usr/bin/env node
// Overhead of traceFetch versus plain fetch, in one run, alternating the two:
//   - per call: a small non-streamed chat completion;
//   - per chunk: a 1,000-chunk SSE stream from a local server, read to the end.
// Prints medians, spreads and ratios, and writes bench/out/trace_fetch_overhead.json.
//   node bench/trace_fetch_overhead.mjs [rounds=15]
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { flush, init, traceFetch } from '../pkg/node.js';

const ROUNDS = Number(process.argv[2] || 15);
const CHUNKS = 1000;

// Pre-rendered responses, so the server's own cost is the same for both sides.
const sse = [];
sse.push(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`);
for (let i = 0; i < CHUNKS; i++) {
  sse.push(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }] })}\n\n`);
}
sse.push(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: CHUNKS + 5 } })}\n\n`, 'data: [DONE]\n\n');
const small = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    if (req.url.includes('stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One write per event, yielding between them, so the client sees ~1,000 network chunks.
      for (const e of sse) {
        if (!res.write(e)) await new Promise((r) => res.once('drain', r));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(small);
    }
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
await new Promise((r) => sink.listen(0, '127.0.0.1', r));

init({ endpoint: `http://127.0.0.1:${sink.address().port}`, flushIntervalMs: 0, maxQueueSpans: 100000 });
const plain = (u, i) => fetch(u, i);
const traced = traceFetch();
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const sbody = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });

async function oneCall(f) {
  const r = await f(`${base}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await r.json();
}
async function oneStream(f) {
  const r = await f(`${base}/stream/v1/chat/completions`, { method: 'POST', body: sbody });
  const reader = r.body.getReader();
  let chunks = 0;
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
    chunks++;
  }
  return chunks;
}

async function timeIt(fn, n) {
  const t0 = performance.now();
  let chunks = 0;
  for (let i = 0; i < n; i++) chunks += (await fn()) || 0;
  return { ms: (performance.now() - t0) / n, chunks: chunks / n };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const spread = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return [s[Math.floor(s.length * 0.1)], s[Math.floor(s.length * 0.9)]];
};

// Warm up both.
for (let i = 0; i < 20; i++) {
  await oneCall(plain);
  await oneCall(traced);
}
await oneStream(plain);
await oneStream(traced);
await flush();

const res = { callPlain: [], callTraced: [], streamPlain: [], streamTraced: [], chunksSeen: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [['Traced', traced], ['Plain', plain]] : [['Plain', plain], ['Traced', traced]];
  for (const [name, f] of order) {
    res[`call${name}`].push((await timeIt(() => oneCall(f), 50)).ms);
    const s = await timeIt(() => oneStream(f), 3);
    res[`stream${name}`].push(s.ms);
    res.chunksSeen = s.chunks;
  }
  await flush();
  process.stderr.write(`[bench] round ${round + 1}/${ROUNDS}\n`);
}

const m = Object.fromEntries(['callPlain', 'callTraced', 'streamPlain', 'streamTraced'].map((k) => [k, median(res[k])]));
const out = {
  command: `node bench/trace_fetch_overhead.mjs ${ROUNDS}`,
  node: process.version,
  rounds: ROUNDS,
  chunksPerStream: res.chunksSeen,
  perCall: { plainMs: m.callPlain, tracedMs: m.callTraced, ratio: m.callTraced / m.callPlain, overheadUs: (m.callTraced - m.callPlain) * 1000, plainP10P90: spread(res.callPlain), tracedP10P90: spread(res.callTraced) },
  perStream: { plainMs: m.streamPlain, tracedMs: m.streamTraced, ratio: m.streamTraced / m.streamPlain, plainP10P90: spread(res.streamPlain), tracedP10P90: spread(res.streamTraced) },
  perChunkOverheadUs: ((m.streamTraced - m.streamPlain) * 1000) / res.chunksSeen,
  perEventOverheadUs: ((m.streamTraced - m.streamPlain) * 1000) / (CHUNKS + 3),
};
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/trace_fetch_overhead.json', import.meta.url), JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));
server.close();
sink.close();
