// The benchmark scenarios, written once against two small adapters (edgetrace and OpenTelemetry
// JS) so Node, Chromium and workerd run exactly the same code. Each scenario is one "op" that
// makes `spans` spans; the runners time many ops and divide.
export const ATTRS = { 'app.a': 'alpha', 'app.b': 'bravo', 'app.c': 'charlie', 'app.d': 'delta', 'app.e': 'echo' };
export const DEPTH = 10;

export const SCENARIOS = [
  { id: 'root5', title: 'root span with 5 string attributes', spans: 1, async: false },
  { id: 'nested', title: 'root with 10 nested children (sync)', spans: DEPTH + 1, async: false },
  { id: 'nestedAsync', title: 'root with 10 nested children (async, awaits)', spans: DEPTH + 1, async: true },
  // Each child is given its parent: both libraries then keep it across `await` with no context
  // lookup (OpenTelemetry web without Zone.js, and edgetrace without AsyncLocalStorage, included).
  { id: 'nestedAsyncParent', title: '… async, each child given its parent explicitly', spans: DEPTH + 1, async: true },
  { id: 'nestedJson', title: '… async, with the OTLP JSON payload built', spans: DEPTH + 1, async: true, export: 'json' },
  { id: 'nestedProto', title: '… async, with the OTLP protobuf payload built', spans: DEPTH + 1, async: true, export: 'protobuf' },
];

/** Ops per round for `sc`: the lone-root scenario runs 11× as many ops as the others, so every
 * round makes the same number of spans (and a round of it is not over before GC timing matters). */
export const opsFor = (sc, ops) => Math.max(1, Math.round((ops * (DEPTH + 1)) / sc.spans));

/** edgetrace set up for one scenario (`exportKind`: null, 'json' or 'protobuf'), the same in every
 * runtime: a fetch that only counts the bytes it is handed. The payload scenarios batch by the
 * defaults, as OpenTelemetry's BatchSpanProcessor does (512 spans a batch): edgetrace's cap on a
 * body is its runtime's, 60,000 bytes in browsers and 1,000,000 in Node and Workers. */
export function edgetraceInit(api, exportKind) {
  let bytes = 0;
  api.init({
    endpoint: 'http://bench.invalid',
    format: exportKind === 'json' ? 'json' : 'protobuf',
    fetch: async (_url, init) => {
      bytes += init.body.length;
      return new Response(null, { status: 200 });
    },
    flushIntervalMs: 3_600_000,
    maxQueueSpans: 1_000_000,
    maxQueueBytes: 1 << 30,
    ...(exportKind ? {} : { maxBatchSpans: 1_000_000, maxExportBytes: 1 << 30 }),
    logger: { warn() {} },
  });
  return { drain: () => api.flush(), bytes: () => bytes };
}

/**
 * One timed round of edgetrace in `scenarioId`: `ops` ops, and the export when the scenario builds
 * the payload. Returns the elapsed ms by `now` and `drain`, which the caller runs after timing
 * (it empties the buffer-only scenarios' queue, unexported while timed). `beforeTiming` runs
 * after the set-up, just before the clock starts (the profiler starts there).
 */
export async function edgetraceRound(api, scenarioId, ops, now, beforeTiming = async () => {}) {
  const sc = SCENARIOS.find((s) => s.id === scenarioId);
  const h = edgetraceInit(api, sc.export);
  await beforeTiming();
  const t0 = now();
  await timeOps(edgetraceOps(api)[scenarioId], ops, sc.async, now);
  if (sc.export) await h.drain();
  return { ms: now() - t0, drain: sc.export ? async () => {} : h.drain, bytes: h.bytes };
}

