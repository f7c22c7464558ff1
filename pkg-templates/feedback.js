// `logFeedback`: an assessment of a trace (a user's thumbs up, a rating, a judge's verdict) sent
// to MLflow, as MLflow's Python `mlflow.log_feedback` does. A module of its own
// (`edgetrace/feedback`), so that the up-front browser entry does not carry it.
//
// It goes where the spans go: `{endpoint}/api/3.0/mlflow/traces/{trace id}/assessments`, MLflow's
// own REST route, which the ingest service serves too (checking the ingest key, and that the trace
// is in the key's experiment). The trace's spans are flushed first; MLflow refuses an assessment
// of a trace it does not hold yet (404), so a 404 is tried again for a while, as are a busy or
// down MLflow and a failed connection: a trace relayed through a queue reaches MLflow a little
// later. All of it within `timeoutMs` (15 s).
//
// It never rejects and never throws: it resolves `{ assessmentId }`, or `{ error }` with the
// reason, which is also warned about.

import { _internal, flush, getLastActiveTraceId } from './edgetrace.js';

const SOURCES = ['HUMAN', 'LLM_JUDGE', 'CODE'];
/** The waits before each retry, in ms, within the call's `timeoutMs`. */
const RETRY_MS = [250, 500, 1000, 2000, 4000];
/** The longest a call takes, flush and retries included, unless `timeoutMs` says otherwise. */
const TIMEOUT_MS = 15_000;
/** MLflow's limit on an assessment's name (its database column). */
const MAX_NAME = 250;

/** The assessment MLflow's REST API takes, or a string saying what is wrong with `f`. */
function assessmentOf(f) {
  if (!f || typeof f !== 'object') return 'logFeedback takes an object: { name, value, traceId?, rationale?, source?, metadata?, spanId? }';
  const raw = f.traceId ?? getLastActiveTraceId();
  if (raw == null) return 'no traceId was given and no trace has been started here';
  const m = /^(?:tr-)?([0-9a-f]{32})$/i.exec(String(raw));
  if (!m || /^0+$/.test(m[1])) return `traceId must be MLflow's "tr-" and 32 hex digits (as getLastActiveTraceId() gives it) or the 32 hex digits, not ${JSON.stringify(String(raw))}`;
  const name = f.name ?? 'feedback';
  if (typeof name !== 'string' || !name.trim() || name.length > MAX_NAME) return `name must be a non-empty string of at most ${MAX_NAME} characters, not ${JSON.stringify(name)}`;
  let value = f.value;
  if (value === undefined) return 'value is missing (a boolean, number, string, array or object)';
  if (typeof value === 'number' && !Number.isFinite(value)) return `value must be a finite number, not ${value}`;
  if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') return `value cannot be a ${typeof value}`;
  if (value !== null && typeof value === 'object') {
    try {
      value = JSON.parse(JSON.stringify(value));
    } catch (e) {
      return `value cannot be written as JSON: ${e?.message || e}`;
    }
  }
  const a = {
    assessment_name: name,
    trace_id: `tr-${m[1].toLowerCase()}`,
    source: { source_type: 'HUMAN', source_id: 'default' },
    feedback: { value },
  };
  if (f.spanId != null) {
    if (!/^[0-9a-f]{16}$/i.test(String(f.spanId))) return `spanId must be 16 hex digits (a span's spanId), not ${JSON.stringify(String(f.spanId))}`;
    a.span_id = String(f.spanId).toLowerCase();
  }
  const s = f.source;
  if (s != null) {
    const type = typeof s === 'string' ? s : s.type ?? 'HUMAN';
    if (!SOURCES.includes(type)) return `source.type must be one of ${SOURCES.join(', ')}, not ${JSON.stringify(type)}`;
    a.source = { source_type: type, source_id: String((typeof s === 'object' && s.id) || 'default') };
  }
  if (f.rationale != null) a.rationale = String(f.rationale);
  if (f.metadata != null) {
    if (typeof f.metadata !== 'object' || Array.isArray(f.metadata)) return 'metadata must be an object of strings';
    a.metadata = {};
    for (const [k, v] of Object.entries(f.metadata)) a.metadata[k] = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  }
  return a;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** MLflow's (or the ingest service's) reason from an answer's body, cut to 300 characters. */
