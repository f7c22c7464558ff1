#!/usr/bin/env node
// The ingest service under bounded load on loopback: the Worker in workerd (Miniflare on a real
// 127.0.0.1 port), autocannon with a fixed number of connections posting OTLP/JSON batches of
// fresh spans, for DURATION seconds, first against a local sink (a fake MLflow that only counts)
// and then against a real MLflow 3.17.2 (SQLite). Records requests and spans per second accepted
// and relayed, p50/p99 latency, answers by status, and workerd's memory (RSS sampled each second).
//
//   node bench/ingest_load.mjs [--duration 60] [--connections 8] [--spans 20] [--targets sink,mlflow] [--check]
//
// --check exits non-zero when an answer other than 2xx appears that MLflow did not cause (with
// the sink nothing but 200 is allowed; with MLflow only 503 mlflow_unavailable / 502) or when
// workerd's memory grows by more than 64 MiB after the first 10 s. Writes bench/out/ingest_load.json.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createExperiment, searchAllTraces, startMlflow } from '../tests/node/helpers/mlflow.mjs';
import { ingestMiniflare, repo, startSink } from '../tests/ingest/helpers.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '8' },
    spans: { type: 'string', default: '20' },
    targets: { type: 'string', default: 'sink,mlflow' },
    check: { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const SPANS = Number(args.spans);
const log = (m) => console.error(`[ingest-load] ${m}`);

let seq = 0;
const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');
const run = Date.now().toString(16);
/** One OTLP/JSON batch: a trace of SPANS spans (an AGENT root, then CHAT_MODEL children). */
function batch() {
  const t = ++seq;
  const traceId = (run + hex(t, 16)).slice(-32);
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = [];
  for (let i = 0; i < SPANS; i++) {
    spans.push({
      traceId,
      spanId: hex(t * 1000 + i + 1, 8),
      parentSpanId: i === 0 ? '' : hex(t * 1000 + 1, 8),
      name: i === 0 ? 'agent' : `llm-${i}`,
      kind: 1,
      startTimeUnixNano: String(now - 2_000_000n),
      endTimeUnixNano: String(now - (i === 0 ? 0n : 1_000_000n)),
      attributes: [
        { key: 'mlflow.spanType', value: { stringValue: i === 0 ? 'AGENT' : 'CHAT_MODEL' } },
        { key: 'mlflow.spanInputs', value: { stringValue: JSON.stringify({ messages: [{ role: 'user', content: `question ${t}.${i}` }] }) } },
        { key: 'mlflow.spanOutputs', value: { stringValue: JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'an answer of a few words' } }] }) } },
        { key: 'mlflow.chat.tokenUsage', value: { stringValue: '{"input_tokens":12,"output_tokens":7,"total_tokens":19}' } },
        { key: 'app.step', value: { intValue: String(i) } },
      ],
      status: { code: 1 },
    });
  }
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'load' } }] }, scopeSpans: [{ scope: { name: 'load' }, spans }] }] });
}

