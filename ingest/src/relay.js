// Relaying protobuf payloads to MLflow's OTLP endpoint, with retries and backoff.

const RETRYABLE = (s) => s === 429 || s >= 500;

/**
 * What an answer's body says, for a message: MLflow's own `message` when it is MLflow's JSON
 * error (`{"error_code": …, "message": …}`), the title of an HTML page, else the text, on one
 * line and cut to 300 characters. `fromMlflow` is false when the body is not MLflow's JSON: a
 * 404 that is not is no unknown experiment or trace but a URL that is not MLflow's API.
 * @returns {{reason: string, fromMlflow: boolean}}
 */
function readAnswer(text) {
  const trimmed = (text || '').trim();
  let parsed;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    parsed = undefined;
  }
  const fromMlflow = Boolean(parsed && typeof parsed === 'object' && typeof parsed.error_code === 'string');
  let reason = trimmed;
  if (typeof parsed?.message === 'string') reason = parsed.message;
  else if (/^<(!doctype|html|head|body|\?xml)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    reason = title ? `an HTML page, "${title}"` : 'an HTML page';
  }
  return { reason: reason.replace(/\s+/g, ' ').slice(0, 300), fromMlflow };
}

/**
 * A refusal's account: `MLflow answered <status><what>: <reason>` (readAnswer's reason), the
 * reason alone, and whether the body is MLflow's JSON.
 * @returns {{error: string, reason: string, fromMlflow: boolean}}
 */
export function answered(status, text, what = '') {
  const { reason, fromMlflow } = readAnswer(text);
  return { error: `MLflow answered ${status}${what}${reason ? `: ${reason}` : ''}`, reason, fromMlflow };
}

/** The headers of every request to MLflow: its credentials, when the service has some. */
export const mlflowHeaders = (config, headers = {}) => (config.auth ? { ...headers, authorization: config.auth } : headers);

/** Why a request to MLflow got no answer (`fetch` threw, or timed out). */
export const unreachable = (e) => `MLflow unreachable: ${e?.name === 'TimeoutError' ? 'timed out' : e?.message || e}`;

/**
 * Posts one payload to `{MLFLOW_TRACKING_URI}/v1/traces`. `notMlflow`: MLflow's answer was a 404
 * that is not MLflow's JSON (MLFLOW_TRACKING_URI is not an MLflow server's base URL).
 * @returns {Promise<{ok: boolean, status: number, retryable: boolean, error?: string, notMlflow?: boolean}>}
 */
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
    const { error, fromMlflow } = answered(res.status, text);
    return {
      ok: false,
      status: res.status,
      retryable: RETRYABLE(res.status),
      error,
      ...(res.status === 404 && !fromMlflow ? { notMlflow: true } : {}),
    };
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
