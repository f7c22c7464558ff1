// A local OTLP/HTTP collector for tests: records every POST /v1/traces, answers with CORS headers
// so pages may post to it, and can be told to fail the next requests (status, Retry-After, hang).
import { createServer } from 'node:http';

/**
 * @returns {Promise<{url: string, requests: any[], spans: () => any[], failNext: (n: number, status: number, headers?: object) => void, hangNext: (n: number) => void, delayPreflights: (ms: number) => void, clearPlan: () => void, close: () => Promise<void>}>}
 */
export async function startCollector() {
  const requests = [];
  const plan = [];
  const preflightDelay = { ms: 0 };
  const server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin || '*',
      'access-control-allow-headers': 'content-type, x-mlflow-experiment-id, x-edgetrace-key, traceparent',
      'access-control-allow-methods': 'POST, OPTIONS',
    };
    if (req.method === 'OPTIONS') {
      setTimeout(() => res.writeHead(204, cors).end(), preflightDelay.ms);
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const step = plan.shift();
      if (step?.hang) return; // never answer
      if (step) {
        requests.push({ headers: req.headers, body, status: step.status, refused: true });
        res.writeHead(step.status, { ...cors, ...(step.headers || {}) }).end('{"error":"planned failure"}');
        return;
      }
      let json = null;
      if ((req.headers['content-type'] || '').startsWith('application/json')) json = JSON.parse(body.toString('utf8'));
      requests.push({ headers: req.headers, body, json, status: 200, at: Date.now() });
      res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    /** Spans of every accepted JSON request, flattened, ids in hex, attributes as plain values. */
    spans() {
      const out = [];
      for (const r of requests) {
        if (!r.json) continue;
        for (const rs of r.json.resourceSpans || []) {
          for (const ss of rs.scopeSpans || []) {
            for (const s of ss.spans || []) {
              const attributes = {};
              for (const kv of s.attributes || []) attributes[kv.key] = plain(kv.value);
              out.push({ ...s, attributes, resource: rs.resource });
            }
          }
        }
      }
      return out;
    },
    failNext(n, status, headers) {
      for (let i = 0; i < n; i++) plan.push({ status, headers });
    },
    hangNext(n) {
      for (let i = 0; i < n; i++) plan.push({ hang: true });
    },
    /** Answers CORS preflights (OPTIONS) after `ms`, so a page's POST is still to come meanwhile. */
    delayPreflights(ms) {
      preflightDelay.ms = ms;
    },
    /** Forgets planned failures: answer normally from now on. */
    clearPlan() {
      plan.length = 0;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function plain(v) {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(plain);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue.values || []).map((kv) => [kv.key, plain(kv.value)]));
  return undefined;
}

/** Spans grouped as trees: Map traceId → {root, children(spanId) → spans}. */
export function byTrace(spans) {
  const m = new Map();
  for (const s of spans) {
    if (!m.has(s.traceId)) m.set(s.traceId, []);
    m.get(s.traceId).push(s);
  }
  return m;
}

/** The tree of one trace's spans as nested [name, [children…]] arrays, children sorted by name. */
export function shape(spans) {
  const kids = (id) =>
    spans
      .filter((s) => (s.parentSpanId || null) === id)
      .map((s) => [s.name, kids(s.spanId)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return kids(null);
}

/** A span's attribute as the collector gives it, JSON text parsed (other values as they are). */
export function attr(span, key) {
  const v = span.attributes[key];
  try {
    return typeof v === 'string' ? JSON.parse(v) : v;
  } catch {
    return v;
  }
}
