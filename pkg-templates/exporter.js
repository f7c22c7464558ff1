// Moving encoded batches from the wasm core to the collector: timers, retries, keepalive.
//
// The core holds the bounded queue and encodes each batch (under maxExportBytes, 60,000 by
// default, so a keepalive request can carry it). This module only sends: on a timer, when a batch
// is full, on flush(), and in browsers on pagehide / visibilitychange. Failed sends are retried
// with exponential backoff and full jitter on network errors, 5xx and 429 (honouring
// Retry-After); a batch that still fails after `maxRetries` is counted as dropped. No timer or
// I/O is created at module top level (workerd forbids it): only after the first span ends.

import { CORE_AT, exportFailedCommand } from './recorder.js';
import { errText } from './safe-json.js';

const RETRYABLE = (s) => s === 429 || s >= 500;
// Chromium refuses keepalive requests once their bodies in flight exceed 64 KiB per page.
const KEEPALIVE_BUDGET = 63 * 1024;

export class Exporter {
  /**
   * @param {object} o
   * @param {() => any} o.core  returns the wasm Core (null while it loads)
   * @param {() => Promise<any>} o.ready  resolves to the core once it exists
   * @param {object} o.options  resolved init options
   * @param {(msg: string) => void} o.warn  says each text once (after `edgetrace: `)
   * @param {() => any} o.rec  returns the core's Recorder
   * @param {() => boolean} o.json  whether the loaded core writes OTLP/JSON
   */
  constructor({ core, ready, options, warn, rec, json }) {
    this.core = core;
    this.json = json;
    this.ready = ready;
    this.rec = rec;
    this.o = options;
    this.warn = warn;
    this.timer = null;
    this.inflight = new Set();
    this.flushing = 0; // 1: a sendFull is due in a task; 3: and in a microtask; 2: one is running
    this.keepaliveBytes = 0;
    this.urlFor = null;
    this.urlValue = null;
    this.stats = { requests: 0, retried: 0, failedRequests: 0, lastError: null };
    // The tracer's own exports use the fetch captured at init, never a traced one.
    const f = options.fetch || globalThis.fetch;
    const plain = f?.[Symbol.for('edgetrace.originalFetch')] || f;
    this.fetch = plain ? (url, init) => plain.call(globalThis, url, init) : null;
  }

  url() {
    const e = this.o.endpoint;
    if (!e) return null;
    // Asked after every span end: computed once per endpoint (init may swap the options).
    if (e !== this.urlFor) {
      this.urlFor = e;
      const u = e.replace(/\/+$/, '');
      this.urlValue = u.endsWith('/v1/traces') ? u : u + '/v1/traces';
    }
    return this.urlValue;
  }

