// Relaying protobuf payloads to MLflow's OTLP endpoint, with retries and backoff.

const RETRYABLE = (s) => s === 429 || s >= 500;

/** `: <MLflow's message>` from a refusal's body (its JSON `message`, else its text), or ''. */
function reasonOf(text) {
  let reason = text.trim();
  try {
    const m = JSON.parse(reason)?.message;
    if (typeof m === 'string') reason = m;
  } catch {
    /* not JSON: the text as it is */
  }
  return reason ? `: ${reason.slice(0, 300)}` : '';
}

/**
 * Posts one payload to `{MLFLOW_TRACKING_URI}/v1/traces`.
 * @returns {Promise<{ok: boolean, status: number, retryable: boolean, error?: string}>}
 */
/** The headers of every request to MLflow: its credentials, when the service has some. */
export const mlflowHeaders = (config, headers = {}) => (config.auth ? { ...headers, authorization: config.auth } : headers);

/** Why a request to MLflow got no answer (`fetch` threw, or timed out). */
export const unreachable = (e) => `MLflow unreachable: ${e?.name === 'TimeoutError' ? 'timed out' : e?.message || e}`;

export async function postOnce(config, experimentId, payload, fetchImpl = fetch) {
  const headers = mlflowHeaders(config, { 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': experimentId });
  try {
    const res = await fetchImpl(`${config.mlflowUri}/v1/traces`, {
      method: 'POST',
      headers,
      body: payload,
      signal: config.limits.relayTimeoutMs > 0 ? AbortSignal.timeout(config.limits.relayTimeoutMs) : undefined,
    });
    // MLflow answers with an empty protobuf body; read it so the connection is reused. A refusal
    // says why (`{"error_code": …, "message": "No Experiment with id=… exists"}`): its message
    // goes into the error, cut to 300 characters.
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true, status: res.status, retryable: false };
    return { ok: false, status: res.status, retryable: RETRYABLE(res.status), error: `MLflow answered ${res.status}${reasonOf(text)}` };
  } catch (e) {
    return { ok: false, status: 0, retryable: true, error: unreachable(e) };
  }
}

/** Posts with up to `relayAttempts` tries, backing off 100 ms, 200 ms, … with full jitter. */
export async function relay(config, experimentId, payload, fetchImpl = fetch) {
  let last;
  for (let attempt = 0; attempt < config.limits.relayAttempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    last = await postOnce(config, experimentId, payload, fetchImpl);
    if (last.ok || !last.retryable) return last;
  }
  return last;
}