/** edgetrace: `api` is the package's exports. */
export function edgetraceOps(api) {
  const { withSpan } = api;
  const nestSync = (d) => withSpan((s) => {
    s.setAttributes(ATTRS);
    if (d > 0) nestSync(d - 1);
  }, { name: d === DEPTH ? 'root' : 'child' });
  const nestAsync = (d) => withSpan(async (s) => {
    s.setAttributes(ATTRS);
    await null;
    if (d > 0) await nestAsync(d - 1);
  }, { name: d === DEPTH ? 'root' : 'child' });
  const nestAsyncParent = (d, parent) => withSpan(async (s) => {
    s.setAttributes(ATTRS);
    await null;
    if (d > 0) await nestAsyncParent(d - 1, s);
  }, { name: d === DEPTH ? 'root' : 'child', parent });
  return {
    root5: () => withSpan((s) => {
      s.setAttributes(ATTRS);
    }, { name: 'root' }),
    nested: () => nestSync(DEPTH),
    nestedAsync: () => nestAsync(DEPTH),
    nestedAsyncParent: () => nestAsyncParent(DEPTH, null),
    nestedJson: () => nestAsync(DEPTH),
    nestedProto: () => nestAsync(DEPTH),
  };
}

/** OpenTelemetry JS: `tracer` from a provider with a context manager; `api`, `@opentelemetry/api`
 * (its `trace` and `ROOT_CONTEXT`, for the explicit-parent scenario). */
export function otelOps(tracer, api) {
  const nestSync = (d) => tracer.startActiveSpan(d === DEPTH ? 'root' : 'child', (s) => {
    s.setAttributes(ATTRS);
    if (d > 0) nestSync(d - 1);
    s.end();
  });
  const nestAsync = (d) => tracer.startActiveSpan(d === DEPTH ? 'root' : 'child', async (s) => {
    s.setAttributes(ATTRS);
    await null;
    if (d > 0) await nestAsync(d - 1);
    s.end();
  });
  const nestAsyncParent = (d, ctx) => tracer.startActiveSpan(d === DEPTH ? 'root' : 'child', {}, ctx, async (s) => {
    s.setAttributes(ATTRS);
    await null;
    if (d > 0) await nestAsyncParent(d - 1, api.trace.setSpan(ctx, s));
    s.end();
  });
  return {
    root5: () => tracer.startActiveSpan('root', (s) => {
      s.setAttributes(ATTRS);
      s.end();
    }),
    nested: () => nestSync(DEPTH),
    nestedAsync: () => nestAsync(DEPTH),
    nestedAsyncParent: () => nestAsyncParent(DEPTH, api.ROOT_CONTEXT),
    nestedJson: () => nestAsync(DEPTH),
    nestedProto: () => nestAsync(DEPTH),
  };
}

/** Runs `op` n times (awaiting when async); returns elapsed ms by `now`. */
export async function timeOps(op, n, isAsync, now) {
  const t0 = now();
  if (isAsync) for (let i = 0; i < n; i++) await op();
  else for (let i = 0; i < n; i++) op();
  return now() - t0;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * `rounds` rounds of scenario `sc` after a warm-up round, each of `libraries` in turn, every other
 * round in reverse order (an even number of rounds, so of any two, each goes first in half of them).
 * `round(who, n)` runs one library's round of `n` ops and resolves with its ms. Returns ns per
 * span of each counted round for each library, and the ratio of edgetrace's median to
 * OpenTelemetry's.
 */
export async function alternateRounds(sc, rounds, ops, round, libraries = ['edgetrace', 'otel']) {
  const r = Object.fromEntries(libraries.map((who) => [who, []]));
  const n = opsFor(sc, ops);
  for (let i = 0; i < rounds + 1; i++) {
    // Every other round in reverse order: any two libraries alternate which goes first.
    for (let j = 0; j < libraries.length; j++) {
      const who = libraries[i % 2 ? libraries.length - 1 - j : j];
      const ms = await round(who, n);
      if (i > 0) r[who].push((ms * 1e6) / (n * sc.spans)); // round 0 warms up
    }
  }
  r.ratio = median(r.edgetrace) / median(r.otel);
  return r;
}