  headers(format) {
    const h = { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf' };
    if (this.o.experimentId != null) h['x-mlflow-experiment-id'] = String(this.o.experimentId);
    if (this.o.ingestKey) h['x-edgetrace-key'] = this.o.ingestKey;
    return Object.assign(h, this.o.headers);
  }

  /** Called after a span ends. */
  onSpanEnd() {
    if (!this.url()) return;
    // The core is asked only when it may have a full batch: it applied recorded commands since the
    // last ask, or enough spans ended or were recorded for one (a span's export takes about as
    // many bytes as its commands, or more).
    const rec = this.rec();
    if (!rec || rec.drained || rec.ends >= this.o.maxBatchSpans || rec.logged >= this.o.maxExportBytes) this.flushFromEnd(rec);
    else if (this.timer === null && this.o.flushIntervalMs >= 0) this.armTimer();
  }

  // Full batches are sent from span ends in a task of their own: the span's end does not wait for
  // the core to apply what was recorded, and in a synchronous burst of spans every end would see a
  // full batch, and a send (with its promises) per end would hold memory until the burst is over;
  // the one send takes every full batch that is ready when it runs. But an app that awaits traced
  // calls in a loop runs no task until the loop ends, and its spans filled the queue (the root
  // among those dropped) with no batch sent: once half the queue's spans have ended since the core
  // was last asked, a microtask sends too. (Sending every batch from a microtask cost Node 20's
  // payload rows about 1 µs a span, in a same-run comparison.)
  flushFromEnd(rec) {
    if (!this.flushing) {
      this.flushing = 1;
      setTimeout(() => this.sendFull().catch(() => {}));
    } else if (this.flushing === 1 && rec?.ends >= this.o.maxQueueSpans / 2) {
      this.flushing = 3;
      queueMicrotask(() => this.sendFull().catch(() => {}));
    }
  }

  /**
   * Sends full batches while the core has them (as OpenTelemetry's BatchSpanProcessor does). What
   * is left, less than a batch, waits for the timer or `flush()`: taking it too while spans keep
   * ending would send the rest of a burst as many small requests (166 spans of 512 on average in
   * the benchmarks' payload rows), each paying a request's overhead, and collectors such as
   * MLflow write fewer, bigger requests faster.
   */
  async sendFull() {
    // One at a time: it takes each batch that fills while it waits for the sends in flight. (Under
    // exports slower than the app, each span end after a sendFull had started scheduled another,
    // each waiting on the same sends, and their promises held tens of megabytes:
    // bench/overload-memory.mjs.)
    if (this.flushing === 2) return;
    this.flushing = 2;
    // What was recorded is applied first; the core has been asked since.
    this.core();
    const rec = this.rec();
    if (rec) {
      rec.drained = false;
      rec.ends = 0;
    }
    await this.sendWhile((core) => core?.stats()[CORE_AT.batchReady] === 1).finally(() => (this.flushing = 0));
    if (this.timer === null && this.o.flushIntervalMs >= 0 && this.core()?.stats()[CORE_AT.queued] > 0) this.armTimer();
  }

  armTimer() {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch(() => {});
    }, this.o.flushIntervalMs);
    // Never keep a Node process alive just for tracing.
    this.timer?.unref?.();
  }

  /** Takes the next encoded batch out of the core, or null. */
  take() {
    const core = this.core();
    if (!core) return null;
    let format = this.o.format === 'json' ? 'json' : 'protobuf';
    if (format === 'json' && !this.json()) {
      // A browser core loaded before init({ format: 'json' }) has no JSON encoder.
      // (warn says each text once)
      this.warn("format 'json' must be set before the first span in browsers; sending OTLP/protobuf");
      format = 'protobuf';
    }
    const body = core.take_batch(format === 'protobuf');
    if (!body) return null;
    const v = core.stats();
    // dropped.queueFull and dropped.queueBytes (edgetrace.js STATS): said once.
    if (v[5] + v[6]) this.warn('the queue was full (maxQueueSpans): spans were dropped');
    return { body, format, spans: v[CORE_AT.lastBatchSpans], oversize: v[CORE_AT.lastBatchOversize] === 1 };
  }

  /** Takes every queued batch out of the core. */
  drain() {
    const out = [];
    for (let b = this.take(); b; b = this.take()) out.push(b);
    return out;
  }

  /**
   * Sends a batch. In browsers it goes with `keepalive` while the page's keepalive bodies in
   * flight stay within the budget, so a page that navigates away while it is sent (a timer's export
   * just before a click on a link) does not cancel it. Says whether it went so.
   */
  start(batch) {
    const size = batch.body.length;
    const keepalive = this.o.keepalive !== false && !batch.oversize && this.keepaliveBytes + size <= KEEPALIVE_BUDGET;
    if (keepalive) this.keepaliveBytes += size;
    const p = this.send(batch, keepalive).finally(() => {
      if (keepalive) this.keepaliveBytes -= size;
      this.inflight.delete(p);
    });
    this.inflight.add(p);
    return keepalive;
  }

  /**
   * Sends everything queued and waits for all sends in flight. At most `maxConcurrentExports`
   * batches are out of the core at once, so while the collector is down spans wait in the core's
   * bounded queue (and are dropped and counted there), not in unbounded JS memory.
   */
  async flush() {
    this.stop();
    if (!this.url()) return;
    // In browsers the core may still be loading: what was recorded meanwhile is exported with it.
    if (!this.core()) await this.ready();
    await this.sendWhile(() => true);
  }

  // Takes and sends batches while `more(core)` says so, at most `maxConcurrentExports` at once,
  // until none is left to take and none is in flight.
  async sendWhile(more) {
    const limit = Math.max(1, this.o.maxConcurrentExports | 0);
    for (;;) {
      while (this.inflight.size < limit && more(this.core())) {
        const b = this.take();
        if (!b) break;
        this.start(b);
      }
      if (this.inflight.size === 0 || !more(this.core())) return;
      await Promise.race(this.inflight);
    }
  }

  /**
   * Page is going away: send what is queued, without waiting. Browsers allow 64 KiB of keepalive
   * bodies in flight per page in all (not per request), so batches leave only while the total
   * stays under that budget (the first over it is sent as a normal request, which completes if the
   * page lives on); the rest stays in the core's queue, for the next flush if the page was only
   * hidden. Spans still queued when a page is really unloaded are lost: that is the browser's
   * limit, and why `flushIntervalMs` is short.
   */
  flushOnExit() {
    if (!this.url()) return;
    this.stop();
    for (let b = this.take(); b && this.start(b); b = this.take());
    // Whatever is left waits for the next flush.
    if (this.core()?.stats()[CORE_AT.queued] > 0) this.onSpanEnd();
  }

  /** Stops the timer (a newer exporter takes over). clearTimeout(null) does nothing. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async send(batch, keepalive) {
    const url = this.url();
    const format = batch.format;
    let attempt = 0;
    let late;
    for (;;) {
      let status = 0;
      let retryAfterMs = null;
      try {
        this.stats.requests++;
        const res = await this.fetch(url, {
          method: 'POST',
          headers: this.headers(format),
          body: batch.body,
          keepalive,
          signal: timeoutSignal(this.o.exportTimeoutMs),
        });
        status = res.status;
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        // Read the body so the connection can be reused (MLflow answers an empty protobuf); a
        // refusal's says why (MLflow: no such experiment, a missing experiment id header).
        const text = await res.text().catch(() => '');
        if (res.ok) return true;
        late = 0;
        this.stats.lastError = `${url}: HTTP ${status} ${text.slice(0, 300)}`.trim();
        if (!RETRYABLE(status)) break;
      } catch (e) {
        this.stats.lastError = `${url}: ${errText(e)}`;
        // No answer within exportTimeoutMs: the collector may still have taken the batch. (An
        // error that throws when read is none.)
        try {
          late = e.name === 'TimeoutError';
        } catch {
          late = 0;
        }
        // A keepalive request the browser refused (the app's own keepalive requests may have
        // used the page's budget) is tried again as a normal one.
        keepalive = false;
        // The server runtimes' explainFailure (SERVER_DEFAULTS, below).
        this.o.explain?.(this, url, e, attempt);
      }
      if (attempt >= this.o.maxRetries) break;
      attempt++;
      this.stats.retried++;
      const backoff = Math.min(this.o.maxBackoffMs, this.o.initialBackoffMs * 2 ** (attempt - 1));
      const wait = retryAfterMs != null ? Math.min(retryAfterMs, this.o.maxBackoffMs) : Math.random() * backoff;
      await new Promise((r) => setTimeout(r, wait));
    }
    this.stats.failedRequests++;
    this.rec()?.applyOwn(exportFailedCommand(batch.spans));
    this.warn(`${late ? 'gave up, unanswered, on' : 'dropped'} a batch of ${batch.spans} spans after ${attempt + 1} attempts (${this.stats.lastError})`);
    return false;
  }
}

// The server runtimes' (Node's and Workers') own defaults: batches bigger than a browser's
// 60,000 bytes, which keep a page's batch within the 64 KiB it may have in flight with
// `keepalive` as it closes, which servers never use. Fewer, bigger requests are what MLflow takes
// fastest (2.5x the spans per second with ten traces a request instead of one:
// bench/HISTORY.md), and 1,000,000 stays under the 1 MiB the ingest service
// (MAX_BODY_BYTES) and nginx (client_max_body_size) take by default. (Unused by the browser
// entry, so its bundlers leave it out, as they leave out `checkTransport`.)
// `keepalive` and `explain` are not options (init() takes only DEFAULTS' keys from the app):
// servers send no keepalive requests, and their account of a failed export rides in their
// options, so browsers' bundles leave it out.
export const SERVER_DEFAULTS = { maxExportBytes: 1_000_000, keepalive: false, explain: explainFailure };

/**
 * Node and Workers: a trace the core shed (no trace starts while its queue is three quarters full,
 * src/tracer.rs `shed`) is not recording, and its `traceparent` says not sampled, so the services
 * it calls do not record their part of a trace that is never exported. `shed(span)` asks the core
 * (after what was recorded is applied), once a trace. Browsers' cores shed nothing, and their
 * bundles leave this out.
 */
