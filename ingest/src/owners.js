// Which experiment a trace id belongs to in MLflow, before spans of it are relayed.
//
// MLflow files a span under the experiment of the trace that already has its trace id, whatever
// experiment the request names. Trace ids are chosen by the sender, and known to whoever takes
// part in the trace (a page continues into a backend with its `traceparent`), so without this a
// public key bound to one experiment could add spans to, and rewrite the spans of, another
// experiment's trace. Each trace id the isolate has not seen yet is looked up
// (`GET /api/3.0/mlflow/traces/tr-<id>`): unknown to MLflow, or in the key's experiment, it is
// remembered as the key's; in another experiment, the request is refused. A lookup may take
// OWNER_LOOKUP_TIMEOUT_MS (config.js, ingest/README.md).

import { answered, mlflowHeaders, unreachable } from './relay.js';

/** Trace ids remembered per isolate (oldest forgotten first). */
export const REMEMBERED_TRACES = 10_000;
/** Lookups in flight at once for one request. */
const PARALLEL = 8;

export class TraceOwners {
  constructor(limit = REMEMBERED_TRACES) {
    this.limit = limit;
    this.known = new Map(); // trace id (hex) → experiment id
  }

  remember(id, experimentId) {
    this.known.delete(id);
    this.known.set(id, experimentId);
    if (this.known.size > this.limit) this.known.delete(this.known.keys().next().value);
  }

  /**
   * The first of `ids` that MLflow has in another experiment than `experimentId`:
   * `{ id, experimentId }`, or null when there is none. Throws what `lookup` throws.
   */
  async foreign(config, experimentId, ids, fetchImpl = fetch) {
    const unknown = [];
    for (const id of ids) {
      const owner = this.known.get(id);
      if (owner === undefined) unknown.push(id);
      else if (owner !== experimentId) return { id, experimentId: owner };
    }
    let found = null;
    for (let i = 0; i < unknown.length && !found; i += PARALLEL) {
      const owners = await Promise.all(unknown.slice(i, i + PARALLEL).map((id) => lookup(config, id, fetchImpl)));
      owners.forEach((owner, j) => {
        const id = unknown[i + j];
        // Not in MLflow yet: it becomes this experiment's once relayed.
        this.remember(id, owner ?? experimentId);
        if (!found && owner !== null && owner !== experimentId) found = { id, experimentId: owner };
      });
    }
    return found;
  }
}

/**
 * The experiment id of trace `id` in MLflow, or null when MLflow has no such trace. Throws
 * `{ unreachable: message }` when MLflow gives no usable answer in time (worth trying again), and
 * `{ refused: { status, error, notMlflow? } }` when it refuses for good: 401 or 403 (the ingest
 * service's credentials), or an answer that is not MLflow's (`notMlflow`: a 404 or a page that is
 * not MLflow's JSON; MLFLOW_TRACKING_URI is not an MLflow server's base URL).
 */
export async function lookup(config, id, fetchImpl) {
  const timeoutMs = config.limits.ownerLookupTimeoutMs;
  let res;
  let text;
  try {
    res = await fetchImpl(`${config.mlflowUri}/api/3.0/mlflow/traces/tr-${id}`, {
      headers: mlflowHeaders(config),
      signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined,
    });
    text = await res.text();
  } catch (e) {
    if (e?.name === 'TimeoutError') throw { unreachable: `MLflow did not answer a trace lookup within ${timeoutMs} ms (OWNER_LOOKUP_TIMEOUT_MS)` };
    throw { unreachable: unreachable(e) };
  }
  const { error, reason, fromMlflow } = answered(res.status, text, ' to a trace lookup');
  if (res.status === 404) {
    if (fromMlflow) return null;
    throw { refused: { status: 404, error, notMlflow: true } };
  }
  if (res.status === 401 || res.status === 403) throw { refused: { status: res.status, error } };
  if (!res.ok) throw { unreachable: error };
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    // A 200 that is not JSON (a web app's page for any path): not MLflow's API.
    throw { refused: { status: res.status, error: `MLflow answered a trace lookup with ${reason ? reason : 'an empty body'}, not MLflow's JSON`, notMlflow: true } };
  }
  const owner = body?.trace?.trace_info?.trace_location?.mlflow_experiment?.experiment_id;
  if (typeof owner !== 'string') throw { unreachable: 'MLflow answered a trace lookup without its experiment' };
  return owner;
}
