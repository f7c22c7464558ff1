// Shared by the ingest tests: the ingest Worker in Miniflare (optionally with a queue and an
// HTTP port), a fake MLflow sink that records what is relayed, OTLP request builders, and an
// independent protobuf reader for span ids (not the crate's decoder).
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { waitFor } from '../node/helpers/util.mjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The ingest Worker (ingest/src/worker.js) in workerd.
 * @param {object} vars  Worker vars (strings)
 * @param {{queue?: boolean, port?: number, maxRetries?: number, maxBatchSize?: number, ratelimit?: number}} [o]  port: listen on
 *   127.0.0.1 (0 = free); maxBatchSize: messages per queue batch; ratelimit: bind RATE_LIMITER (Cloudflare's rate limiting) at this many per minute
 */
export function ingestMiniflare(vars, { queue = false, port, maxRetries = 100, maxBatchSize = 10, ratelimit } = {}) {
  return new Miniflare({
    modules: true,
    scriptPath: join(repo, 'ingest/src/worker.js'),
    modulesRoot: repo,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2026-04-01',
    cf: false,
    bindings: vars,
    ...(queue
      ? {
          queueProducers: { TRACE_QUEUE: { queueName: 'edgetrace-traces' } },
          queueConsumers: { 'edgetrace-traces': { maxBatchSize, maxBatchTimeout: 1, maxRetries } },
        }
      : {}),
    ...(ratelimit ? { ratelimits: { RATE_LIMITER: { simple: { limit: ratelimit, period: 60 } } } } : {}),
    ...(port !== undefined ? { host: '127.0.0.1', port } : {}),
  });
}

/**
 * A fake MLflow OTLP endpoint on 127.0.0.1: records each relayed payload with its headers and
 * span ids. `mode` switches it: 'ok', 'fail' (503), 'refuse' (404, with MLflow's JSON reason). A request holding a span id
 * in `refuseSpans` is refused for good (400), as MLflow refuses a request it cannot read. Each
 * answer waits `delayMs` (a slow MLflow); `maxInflight` is the most requests it held at once.
 * A trace lookup waits `lookupDelayMs`. `answer`, when set, answers every request instead:
 * `(req) => ({status, headers, body})`, or null to answer as above (a server in front of MLflow
 * asking for credentials, a URL that is not MLflow's).
 */
export async function startSink() {
  const sink = { payloads: [], mode: 'ok', spanIds: new Set(), hits: 0, refuseSpans: new Set(), refused: [], delayMs: 0, lookupDelayMs: 0, answer: null, inflight: 0, maxInflight: 0, traces: new Map(), lookups: 0 };
  const server = createServer(async (req, res) => {
    const own = sink.answer?.(req);
    if (own) {
      req.resume();
      return res.writeHead(own.status, own.headers || {}).end(own.body ?? '');
    }
    // MLflow's trace lookup (the ingest's owner check): the experiment of a trace the test put
    // in `sink.traces` (hex id → experiment id), else 404 as for a trace MLflow does not have.
    const lookup = req.method === 'GET' && /^\/api\/3\.0\/mlflow\/traces\/tr-([0-9a-f]{32})$/.exec(req.url);
    if (lookup) {
      sink.lookups++;
      if (sink.lookupDelayMs) await new Promise((r) => setTimeout(r, sink.lookupDelayMs));
      const exp = sink.traces.get(lookup[1]);
      if (sink.mode !== 'ok' && sink.mode !== 'refuse') return res.writeHead(503).end(sink.mode);
      if (exp === undefined) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":"RESOURCE_DOES_NOT_EXIST"}');
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ trace: { trace_info: { trace_id: `tr-${lookup[1]}`, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } } } } }));
    }
    const chunks = [];
    sink.maxInflight = Math.max(sink.maxInflight, ++sink.inflight);
    res.on('close', () => sink.inflight--);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => setTimeout(() => {
      sink.hits++;
      if (sink.mode === 'refuse') {
        // As MLflow refuses a payload for an experiment that does not exist.
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No Experiment with id=${req.headers['x-mlflow-experiment-id']} exists.` }));
        return;
      }
      if (sink.mode !== 'ok') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(sink.mode);
        return;
      }
      const body = Buffer.concat(chunks);
      const ids = req.headers['content-type'] === 'application/x-protobuf' ? protoSpanIds(body) : [];
      if (ids.some((id) => sink.refuseSpans.has(id))) {
        sink.refused.push({ headers: req.headers, ids });
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('refused');
        return;
      }
      sink.payloads.push({ headers: req.headers, body, ids, url: req.url });
      for (const id of ids) sink.spanIds.add(id);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    }, sink.delayMs));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${server.address().port}`;
  sink.close = () => new Promise((r) => server.close(() => r()));
  return sink;
}

/** Reads protobuf fields of one message: [{field, wire, value}] (value: Buffer for LEN). */
function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      n |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return n;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) (out.push({ field, wire, value: buf.subarray(i, i + 8) }), (i += 8));
    else if (wire === 5) (out.push({ field, wire, value: buf.subarray(i, i + 4) }), (i += 4));
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** Span ids (hex) of an ExportTraceServiceRequest, read field by field. */
export function protoSpanIds(buf) {
  const ids = [];
  for (const rs of fields(buf).filter((f) => f.field === 1)) {
    for (const ss of fields(rs.value).filter((f) => f.field === 2)) {
      for (const sp of fields(ss.value).filter((f) => f.field === 2)) {
        const id = fields(sp.value).find((f) => f.field === 2);
        ids.push(Buffer.from(id.value).toString('hex'));
      }
    }
  }
  return ids;
}

/** The attributes (string values only) of each span in a protobuf request: [{spanId, attrs}]. */
export function protoSpanAttrs(buf) {
  const out = [];
  for (const rs of fields(buf).filter((f) => f.field === 1)) {
    for (const ss of fields(rs.value).filter((f) => f.field === 2)) {
      for (const sp of fields(ss.value).filter((f) => f.field === 2)) {
        const fs = fields(sp.value);
        const attrs = {};
        for (const kv of fs.filter((f) => f.field === 9)) {
          const kf = fields(kv.value);
          const key = Buffer.from(kf.find((f) => f.field === 1).value).toString();
          const any = kf.find((f) => f.field === 2);
          const sv = any && fields(any.value).find((f) => f.field === 1);
          if (sv) attrs[key] = Buffer.from(sv.value).toString();
        }
        out.push({ spanId: Buffer.from(fs.find((f) => f.field === 2).value).toString('hex'), attrs });
      }
    }
  }
  return out;
}

const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');
let counter = 1;

/** A fresh OTLP/JSON span (valid ids and times); `over` overrides fields. */
export function jsonSpan(over = {}) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const n = counter++;
  return {
    traceId: hex(0xabc00000 + n, 16),
    spanId: hex(0x5000 + n, 8),
    name: `span-${n}`,
    kind: 1,
    startTimeUnixNano: String(now - 1_000_000n),
    endTimeUnixNano: String(now),
    attributes: [{ key: 'app.step', value: { stringValue: 'ok' } }],
    ...over,
  };
}

/** An OTLP/JSON request body holding `spans`. */
export function jsonRequest(spans) {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'test' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });
}

/** `waitFor` with a 30 s default: polls `check` until it returns something truthy, and returns it. */
export const until = (check, options = {}) => waitFor(check, { timeoutMs: 30_000, ...options });
