// Which experiment a trace id belongs to in MLflow, before spans of it are relayed.
//
// MLflow files a span under the experiment of the trace that already has its trace id, whatever
// experiment the request names. Trace ids are chosen by the sender, and known to whoever takes
// part in the trace (a page continues into a backend with its `traceparent`), so without this a
// public key bound to one experiment could add spans to, and rewrite the spans of, another
// experiment's trace. Each trace id the isolate has not seen yet is looked up
// (`GET /api/3.0/mlflow/traces/tr-<id>`): unknown to MLflow, or in the key's experiment, it is
// remembered as the key's; in another experiment, the request is refused.

import { mlflowHeaders, unreachable } from './relay.js';

/** Trace ids remembered per isolate (oldest forgotten first). */
export const REMEMBERED_TRACES = 10_000;
/** The longest a lookup may take. */
const LOOKUP_TIMEOUT_MS = 3000;
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
   * `{ id, experimentId }`, or null when there is none. Throws `{ unreachable: message }` when
   * MLflow cannot answer (the request cannot be checked).
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

/** The experiment id of trace `id` in MLflow, or null when MLflow has no such trace. */
export async function lookup(config, id, fetchImpl) {
  let res;
  try {
    res = await fetchImpl(`${config.mlflowUri}/api/3.0/mlflow/traces/tr-${id}`, {
      headers: mlflowHeaders(config),
      // A lookup is small: a hung MLflow is given up on sooner than a relay.
      signal: AbortSignal.timeout(Math.min(config.limits.relayTimeoutMs || LOOKUP_TIMEOUT_MS, LOOKUP_TIMEOUT_MS)),
    });
  } catch (e) {
    throw { unreachable: unreachable(e) };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 404) return null;
  if (!res.ok) throw { unreachable: `MLflow answered ${res.status} to a trace lookup` };
  let owner;
  try {
    owner = JSON.parse(text)?.trace?.trace_info?.trace_location?.mlflow_experiment?.experiment_id;
  } catch {
    owner = undefined;
  }
  if (typeof owner !== 'string') throw { unreachable: 'MLflow answered a trace lookup without its experiment' };
  return owner;
}