export function markShedTraces(Span, shed) {
  const p = Span.prototype;
  const recording = Object.getOwnPropertyDescriptor(p, 'isRecording');
  const traceparent = p.traceparent;
  const asked = new WeakMap(); // root span -> whether its trace was shed
  const isShed = (span) => {
    let v = asked.get(span._root);
    if (v === undefined) asked.set(span._root, (v = shed(span)));
    return v;
  };
  Object.defineProperty(p, 'isRecording', {
    ...recording,
    get() {
      return recording.get.call(this) && !isShed(this);
    },
  });
  p.traceparent = function () {
    const t = traceparent.call(this);
    return t?.endsWith('-01') && isShed(this) ? `${t.slice(0, -2)}00` : t;
  };
}

/**
 * In Node and Workers, a malformed endpoint or format is an error at init, not a batch retried
 * for half a minute before one warning. (In browsers any endpoint is a URL, relative to the page:
 * one that is not the collector's is answered 404, and that is warned at once.)
 */
export function checkTransport(o, defaults = {}) {
  const bad = (m) => {
    throw new Error(`edgetrace: invalid configuration: ${m}`);
  };
  const { endpoint: e, format: f } = o;
  if (f !== 'protobuf' && f !== 'json') bad(`format must be 'protobuf' or 'json', not ${f}`);
  if (e && !/^https?:\/\/[^/\s]/i.test(e)) bad(`endpoint must be an http:// or https:// URL, not ${e}`);
  // What the core does not check (src/bindings.rs checks its own limits): each option that is a
  // number by default must be one, 0 or more (an export timeout of -1 failed every export); a flag,
  // a flag (enabled: 'false' from an environment variable kept tracing on); a hook, a function.
  for (const k in o) {
    const v = o[k];
    const kind = typeof defaults[k];
    const text = () => (typeof v == 'symbol' ? 'a symbol' : typeof v == 'string' ? `'${v}'` : String(v));
    // maxValueBytes: 64 or more, as the core has it.
    const min = k == 'maxValueBytes' ? 64 : 0;
    if (kind == 'number' && !(typeof v == 'number' && v >= min && v < Infinity)) bad(`${k} must be a number, ${min} or more, not ${text()}`);
    if (kind == 'boolean' && typeof v != 'boolean') bad(`${k} must be true or false, not ${text()}`);
    if (HOOKS.includes(k) && v != null && typeof v != 'function') bad(`${k} must be a function, not ${text()}`);
  }
  const prices = o.prices;
  if (prices === undefined) return;
  if (prices === null || typeof prices !== 'object' || Array.isArray(prices)) bad('prices must be an object of model prefixes');
  const ok = (v) => typeof v === 'number' && v >= 0;
  for (const [model, p] of Object.entries(prices)) {
    if (!p || !ok(p.input) || !ok(p.output) || (p.cachedInput !== undefined && !ok(p.cachedInput))) bad(`prices.${model}: prices must be non-negative numbers`);
  }
}

