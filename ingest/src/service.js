// The ingest service: routes, keys, CORS, limits, body reading, the wasm core, relay or queue.
//
// `createService(IngestCore)` returns the handlers a Worker exports (`fetch`, `queue`); the same
// object serves the Node adapter. Order of checks on POST /v1/traces: key (401/403), origin
// (403), experiment (403), rate limit (429), content type and encoding (415), declared and actual
// body size (413, before any parsing), gzip output size (413), then the core (400/413). Every
// refusal is `{"error": code, "message": one line}` and relays nothing. POST
// /api/3.0/mlflow/traces/{id}/assessments (feedback, MLflow's own route) passes the same key,
// origin, experiment and rate checks, then the core's (400), then the trace's owner in MLflow
// (404 not there yet, 403 another experiment's).
//
// What an operator must see is logged, one line each: every answer about MLflow or the service
// rather than the request (503 mlflow_unavailable, 422 mlflow_refused, 500) with its reason, the
// ingest key (public) and its experiment; an invalid configuration, once, when it is read; a
// client that hangs up mid-upload; a queue relay that failed. /healthz counts them too.

import { CORE_SETTINGS, ConfigError, readConfig, scrub, secretsOf } from './config.js';
import { TokenBuckets, limited } from './rate-limit.js';
import { Coalescer, postJoined } from './coalesce.js';
import { answered, mlflowHeaders, postOnce, relay, unreachable } from './relay.js';
import { TraceOwners, lookup } from './owners.js';

const ALLOW_HEADERS = 'content-type, content-encoding, x-edgetrace-key, x-mlflow-experiment-id, traceparent';

/**
 * The headers a preflight allows: the service's own, and whatever else the page asks for (an
 * SDK's `init({ headers })`, an OpenTelemetry exporter's). The service reads only its own and
 * relays none of the others, so allowing them costs nothing, while refusing them would make the
 * browser drop every export with only "Failed to fetch" to say why. Header names only (the
 * HTTP token characters), at most 2,000 characters of them.
 */
function allowHeaders(requested) {
  const extra = (requested || '')
    .slice(0, 2000)
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(h));
  return [...new Set([...ALLOW_HEADERS.split(', '), ...extra])].join(', ');
}
const VERSION = '0.1.0';

/** MLflow's route for feedback on a trace, which the service serves too (`logFeedback`). */
const ASSESSMENTS = /^\/api\/3\.0\/mlflow\/traces\/([^/]+)\/assessments$/;
/** The largest feedback body taken. */
const MAX_ASSESSMENT_BYTES = 64 * 1024;
const ROUTES = 'routes: POST /v1/traces, POST /api/3.0/mlflow/traces/{trace id}/assessments, GET /healthz';

/** The request's body could not be read: its sender hung up (or broke the upload) part way. */
class ClientGone extends Error {}