/** RSS (bytes) of every workerd process on the machine started after `since` (Miniflare's child). */
function workerdRss(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      /* gone */
    }
  }
  return total;
}
function workerdPids() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('workerd') && cmd.includes('serve')) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function measure(name, mlflowUri, experimentId, countRelayed) {
  const before = new Set(workerdPids());
  const mf = ingestMiniflare({
    MLFLOW_TRACKING_URI: mlflowUri,
    INGEST_KEYS: JSON.stringify({ pk_load: { origins: [], experimentId } }),
    RATE_LIMIT_PER_MINUTE: '0',
    RETRY_AFTER_SECONDS: '1',
  }, { port: 0 });
  const url = String(await mf.ready).replace(/\/$/, '');
  const pids = workerdPids().filter((p) => !before.has(p));
  const rss = [];
  const sampler = setInterval(() => rss.push({ t: Date.now(), rss: workerdRss(pids) }), 1000);
  const statuses = {};
  let accepted = 0;
  const t0 = Date.now();
  log(`${name}: ${DURATION} s, ${CONNECTIONS} connections, ${SPANS} spans per request → ${url}`);
  const ticker = setInterval(() => log(`${name}: ${Math.round((Date.now() - t0) / 1000)} s, ${accepted} requests accepted`), 10_000);
  const result = await autocannon({
    url: `${url}/v1/traces`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'content-type': 'application/json', 'x-edgetrace-key': 'pk_load' },
    requests: [{ setupRequest: (req) => ({ ...req, body: batch() }) }],
    setupClient: (client) => {
      client.on('response', (status) => {
        statuses[status] = (statuses[status] || 0) + 1;
        if (status === 200) accepted++;
      });
    },
  });
  clearInterval(ticker);
  clearInterval(sampler);
  const elapsed = (Date.now() - t0) / 1000;
  log(`${name}: load done; counting what was relayed`);
  const relayedSpans = await countRelayed(accepted * SPANS);
  const health = await (await fetch(`${url}/healthz`)).json();
  await mf.dispose();
  const warm = rss.filter((s) => s.t - t0 >= 10_000);
  const r = {
    target: name,
    durationS: elapsed,
    connections: CONNECTIONS,
    spansPerRequest: SPANS,
    requests: result.requests.total,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    requestsPerS: accepted / elapsed,
    spansAcceptedPerS: (accepted * SPANS) / elapsed,
    spansRelayed: relayedSpans,
    spansAccepted: accepted * SPANS,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    workerdRssMiB: {
      afterWarmup: warm.length ? warm[0].rss / 2 ** 20 : null,
      max: rss.length ? Math.max(...rss.map((s) => s.rss)) / 2 ** 20 : null,
      end: rss.length ? rss.at(-1).rss / 2 ** 20 : null,
    },
    serviceStats: health.stats,
  };
  log(`${name}: ${r.requestsPerS.toFixed(0)} req/s, ${r.spansAcceptedPerS.toFixed(0)} spans/s accepted, ${r.spansRelayed} of ${r.spansAccepted} relayed, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, statuses ${JSON.stringify(statuses)}, workerd RSS max ${r.workerdRssMiB.max?.toFixed(1)} MiB`);
  return r;
}

const results = [];
const targets = args.targets.split(',');
if (targets.includes('sink')) {
  const sink = await startSink();
  results.push(await measure('local sink', sink.url, '1', async () => sink.payloads.reduce((n, p) => n + p.ids.length, 0)));
  await sink.close();
}
if (targets.includes('mlflow')) {
  log('starting MLflow (or using MLFLOW_URL)');
  const mlflow = await startMlflow({ quiet: true });
  const exp = await createExperiment(mlflow.url, 'ingest-load');
  results.push(await measure('MLflow 3.17.2 (SQLite)', mlflow.url, exp, async () => {
    // Accepted means relayed in direct mode; count the traces MLflow holds to be sure.
    const traces = (await searchAllTraces(mlflow.url, exp)).length;
    return traces * SPANS;
  }));
  await mlflow.stop();
}

mkdirSync(join(repo, 'bench/out'), { recursive: true });
writeFileSync(join(repo, 'bench/out/ingest_load.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
console.log('| target | req/s | spans/s accepted | spans relayed / accepted | p50 ms | p99 ms | answers | workerd RSS after 10 s → max MiB |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.target} | ${r.requestsPerS.toFixed(0)} | ${r.spansAcceptedPerS.toFixed(0)} | ${r.spansRelayed} / ${r.spansAccepted} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ')} | ${r.workerdRssMiB.afterWarmup?.toFixed(1)} → ${r.workerdRssMiB.max?.toFixed(1)} |`);
}

if (args.check) {
  const problems = [];
  for (const r of results) {
    const allowed = r.target === 'local sink' ? ['200'] : ['200', '503', '502'];
    for (const s of Object.keys(r.statuses)) if (!allowed.includes(s)) problems.push(`${r.target}: ${r.statuses[s]} answers of ${s}`);
    if (r.errors || r.timeouts) problems.push(`${r.target}: ${r.errors} connection errors, ${r.timeouts} timeouts`);
    // Requests still in flight when the load stops may be relayed without their 200 being counted.
    if (r.spansRelayed < r.spansAccepted) problems.push(`${r.target}: relayed ${r.spansRelayed} of ${r.spansAccepted} accepted spans`);
    const growth = r.workerdRssMiB.max - r.workerdRssMiB.afterWarmup;
    if (growth > 64) problems.push(`${r.target}: workerd RSS grew ${growth.toFixed(1)} MiB after warm-up`);
  }
  if (problems.length) {
    console.error(`[ingest-load] FAILED:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  log('check passed: no error MLflow did not cause, every accepted span relayed, memory bounded');
}