function reasonOf(status, text) {
  let reason = text.trim();
  try {
    const m = JSON.parse(reason)?.message;
    if (typeof m === 'string') reason = m;
  } catch {
    /* the text as it is */
  }
  return `${status}${reason ? `: ${reason.slice(0, 300)}` : ''}`;
}

/** Why `fetch` failed, with its cause (Node's "fetch failed" says why only there). */
const whyFailed = (e) => `${e?.message || e}${e?.cause ? ` (${e.cause.code || e.cause.message || e.cause})` : ''}`;

/**
 * @param {import('./feedback.d.ts').Feedback} feedback
 * @returns {Promise<import('./feedback.d.ts').FeedbackResult>}
 */
export async function logFeedback(feedback) {
  const fail = (error) => {
    _internal.warn(`logFeedback: ${error}`);
    return { error };
  };
  try {
    const a = assessmentOf(feedback);
    if (typeof a === 'string') return fail(a);
    const timeoutMs = feedback.timeoutMs ?? TIMEOUT_MS;
    if (!(timeoutMs > 0)) return fail(`timeoutMs must be a positive number of ms, not ${timeoutMs}`);
    const st = _internal.state();
    // The last trace started here, left out by sampling: MLflow will never have it (as MLflow's
    // Python log_feedback finds no trace), so there is nothing to wait for.
    const last = st.lastTrace;
    if (last && `tr-${last.traceId}` === a.trace_id && !_internal.sampled(last)) {
      return fail(`trace ${a.trace_id} was not recorded (sampleRatio ${st.options.sampleRatio} left it out), so MLflow will never have it`);
    }
    const exporter = st.exporter;
    const url = exporter?.url();
    if (!url || !exporter.fetch) return fail('init() has no endpoint, so there is no MLflow to send feedback to');
    const target = `${url.slice(0, -'/v1/traces'.length)}/api/3.0/mlflow/traces/${a.trace_id}/assessments`;
    const deadline = Date.now() + timeoutMs;
    const left = () => deadline - Date.now();
    const within = (p) => {
      let timer;
      return Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.min(2 ** 31 - 1, Math.max(0, left())))))]).finally(() => clearTimeout(timer));
    };
    // The trace's spans first, for as long as the whole may take.
    await within(flush());
    const body = JSON.stringify({ assessment: a });
    let reason = '';
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let text = '';
      let timedOut = false;
      try {
        const res = await exporter.fetch(target, {
          method: 'POST',
          headers: exporter.headers('json'),
          body,
          signal: typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(Math.min(2 ** 31 - 1, Math.max(1, left()))) : undefined,
        });
        status = res.status;
        text = await res.text();
        if (res.ok) {
          const id = JSON.parse(text)?.assessment?.assessment_id;
          if (typeof id === 'string') return { assessmentId: id };
          return fail(`${target} answered ${status} without an assessment id: is the endpoint MLflow or the edgetrace ingest service?`);
        }
        reason = `${target} answered ${reasonOf(status, text)}`;
      } catch (e) {
        timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
        reason = `${target} did not answer${timedOut ? ` within ${timeoutMs} ms` : `: ${whyFailed(e)}`}`;
      }
      // Tried again only where the feedback was surely not stored: MLflow does not have the trace
      // yet (a 404 that says so, not a route's), it is busy or down (429, 503), or the connection
      // failed. Not after a timeout, a 500, 502 or 504 (a gateway's, or the ingest service's own
      // for MLflow's): MLflow may have stored it, and a second post would store it twice.
      const missing = status === 404 && /RESOURCE_DOES_NOT_EXIST|trace_not_found/.test(text);
      const again = (status === 0 && !timedOut) || missing || status === 429 || status === 503;
      const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
      if (!again || left() <= wait) {
        // (The ingest service's own answer says so already.)
        if (missing && !text.includes('trace_not_found')) reason += ` (MLflow has no trace ${a.trace_id}: it was not exported, or not yet)`;
        return fail(reason);
      }
      await sleep(wait);
    }
  } catch (e) {
    return fail(`failed: ${e?.message || e}`);
  }
}