class Refusal extends Error {
  constructor(status, error, message, headers = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body) + '\n', {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** The CORS headers for `origin` when some live key allows it, else none. */
function corsHeaders(config, origin) {
  if (!origin || !(config.anyOrigin || config.allOrigins.has(origin))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'retry-after',
    vary: 'Origin',
  };
}

// Past the size limit, up to this many more bytes are read and thrown away (never kept or
// parsed) so that the sender sees the 413 instead of a reset connection; beyond it, the
// connection is dropped.
const DISCARD_BYTES = 16 * 1024 * 1024;

/** Reads and drops up to DISCARD_BYTES of what is left of a stream. */
async function discard(reader) {
  let dropped = 0;
  try {
    while (dropped < DISCARD_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.byteLength;
    }
    await reader.cancel();
  } catch {
    /* the sender went away */
  }
}

/** Reads at most `max` bytes of a stream; throws a 413 refusal past it (the rest is discarded). */
async function readCapped(stream, max, error, what, drain = false) {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new ClientGone(e?.message || String(e));
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      if (drain) await discard(reader);
      else await reader.cancel().catch(() => {});
      throw new Refusal(413, error, `${what} is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

async function gunzip(bytes, max) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  try {
    return await readCapped(stream, max, 'decompressed_too_large', 'the gzip-decoded body');
  } catch (e) {
    if (e instanceof Refusal) throw e;
    throw new Refusal(400, 'malformed_gzip', 'Content-Encoding is gzip but the body is not valid gzip');
  }
}

function contentFormat(request) {
  const type = (request.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  throw new Refusal(415, 'unsupported_media_type',
    `Content-Type must be application/json or application/x-protobuf, got ${JSON.stringify(type || '(none)')}`);
}

/**
 * @param {typeof import('../build/edgetrace_ingest.js').IngestCore} IngestCore
 * @param {{fetch?: typeof fetch, now?: () => number, memoryBytes?: () => number}} [deps]  injected by the
 *   entries (the wasm memory size, for /healthz) and by tests
 */
export function createService(IngestCore, deps = {}) {
  const fetchImpl = deps.fetch || ((...a) => fetch(...a));
  const now = deps.now || (() => Date.now());
  let cached = null; // { env, config, core, buckets } or { env, error }
  const log = deps.log || console;
  const stats = {
    requests: 0, accepted: 0, acceptedSpans: 0, relayedPayloads: 0, relayRequests: 0, queuedPayloads: 0, relayFailures: 0, uncheckedTraces: 0, droppedForeignTraces: 0, feedback: 0,
    mlflowUnavailable: 0, mlflowRefused: 0, internalErrors: 0, refused: {},
  };
  let reportedConfigError = null; // the invalid configuration last logged, to log each once

  function setup(env, quiet = false) {
    if (cached && cached.env === env) return cached;
    try {
      const config = readConfig(env);
      const core = new IngestCore(JSON.stringify(config.core));
      cached = { env, config, core, buckets: new TokenBuckets(config.limits.ratePerMinute, now), owners: new TraceOwners() };
      reportedConfigError = null;
    } catch (e) {
      // Served on /healthz and to every request: never with a secret in it.
      const message = scrub(e instanceof ConfigError ? e.message : coreConfigError(e), secretsOf(env));
      cached = { env, error: message };
      if (message !== reportedConfigError) {
        reportedConfigError = message;
        if (!quiet) log.error(`edgetrace ingest: invalid configuration: ${message}; every request is answered 500 misconfigured (and /healthz 503) until it is fixed`);
      }
    }
    return cached;
  }

  /**
   * The configuration `env` makes: `{ config }`, or `{ error }` (its one-line reason) when it is
   * invalid, which is then not logged again: the caller reports it (the Node adapter's startup line).
   */
  function configuration(env) {
    const state = setup(env, true);
    return state.error ? { error: state.error } : { config: state.config };
  }

  // Where an answer was about, for a log line: the route, the ingest key (public, write-only) and
  // its experiment.
  function about(request, config) {
    const key = request.headers.get('x-edgetrace-key');
    const spec = key ? config?.keys.get(key) : undefined;
    const path = new URL(request.url).pathname;
    const who = key ? `key ${key.slice(0, 100)}${spec ? ` (experiment ${spec.experimentId})` : ' (not a known key)'}` : 'no key';
    return `${request.method} ${path}, ${who}`;
  }

  // An answer about MLflow or the service rather than the request (503, 422, 500): counted in
  // /healthz and logged, one line with its reason (and `detail`, for the log alone).
  function trouble(request, config, status, error, message, headers, detail = '') {
    // A fetch error may quote the URL or a header: no secret reaches the sender or the log.
    message = scrub(message, config?.secrets || []);
    detail = scrub(detail, config?.secrets || []);
    if (status === 503) stats.mlflowUnavailable++;
    else if (status === 422) stats.mlflowRefused++;
    else stats.internalErrors++;
    (status === 503 ? log.warn : log.error).call(log, `edgetrace ingest: ${status} ${error}, ${about(request, config)}: ${message}${detail}`);
    return json(status, { error, message }, headers);
  }

  // MLflow could not be reached (to look up a trace, or to relay): the sender is to retry.
  function unavailable(request, config, cors, message) {
    return trouble(request, config, 503, 'mlflow_unavailable', `${message}; retry later`, { ...cors, 'retry-after': String(config.limits.retryAfterSeconds) });
  }

  // MLflow refused for good (an unknown experiment, the service's credentials): an operator must
  // act. A 4xx, so that OTLP exporters do not send it again (the OTLP/HTTP spec retries 429, 502,
  // 503 and 504; the edgetrace SDK 429 and 5xx).
  function mlflowRefused(request, config, cors, { error, status, notMlflow }) {
    return trouble(request, config, 422, 'mlflow_refused', `${error}${refusalHint(status, notMlflow)}`, cors);
  }

  // The key, its origin and experiment, and its rate limit: the checks every POST passes first.
  async function authorize(request, env, config, buckets) {
    const key = request.headers.get('x-edgetrace-key');
    if (!key) throw new Refusal(401, 'missing_key', 'send your ingest key in the x-edgetrace-key header');
    const spec = config.keys.get(key);
    if (!spec) throw new Refusal(401, 'unknown_key', 'this ingest key is not known');
    if (spec.revoked) throw new Refusal(403, 'revoked_key', 'this ingest key has been revoked');
    const origin = request.headers.get('origin');
    if (origin ? !(spec.origins.includes('*') || spec.origins.includes(origin)) : !config.limits.allowNoOrigin) {
      throw new Refusal(403, 'origin_not_allowed',
        origin ? `origin ${origin} is not allowed for this ingest key` : 'requests without an Origin are not allowed');
    }
    const asked = request.headers.get('x-mlflow-experiment-id');
    if (asked !== null && asked !== spec.experimentId) {
      throw new Refusal(403, 'experiment_mismatch', `this ingest key writes to experiment ${spec.experimentId}, not ${asked}`);
    }
    const wait = await limited(env, buckets, key, spec.ratePerMinute);
    if (wait > 0) throw new Refusal(429, 'rate_limited', 'too many requests for this ingest key', { 'retry-after': String(wait) });
    return spec;
  }

  async function accept(request, env, config, core, buckets) {
    const spec = await authorize(request, env, config, buckets);
    const format = contentFormat(request);
    const encoding = (request.headers.get('content-encoding') || 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      throw new Refusal(415, 'unsupported_encoding', `Content-Encoding must be gzip or absent, got ${JSON.stringify(encoding)}`);
    }
    const declared = Number(request.headers.get('content-length'));
    if (declared > config.limits.maxBodyBytes) {
      if (declared <= DISCARD_BYTES && request.body) await discard(request.body.getReader());
      throw new Refusal(413, 'body_too_large', `the body is larger than ${config.limits.maxBodyBytes} bytes`);
    }
    let body = await readCapped(request.body, config.limits.maxBodyBytes, 'body_too_large', 'the body', true);
    if (encoding === 'gzip') body = await gunzip(body, config.limits.maxDecompressedBytes);
    let payloads;
    try {
      payloads = core.process(body, format === 'json', now());
    } catch (e) {
      if (e && typeof e.status === 'number') throw new Refusal(e.status, e.error, e.message);
      throw e;
    }
    const summary = JSON.parse(core.summary());
    return { spec, payloads, summary, format };
  }

  // A relay's outcome, counted in `relayRequests` when MLflow took it (both modes).
  function counted(r) {
    if (r.ok) stats.relayRequests++;
    return r;
  }

  // One relay in direct mode, with its tries.
  async function relayCounted(config, experimentId, payload) {
    return counted(await relay(config, experimentId, payload, fetchImpl));
  }

  // The direct-mode relays of one experiment, shared by the requests in flight (coalesce.js);
  // null when RELAY_BATCH_BYTES is 0: each request relays its own payloads, at once.
  function coalescer(state, experimentId) {
    const { config } = state;
    const { relayTimeoutMs, relayAttempts, relayBatchBytes } = config.limits;
    if (relayBatchBytes === 0) return null;
    state.coalescers ??= new Map();
    let c = state.coalescers.get(experimentId);
    if (!c) {
      // Longer than a relay with all its tries and backoff can take.
      const staleMs = (relayTimeoutMs > 0 ? relayTimeoutMs : 60_000) * relayAttempts + 100 * 2 ** relayAttempts + 5_000;
      c = new Coalescer((payload) => relayCounted(config, experimentId, payload), { maxBytes: relayBatchBytes, staleMs });
      state.coalescers.set(experimentId, c);
    }
    return c;
  }

  async function deliver(env, state, experimentId, payloads, unchecked) {
    const { config } = state;
    if (config.queue) {
      try {
        const body = unchecked ? { experimentId, unchecked } : { experimentId };
        for (const p of payloads) await env.TRACE_QUEUE.send({ ...body, payload: p }, { contentType: 'v8' });
        stats.queuedPayloads += payloads.length;
        return null;
      } catch (e) {
        stats.relayFailures++;
        return `the queue refused the batch: ${e?.message || e}`;
      }
    }
    const c = coalescer(state, experimentId);
    for (const p of payloads) {
      const r = c ? await c.relay(p) : await relayCounted(config, experimentId, p);
      if (!r.ok) {
        stats.relayFailures++;
        return r;
      }
      stats.relayedPayloads++;
    }
    return null;
  }

  // What an operator should look at when MLflow refuses for good, by its status: the key's
  // experiment when MLflow finds none (404 with MLflow's JSON error), MLFLOW_TRACKING_URI when the
  // answer is not MLflow's (a 404 page: the URL is not an MLflow server's), the service's own
  // MLflow credentials (401, 403); otherwise MLflow's reason alone says it (a value it cannot
  // store, say).
  function refusalHint(status, notMlflow = false) {
    if (notMlflow) return "; that is not MLflow's API answering: check MLFLOW_TRACKING_URI, which must be the MLflow server's base URL (traces go to {MLFLOW_TRACKING_URI}/v1/traces)";
    if (status === 404) return '; check the experiment of this key';
    if (status === 401 || status === 403) return "; MLflow refused the ingest service's credentials (MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)";
    return '';
  }

  async function handleTraces(request, env, state, cors) {
    const { config, core, buckets } = state;
    const { spec, payloads, summary, format } = await accept(request, env, config, core, buckets);
    let unchecked;
    if (config.limits.checkTraceOwners && summary.traceIds?.length) {
      // A trace id MLflow has in another experiment: its spans would be filed there (owners.js).
      let foreign = null;
      try {
        foreign = await state.owners.foreign(config, spec.experimentId, summary.traceIds, fetchImpl);
      } catch (e) {
        // MLflow refused the lookup for good (the service's credentials, a URL that is not
        // MLflow's): a relay would be refused too, in either mode.
        if (e?.refused) return mlflowRefused(request, config, cors, e.refused);
        if (!e?.unreachable) throw e;
        // Unchecked while MLflow cannot answer: in direct mode nothing could be relayed anyway;
        // in queue mode the request is kept (the queue exists for MLflow's outages), and its
        // messages carry the trace ids for the consumer to look up before it relays them.
        if (!config.queue) return unavailable(request, config, cors, e.unreachable);
        stats.uncheckedTraces += summary.traceIds.length;
        unchecked = summary.traceIds;
      }
      if (foreign) {
        throw new Refusal(403, 'trace_in_other_experiment',
          `trace ${foreign.id} is in another experiment than this ingest key's (${spec.experimentId}); nothing was relayed`);
      }
    }
    const failure = payloads.length ? await deliver(env, state, spec.experimentId, payloads, unchecked) : null;
    if (failure) {
      // MLflow refused for good (for example an unknown experiment): 422 (mlflowRefused).
      if (typeof failure === 'object' && !failure.retryable) return mlflowRefused(request, config, cors, failure);
      return unavailable(request, config, cors, typeof failure === 'string' ? failure : failure.error);
    }
    stats.accepted++;
    stats.acceptedSpans += summary.spans;
    const headers = { ...cors, 'x-edgetrace-spans': String(summary.spans) };
    // OTLP/HTTP: an ExportTraceServiceResponse, empty, in the request's encoding.
    if (format === 'json') return json(200, {}, headers);
    return new Response(new Uint8Array(0), { status: 200, headers: { ...headers, 'content-type': 'application/x-protobuf' } });
  }

