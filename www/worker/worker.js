// The demo's Worker, called by the page inside a traced turn (with `traceparent`), so its spans
// join the page's trace:
//   GET  /retrieve?q=…            RETRIEVER: the best passages from a small corpus
//   GET  /tool/weather?city=…     TOOL: a (canned) weather report
//   POST /v1/chat/completions     proxies to MODEL_BASE_URL (the mock model server, or OpenAI
//                                 with OPENAI_API_KEY from .dev.vars: the page never holds a key)
//   GET  /healthz                 not traced
// Preflights are answered before tracing, so they make no traces of their own.
import { instrumentWorker, SpanType, trace } from 'edgetrace';

const CORPUS = [
  'edgetrace traces LLM apps in browsers, on Cloudflare Workers and in Node, and delivers the traces to MLflow.',
  'The edgetrace core is Rust compiled to WebAssembly: span stacks, batching, OTLP encoding, stream parsing, token usage and cost.',
  'Pages send traces to the ingest service, a Worker that checks keys, origins and limits and relays OTLP to MLflow.',
  'MLflow shows each trace as a tree of spans with types, inputs, outputs and token usage.',
  'traceFetch records calls to OpenAI, Anthropic and Gemini, including streamed answers, as CHAT_MODEL spans.',
  'A W3C traceparent header carries a trace from the page into a Worker, so both halves make one trace.',
];

const words = (s) => String(s).toLowerCase().match(/[a-z0-9]+/g) || [];

const searchDocs = trace(async function search_docs(query, k) {
  const q = new Set(words(query));
  return CORPUS.map((text, id) => ({ id, text, score: words(text).filter((w) => q.has(w)).length }))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}, { name: 'search_docs', spanType: SpanType.RETRIEVER });

const weather = trace(async function weather_service(city) {
  const forecasts = ['sunny', 'cloudy', 'light rain', 'windy'];
  const n = [...city].reduce((a, c) => a + c.charCodeAt(0), 0);
  return { city, forecast: forecasts[n % forecasts.length], tempC: 12 + (n % 15) };
}, { name: 'weather_service', spanType: SpanType.TOOL });

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, traceparent',
};
const json = (v, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json', ...CORS } });

const traced = instrumentWorker(
  {
    async fetch(request, env) {
      const url = new URL(request.url);
      if (url.pathname === '/retrieve') return json(await searchDocs(url.searchParams.get('q') || '', 2));
      if (url.pathname === '/tool/weather') return json(await weather(url.searchParams.get('city') || 'Paris'));
      if (url.pathname.startsWith('/v1/') && request.method === 'POST') {
        const headers = { 'content-type': 'application/json' };
        if (env.OPENAI_API_KEY) headers.authorization = `Bearer ${env.OPENAI_API_KEY}`;
        const upstream = await fetch(`${env.MODEL_BASE_URL.replace(/\/$/, '')}${url.pathname}`, { method: 'POST', headers, body: await request.text() });
        return new Response(upstream.body, {
          status: upstream.status,
          headers: { 'content-type': upstream.headers.get('content-type') || 'application/json', ...CORS },
        });
      }
      return json({ error: 'not found' }, 404);
    },
  },
  (env) => ({ endpoint: env.INGEST_URL, ingestKey: env.INGEST_KEY, experimentId: env.EXPERIMENT_ID, serviceName: 'edgetrace-demo-worker', flushIntervalMs: 200 }),
);

export default {
  fetch(request, env, ctx) {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
    if (new URL(request.url).pathname === '/healthz') return json({ ok: true });
    return traced.fetch(request, env, ctx);
  },
};
