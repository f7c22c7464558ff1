// A real MLflow tracking server for tests: SQLite under a temp folder, 127.0.0.1 on a free port,
// stopped by its process group. When MLFLOW_URL is set (the test command starts one MLflow for
// the whole run), that server is used instead and left running.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, waitFor } from './util.mjs';

export const MLFLOW_BIN = process.env.MLFLOW_BIN || join(root, '.venv/bin/mlflow');

/**
 * Starts MLflow (or reuses MLFLOW_URL unless `own`). Resolves once GET /health answers.
 * With `dir` and `port`, the data folder is kept on stop, so a second start on the same `dir` and
 * `port` is the same server restarted (the tests that stop MLflow mid-stream use this).
 * @param {{quiet?: boolean, own?: boolean, dir?: string, port?: number}} [o]
 * @returns {Promise<{url: string, stop: () => Promise<void>, pid?: number, dir?: string, port?: number}>}
 */
export async function startMlflow({ quiet = false, own = false, dir: keepDir, port: fixedPort } = {}) {
  if (process.env.MLFLOW_URL && !own) return { url: process.env.MLFLOW_URL.replace(/\/$/, ''), stop: async () => {} };
  const dir = keepDir || mkdtempSync(join(tmpdir(), 'edgetrace-mlflow-'));
  const port = fixedPort || (await freePort());
  const child = spawn(
    MLFLOW_BIN,
    ['server', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--default-artifact-root',
      join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
    { detached: true, stdio: quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  await waitFor(async () => (await fetch(`${url}/health`)).ok, {
    timeoutMs: 240_000,
    intervalMs: 500,
    what: `MLflow at ${url}`,
    progress: () => console.error(`[mlflow] waiting for ${url}/health (${Math.round((Date.now() - started) / 1000)} s)`),
    progressEveryMs: 10_000,
    alive: () => child.exitCode === null,
  });
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  return { url, stop, pid: child.pid, dir, port };
}

async function api(url, path, init) {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method || 'GET'} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Creates an experiment with a unique name; returns its id. */
export async function createExperiment(url, name) {
  const r = await api(url, '/api/2.0/mlflow/experiments/create', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `${name}-${Date.now()}-${Math.random().toString(16).slice(2)}` }),
  });
  return r.experiment_id;
}

// One page of an experiment's trace infos (MLflow REST search).
function searchPage(url, experimentId, token, filter) {
  return api(url, '/api/3.0/mlflow/traces/search', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(experimentId) } }],
      max_results: 500,
      ...(token ? { page_token: token } : {}),
      ...(filter ? { filter } : {}),
    }),
  });
}

/** Every trace info of an experiment, following page tokens (MLflow REST search). */
export async function searchAllTraces(url, experimentId) {
  const all = [];
  let token;
  do {
    const r = await searchPage(url, experimentId, token);
    all.push(...(r.traces || []));
    token = r.next_page_token;
  } while (token);
  return all;
}

/** Trace infos of an experiment, the first page of 500 (MLflow REST search), with MLflow's
 * search `filter` if given (as `search_traces(filter_string=…)`). */
export async function searchTraces(url, experimentId, filter) {
  const r = await searchPage(url, experimentId, undefined, filter);
  return r.traces || [];
}

/** One trace with its spans (MLflow REST get). */
export async function getTrace(url, traceId) {
  const r = await api(url, `/api/3.0/mlflow/traces/get?trace_id=${encodeURIComponent(traceId)}`);
  return r.trace;
}

/** base64 id (as MLflow's get returns) to hex. */
export function b64ToHex(b64) {
  return Buffer.from(b64 || '', 'base64').toString('hex');
}

/** An OTLP-JSON AnyValue (as MLflow's get returns it, snake_case) to a plain value. */
export function anyValue(v) {
  if (!v) return undefined;
  if ('string_value' in v) return v.string_value;
  if ('bool_value' in v) return v.bool_value;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value;
  if ('array_value' in v) return (v.array_value.values || []).map(anyValue);
  if ('kvlist_value' in v) return Object.fromEntries((v.kvlist_value.values || []).map((kv) => [kv.key, anyValue(kv.value)]));
  return undefined;
}

/**
 * Spans of a trace (MLflow's get answer) as plain objects: {name, spanId, parentId, type, inputs,
 * outputs, status, statusMessage, events, attributes}, ids in hex.
 */
export function readSpans(trace) {
  return (trace?.spans || []).map((s) => {
    const attributes = {};
    for (const kv of s.attributes || []) attributes[kv.key] = anyValue(kv.value);
    return {
      name: s.name,
      spanId: b64ToHex(s.span_id),
      parentId: s.parent_span_id ? b64ToHex(s.parent_span_id) : null,
      type: attributes['mlflow.spanType'],
      inputs: attributes['mlflow.spanInputs'],
      outputs: attributes['mlflow.spanOutputs'],
      status: s.status?.code,
      statusMessage: s.status?.message,
      events: (s.events || []).map((e) => ({
        name: e.name,
        attributes: Object.fromEntries((e.attributes || []).map((kv) => [kv.key, anyValue(kv.value)])),
      })),
      startNs: BigInt(s.start_time_unix_nano),
      endNs: BigInt(s.end_time_unix_nano),
      attributes,
    };
  });
}

/** Waits until MLflow has the trace with `n` spans and its root; returns it. */
export async function waitForTrace(url, traceId, n, timeoutMs = 30_000) {
  let last;
  await waitFor(
    async () => {
      try {
        last = await getTrace(url, traceId);
      } catch {
        return false;
      }
      return (last?.spans || []).length >= n && last?.trace_info?.state !== 'IN_PROGRESS';
    },
    { timeoutMs, intervalMs: 250, what: `trace ${traceId} with ${n} spans in MLflow` },
  );
  return last;
}
