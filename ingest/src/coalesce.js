// Direct mode: requests relaying to one MLflow experiment at the same time share requests to
// MLflow (group commit). A request that finds no relay in flight sends its payload at once; one
// that finds one waits for it, and the next relay carries every payload waiting by then, laid end
// to end as one OTLP protobuf message (a repeated field's entries append). Each request still
// answers only once MLflow has taken its spans, and with the outcome of the relay that carried
// them. MLflow writes one request of many traces two to three times as fast as the same traces one
// request each, so under load more spans reach it and fewer requests wait.
//
// No request depends on another staying alive. The relay in flight belongs to the request that
// sent it; in workerd, a request's I/O ends with it (a client that hangs up cancels it), and then
// its relay never settles. So a wait is bounded (`staleMs`, longer than a relay with all its
// retries can take): after it, the relay is taken as lost, and its payloads are sent again by a
// request still waiting. MLflow overwrites a span sent twice, so a late second copy is harmless.

/**
 * @typedef {{ok: boolean, status: number, retryable: boolean, error?: string}} RelayResult
 */
export class Coalescer {
  /**
   * @param {(payload: Uint8Array) => Promise<RelayResult>} post  one relay (its retries included)
   * @param {{maxBytes: number, staleMs: number}} o  maxBytes: the most one relay carries (a payload
   *   bigger than that goes alone; 0: one payload a relay)
   */
  constructor(post, { maxBytes, staleMs }) {
    this.post = post;
    this.maxBytes = maxBytes;
    this.staleMs = staleMs;
    this.pending = []; // entries not yet carried by a relay, in arrival order
    this.current = null; // the relay in flight: { done: Promise }
  }

  /** Relays `payload`, alone or with others; resolves with the outcome of the relay that carried it. */
  async relay(payload) {
    const entry = { payload, result: null, carrier: null };
    this.pending.push(entry);
    for (;;) {
      if (entry.result) return entry.result;
      // Carried by a relay that was lost (it settled without an outcome, or went stale): waiting
      // again. So whenever nothing is in flight, this entry is among the waiting.
      if (entry.carrier && entry.carrier !== this.current) {
        entry.carrier = null;
        this.pending.push(entry);
      }
      const cur = this.current;
      if (!cur) {
        this.start();
        continue;
      }
      if (!(await settlesWithin(cur.done, this.staleMs)) && this.current === cur) this.current = null;
    }
  }

  // Starts a relay of the waiting payloads, oldest first, up to maxBytes.
  start() {
    const group = [];
    let bytes = 0;
    while (this.pending.length) {
      const next = this.pending[0].payload.length;
      if (group.length && (this.maxBytes === 0 || bytes + next > this.maxBytes)) break;
      group.push(this.pending.shift());
      bytes += next;
    }
    const relay = { done: null };
    for (const e of group) e.carrier = relay;
    relay.done = this.send(group, relay);
    this.current = relay;
  }

  async send(group, relay) {
    try {
      const results = await postJoined(this.post, group.map((e) => e.payload));
      group.forEach((e, i) => {
        e.result = results[i];
      });
    } finally {
      if (this.current === relay) this.current = null;
    }
  }
}

/**
 * Sends `payloads` as one request with `post`. When MLflow refuses it for good and it carried
 * several, each goes again on its own, so one payload MLflow will not take fails no other.
 * Resolves with each payload's outcome, in order. Used by both modes: the direct-mode relays
 * above and the queue consumer's.
 * @param {(payload: Uint8Array) => Promise<RelayResult>} post
 * @param {Uint8Array[]} payloads
 * @returns {Promise<RelayResult[]>}
 */
export async function postJoined(post, payloads) {
  const r = await post(join(payloads));
  if (r.ok || r.retryable || payloads.length === 1) return payloads.map(() => r);
  const results = [];
  for (const p of payloads) results.push(await post(p));
  return results;
}

/** Payloads end to end: one OTLP protobuf message with all their spans (one payload as it is). */
export function join(payloads) {
  if (payloads.length === 1) return payloads[0];
  const out = new Uint8Array(payloads.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// Whether `promise` settles (either way) within `ms`; the timer is cleared when it does.
function settlesWithin(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true, () => true),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