  /**
   * Feedback on a trace (`logFeedback`, or MLflow's own clients): checked and redacted by the
   * core, then relayed to MLflow if the trace is there and in the key's experiment. A trace MLflow
   * does not have yet is a 404 `trace_not_found`, which the SDK tries again: spans relayed
   * through the queue arrive a little later.
   */
  async function handleAssessment(request, env, state, cors, traceId) {
    const { config, core, buckets } = state;
    const spec = await authorize(request, env, config, buckets);
    if (contentFormat(request) !== 'json') throw new Refusal(415, 'unsupported_media_type', 'feedback is JSON: Content-Type must be application/json');
    const body = await readCapped(request.body, MAX_ASSESSMENT_BYTES, 'body_too_large', 'the body', true);
    let assessment;
    try {
      assessment = core.assessment(body, traceId);
    } catch (e) {
      if (e && typeof e.status === 'number') throw new Refusal(e.status, e.error, e.message);
      throw e;
    }
    let owner;
    try {
      owner = await lookup(config, traceId.slice(3), fetchImpl);
    } catch (e) {
      if (e?.refused) return mlflowRefused(request, config, cors, e.refused);
      if (!e?.unreachable) throw e;
      return unavailable(request, config, cors, e.unreachable);
    }
    if (owner === null) throw new Refusal(404, 'trace_not_found', `MLflow has no trace ${traceId} (yet): feedback is taken once its spans are relayed`);
    if (owner !== spec.experimentId) {
      throw new Refusal(403, 'trace_in_other_experiment', `trace ${traceId} is in another experiment than this ingest key's (${spec.experimentId}); nothing was relayed`);
    }
    let res;
    let text;
    try {
      res = await fetchImpl(`${config.mlflowUri}/api/3.0/mlflow/traces/${traceId}/assessments`, {
        method: 'POST',
        headers: mlflowHeaders(config, { 'content-type': 'application/json' }),
        body: assessment,
        signal: config.limits.relayTimeoutMs > 0 ? AbortSignal.timeout(config.limits.relayTimeoutMs) : undefined,
      });
      text = await res.text();
    } catch (e) {
      stats.relayFailures++;
      // No answer in time: MLflow may have stored it, so the sender must not send it again (a
      // second post is a second assessment). A connection that failed stored nothing: retry.
      if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
        return trouble(request, config, 504, 'mlflow_timeout', `${unreachable(e)}; the feedback may have been stored, so it is not to be sent again`, cors);
      }
      return unavailable(request, config, cors, unreachable(e));
    }
    if (!res.ok) {
      stats.relayFailures++;
      const { error, fromMlflow } = answered(res.status, text);
      // Busy or down (429, 503): nothing stored, retry. Another 5xx may come after the write.
      if (res.status === 429 || res.status === 503) return unavailable(request, config, cors, error);
      if (res.status >= 500) return trouble(request, config, 502, 'mlflow_failed', `${error}; the feedback may have been stored, so it is not to be sent again`, cors);
      return mlflowRefused(request, config, cors, { error, status: res.status, notMlflow: res.status === 404 && !fromMlflow });
    }
    stats.feedback++;
    return new Response(text, { status: 200, headers: { ...cors, 'content-type': 'application/json' } });
  }

  async function fetchHandler(request, env = {}) {
    stats.requests++;
    const url = new URL(request.url);
    const state = setup(env);
    if (url.pathname === '/healthz') {
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'method_not_allowed', message: 'use GET' }, { allow: 'GET' });
      if (state.error) return json(503, { ok: false, error: 'misconfigured', message: state.error });
      const wasmMemoryBytes = deps.memoryBytes ? deps.memoryBytes() : null;
      return json(200, { ok: true, version: VERSION, mode: state.config.queue ? 'queue' : 'direct', wasmMemoryBytes, stats });
    }
    if (state.error) return json(500, { error: 'misconfigured', message: state.error });
    const feedbackOn = ASSESSMENTS.exec(url.pathname)?.[1];
    if (url.pathname !== '/v1/traces' && !feedbackOn) return json(404, { error: 'not_found', message: ROUTES });
    const origin = request.headers.get('origin');
    const cors = corsHeaders(state.config, origin);
    if (request.method === 'OPTIONS') {
      if (!cors['access-control-allow-origin']) {
        return json(403, { error: 'origin_not_allowed', message: `origin ${origin || '(none)'} is not allowed by any ingest key` });
      }
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': allowHeaders(request.headers.get('access-control-request-headers')),
          'access-control-max-age': '86400',
          vary: 'Origin, Access-Control-Request-Headers',
        },
      });
    }
    if (request.method !== 'POST') return json(405, { error: 'method_not_allowed', message: 'use POST' }, { ...cors, allow: 'POST, OPTIONS' });
    try {
      if (feedbackOn) return await handleAssessment(request, env, state, cors, feedbackOn);
      return await handleTraces(request, env, state, cors);
    } catch (e) {
      if (e instanceof Refusal) {
        stats.refused[e.error] = (stats.refused[e.error] || 0) + 1;
        return json(e.status, { error: e.error, message: e.message }, { ...cors, ...e.headers });
      }
      if (e instanceof ClientGone) {
        // Routine, not the service's fault: one line, no stack. Nobody reads the answer (499,
        // nginx's "client closed request").
        log.warn(`edgetrace ingest: the client hung up mid-upload, ${about(request, state.config)} (${e.message}); nothing was relayed`);
        return json(499, { error: 'client_closed_request', message: 'the request body ended before it was complete; nothing was relayed' }, cors);
      }
      // The sender learns no more than that it failed; the log has the error and where it was thrown.
      const where = (e?.stack || String(e)).split('\n').slice(0, 2).map((l) => l.trim()).join(' ');
      return trouble(request, state.config, 500, 'internal', 'unexpected error; nothing was relayed', cors, ` (${where})`);
    }
  }

  /**
   * The Cloudflare Queue consumer. A batch's payloads for one experiment go to MLflow as one
   * request, up to RELAY_BATCH_BYTES: OTLP protobuf messages laid end to end are one message
   * holding all their spans (a repeated field's entries append), and MLflow writes one request of
   * many traces about twice as fast as the same traces one request each. A request that fails is
   * retried as the messages it carried; one MLflow refuses for good is sent again message by
   * message, so a payload it will not take holds back none of the others.
   */
  async function queueHandler(batch, env = {}) {
    const state = setup(env);
    if (state.error) {
      for (const msg of batch.messages) msg.retry({ delaySeconds: 60 });
      return;
    }
    const { groups, bad } = groupMessages(await checkedMessages(state, batch.messages), state.config.limits.relayBatchBytes);
    for (const msg of bad) {
      // Not a message this service sent: left to the queue's retries and dead-letter queue.
      stats.relayFailures++;
      console.error(`edgetrace ingest: queue message ${msg.id} is not {experimentId, payload}; retried until the dead-letter queue takes it`);
      msg.retry({ delaySeconds: 300 });
    }
    await Promise.all(groups.map((g) => relayGroup(state.config, g)));
  }

  // The messages of requests accepted while MLflow could not answer their trace lookups carry
  // those trace ids (`unchecked`): each is looked up now, before anything is relayed. A message
  // with a trace MLflow has in another experiment is dropped (acked, logged, counted in
  // `droppedForeignTraces`); one whose lookup MLflow still cannot answer waits for the next
  // delivery. The rest go on to be relayed.
  async function checkedMessages(state, messages) {
    const { config } = state;
    const kept = [];
    // Once MLflow has not answered one lookup, the batch's other unchecked messages wait too,
    // without a lookup each: one that hangs would otherwise cost its timeout per message.
    let down = null;
    for (const msg of messages) {
      const { experimentId, unchecked } = msg.body || {};
      if (!Array.isArray(unchecked) || !unchecked.length || !config.limits.checkTraceOwners || experimentId == null) {
        kept.push(msg);
        continue;
      }
      let foreign;
      try {
        if (down) throw down;
        foreign = await state.owners.foreign(config, String(experimentId), unchecked, fetchImpl);
      } catch (e) {
        if (!e?.unreachable && !e?.refused) throw e;
        if (!down) {
          stats.relayFailures++;
          log.warn(`edgetrace ingest: queued spans wait for their trace lookups, which MLflow did not answer: ${e.unreachable || e.refused.error}; retried`);
        }
        down = e;
        msg.retry({ delaySeconds: retryDelay(config, msg) });
        continue;
      }
      if (foreign) {
        stats.droppedForeignTraces++;
        log.warn(`edgetrace ingest: dropped queued spans for experiment ${experimentId}: trace tr-${foreign.id} is in another experiment (accepted while MLflow could not be asked)`);
        msg.ack();
        continue;
      }
      kept.push(msg);
    }
    return kept;
  }

  const retryDelay = (config, msg) => {
    const base = config.limits.queueRetryDelaySeconds;
    return base > 0 ? base : Math.min(300, 2 ** Math.min(msg.attempts || 1, 8));
  };

  // One group of a queue batch: one request (postJoined), then each message acked or retried by
  // its payload's outcome. A request that failed counts in `relayFailures`.
  async function relayGroup(config, group) {
    const post = async (payload) => {
      const r = counted(await postOnce(config, group.experimentId, payload, fetchImpl));
      if (!r.ok) {
        stats.relayFailures++;
        log.warn(`edgetrace ingest: a queue relay to experiment ${group.experimentId} failed: ${r.error}${r.retryable ? '' : refusalHint(r.status, r.notMlflow)}; its messages are retried`);
      }
      return r;
    };
    const results = await postJoined(post, group.payloads);
    group.messages.forEach((msg, i) => {
      if (results[i].ok) {
        stats.relayedPayloads++;
        msg.ack();
      } else {
        msg.retry({ delaySeconds: retryDelay(config, msg) });
      }
    });
  }

  return { fetch: fetchHandler, queue: queueHandler, stats, configuration };
}