const HOOKS = ['fetch', 'redact', 'onSpanEnd'];

/**
 * checkTransport, and a warning for tracing on with nowhere to send: spans are recorded, queued
 * and dropped at the queue's limits, and no export ever says so.
 */
export function checkServer(warn, noEnv = '') {
  return (o, defaults) => {
    checkTransport(o, defaults);
    // Said once, after init() has taken the options (so to their logger).
    if (o.enabled && !o.endpoint) queueMicrotask(() => warn(`init() has no endpoint (nor MLFLOW_TRACKING_URI): spans are recorded but not sent anywhere${noEnvEndpoint() || (globalThis.process?.env?.MLFLOW_TRACKING_URI ? '' : noEnv)}`));
    // The endpoint is MLflow's from the environment, and no experiment: MLflow's OTLP endpoint
    // refuses every batch (422), with nothing to say why until the first export fails.
    else if (o.enabled && o.experimentId == null && base(o.endpoint) === base(mlflowEnv().endpoint)) queueMicrotask(() => warn(noEnvExperiment()));
  };
}

/** Why MLflow's variables gave no endpoint though MLFLOW_TRACKING_URI may be set, or ''. */
export const noEnvEndpoint = () => envDenied() || notUrl();

/** The warning for MLflow's URI with no experiment, as the environment gave them. */
export const noEnvExperiment = () => (denied('MLFLOW_EXPERIMENT_ID')
  ? 'Deno does not allow reading MLFLOW_EXPERIMENT_ID, and MLflow refuses spans without an experiment; if you set it, allow it (--allow-env=MLFLOW_EXPERIMENT_ID) or pass init({ experimentId })'
  : "MLFLOW_TRACKING_URI is set and MLFLOW_EXPERIMENT_ID is not: MLflow refuses spans without an experiment; set it ('0' is MLflow's Default experiment) or pass init({ experimentId })");

