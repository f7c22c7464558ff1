// Per-key rate limits. In-isolate token buckets by default (each Worker isolate counts on its
// own, so the real limit on Cloudflare is per isolate); with a Cloudflare rate limiting binding
// (`RATE_LIMITER`, see README) the limit is enforced across Cloudflare's network.

export class TokenBuckets {
  /** @param {number} perMinute  requests per key per minute, also the burst size; 0 turns it off */
  constructor(perMinute, now = () => Date.now()) {
    this.perMinute = perMinute;
    this.now = now;
    this.buckets = new Map();
  }

  /**
   * Takes one token for `key`; returns 0 when allowed, else the seconds until one is free.
   * @param {number|null} [perMinute]  this key's own limit, overriding the default
   */
  take(key, perMinute = null) {
    const limit = perMinute ?? this.perMinute;
    if (limit <= 0) return 0;
    const t = this.now();
    const rate = limit / 60_000; // tokens per ms
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 10_000) this.buckets.clear(); // keys are few; bound memory anyway
      b = { tokens: limit, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(limit, b.tokens + (t - b.at) * rate);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }
}

/** Asks the Cloudflare binding when configured, else the in-isolate buckets. */
export async function limited(env, buckets, key, perMinute = null) {
  if (env.RATE_LIMITER && typeof env.RATE_LIMITER.limit === 'function') {
    const { success } = await env.RATE_LIMITER.limit({ key });
    return success ? 0 : 60;
  }
  return buckets.take(key, perMinute);
}