/**
 * The message of a configuration the wasm core refused (IngestConfig::from_json, a redaction
 * pattern): without the core's own "invalid configuration: " prefix (the log line and the
 * answers add theirs), and with the variables' names instead of the core's.
 */
function coreConfigError(e) {
  let message = String(e?.message || e).replace(/^(invalid configuration:\s*)+/i, '');
  if (/^redaction pattern /.test(message)) message = `REDACT_PATTERNS: ${message}`;
  for (const [name, variable] of Object.entries(CORE_SETTINGS)) message = message.replaceAll(name, variable);
  return message;
}

const asBytes = (p) => (p instanceof Uint8Array ? p : ArrayBuffer.isView(p) ? new Uint8Array(p.buffer, p.byteOffset, p.byteLength) : p instanceof ArrayBuffer ? new Uint8Array(p) : null);

/**
 * A queue batch's messages as groups to relay: by experiment, in order, each group's payloads at
 * most `maxBytes` together (a payload bigger than that goes alone; 0: one message a group).
 * Messages that are not `{experimentId, payload: bytes}` (this service never sends such) come
 * back in `bad`.
 */
export function groupMessages(messages, maxBytes) {
  const open = new Map();
  const groups = [];
  const bad = [];
  for (const msg of messages) {
    const { experimentId, payload } = msg.body || {};
    const bytes = asBytes(payload);
    if (!bytes || experimentId === undefined || experimentId === null) {
      bad.push(msg);
      continue;
    }
    const id = String(experimentId);
    let g = open.get(id);
    if (!g || maxBytes === 0 || g.bytes + bytes.length > maxBytes) {
      g = { experimentId: id, messages: [], payloads: [], bytes: 0 };
      groups.push(g);
      open.set(id, g);
    }
    g.messages.push(msg);
    g.payloads.push(bytes);
    g.bytes += bytes.length;
  }
  return { groups, bad };
}