/** Why MLFLOW_TRACKING_URI, where it is set, gave no endpoint: not an http(s) URL. */
function notUrl() {
  try {
    const uri = globalThis.process?.env?.MLFLOW_TRACKING_URI;
    return uri && !mlflowEnv().endpoint ? `; MLFLOW_TRACKING_URI (${uri}) is not an http:// or https:// URL` : '';
  } catch {
    return '';
  }
}

/**
 * Defaults from MLflow's own environment variables, as its SDKs read them: an `init()` without
 * an endpoint sends to MLFLOW_TRACKING_URI (an http(s) URL), into MLFLOW_EXPERIMENT_ID, with
 * MLFLOW_TRACKING_TOKEN as a bearer token. Read when the entry loads and again at each `init()`
 * (an app may set them after importing the package, with dotenv). Deno is asked first whether
 * reading each is allowed, so that it does not prompt for it; one it does not grant is left out
 * (`--allow-env=MLFLOW_TRACKING_URI,MLFLOW_EXPERIMENT_ID` grants no token, and needs none).
 */
export function mlflowEnv() {
  const d = {};
  try {
    const env = globalThis.process?.env || {};
    const read = (variable) => (denied(variable) ? undefined : env[variable]);
    const uri = read('MLFLOW_TRACKING_URI');
    if (!/^https?:\/\/[^/\s]/i.test(uri || '')) return d;
    d.endpoint = uri;
    const experimentId = read('MLFLOW_EXPERIMENT_ID');
    if (experimentId) d.experimentId = experimentId;
    const token = read('MLFLOW_TRACKING_TOKEN');
    if (token) d.headers = { authorization: `Bearer ${token}` };
  } catch {
    // An environment that cannot be read gives no defaults.
  }
  return d;
}

/**
 * `init()`'s options over MLflow's environment variables as they are now: an app may set them
 * after importing the package (dotenv's config() or Deno's load()), as mlflow-tracing reads them
 * in its init(). Options that are not an object are left for init() to refuse.
 */
export function withMlflowEnv(options) {
  if (options != null && (typeof options !== 'object' || Array.isArray(options))) return options;
  const env = mlflowEnv();
  // An endpoint of another server than MLFLOW_TRACKING_URI's (the ingest service, another MLflow)
  // takes nothing from the environment, its token least of all: null takes out what the entry's
  // defaults hold from it.
  const o = options?.endpoint != null && base(options.endpoint) !== base(env.endpoint) ? { experimentId: null, headers: null } : env;
  for (const [k, v] of Object.entries(options || {})) if (v !== undefined) o[k] = v;
  return o;
}

/** A server's base URL as given, without `/v1/traces` or trailing slashes. */
export const base = (url) => (typeof url == 'string' ? url.replace(/\/+$/, '').replace(/\/v1\/traces$/, '') : url);

/** Whether Deno does not let `variable` be read (false outside Deno). */
function denied(variable) {
  try {
    const perms = globalThis.Deno?.permissions;
    return !!perms && perms.querySync({ name: 'env', variable }).state !== 'granted';
  } catch {
    return false;
  }
}

/** Why MLFLOW_TRACKING_URI gave no endpoint, when Deno did not let it be read: for the warning. */
const envDenied = () => (denied('MLFLOW_TRACKING_URI') ? '; Deno does not allow reading MLFLOW_TRACKING_URI (--allow-env=MLFLOW_TRACKING_URI,MLFLOW_EXPERIMENT_ID,MLFLOW_TRACKING_TOKEN)' : '');

/**
 * The server runtimes' account of an attempt at an export that failed to reach the collector:
 * Node's fetch says only "fetch failed", and its cause why (ECONNREFUSED, …). The error kept (which
 * `send` starts with the URL) gets the cause, and the first attempt's is warned at once (once per
 * error), so a flush() that waits through the retries (up to a minute by default) shows why from
 * the start.
 */
export function explainFailure(exporter, url, e, attempt) {
  const s = exporter.stats;
  let cause = '';
  try {
    if (e?.cause) cause = ` (${errText(e.cause)})`;
  } catch {
    // A rejection whose cause throws when read is named by what could be read.
  }
  s.lastError += cause;
  if (!attempt && exporter.o.maxRetries > 0) exporter.warn(`an export failed, ${s.lastError}; retrying up to ${exporter.o.maxRetries} times`);
  // While the batches in flight retry, none is taken, so a queue that fills meanwhile would be
  // told only once the collector is back (as `take` tells it); it is told here, at the next
  // failed attempt, in the words `take` uses. (dropped.queueFull and dropped.queueBytes:
  // edgetrace.js STATS. Not one function with take's check: that would cost the browser entry,
  // which does not load this, 12 B it does not have.)
  const v = exporter.core()?.stats();
  if (v?.[5] + v?.[6]) exporter.warn('the queue was full (maxQueueSpans): spans were dropped');
}

/**
 * Whether init() is given the options it already has (a Worker that calls it in each request):
 * plain values, arrays and objects are compared by what they hold, functions by identity.
 */
export function sameOptions(a, b) {
  if (a === b) return true;
  if (!a || !b || typeof a != 'object' || typeof b != 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => sameOptions(a[k], b[k]));
}

// No timeout where AbortSignal.timeout is missing (Safari before 16).
const timeoutSignal = (ms) => (ms ? AbortSignal.timeout?.(ms) : undefined);

/** Retry-After as seconds or an HTTP date, in ms; null if absent or unreadable. */
export function parseRetryAfter(v) {
  if (!v) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : null;
}

/**
 * The servers' flush: `flush({ timeoutMs })` resolves after at most that long, with a warning
 * when spans are still unsent then (their export goes on while the process lives). A server
 * stopping within a grace period (Kubernetes' 30 s, `docker stop`'s 10 s) must not wait through
 * the retries of a collector that is down: about 45 s, or 2 minutes for one that never answers.
 * Browsers' bundles leave this out.
 */
export function timedFlush(flush, getStats, warn) {
  return async function flushWithin(options) {
    const ms = options?.timeoutMs;
    const done = flush();
    if (!(ms >= 0 && ms < Infinity)) return done;
    let timer;
    const late = await Promise.race([done.then(() => false), new Promise((r) => (timer = setTimeout(r, ms, true)))]);
    clearTimeout(timer);
    if (late) {
      try {
        warn(`flush gave up after ${ms} ms: the collector did not take the spans in time (${getStats().queued} still queued; the exports in flight go on while the process lives)`);
      } catch {
        // Tracing never breaks the app.
      }
    }
  };
}
