// edgetrace's public API, the same on every runtime. The entry for each runtime (node.js,
// browser.js, workerd.js) loads the wasm core its own way and hands this module a loader and,
// where the runtime has one, AsyncLocalStorage.
//
// Hot path: no call into wasm per span. Starts, attributes, inputs, outputs and ends are recorded
// into a buffer in the core's memory (recorder.js) that the core applies in one call; every other
// call into the core applies what was recorded first (`core()`).

import { base as serverOf, Exporter } from './exporter.js';
import { attrCommand, configBytes, CORE_AT, eventCommand, fillRandom, makeClock, OP, parseTraceparent, Recorder, STATS_LEN, textsCommand, traceCommand, idHex } from './recorder.js';
import { errText, safeStringify } from './safe-json.js';
import { BODY_END_NAMES, BodyEnd, watchBody } from './stream.js';

/** MLflow's span types (`mlflow.entities.SpanType`, MLflow 3.17), each named as itself. Any other
 * string is accepted as a custom type. */
export const SpanType = Object.freeze(
  Object.fromEntries(
    'LLM CHAT_MODEL CHAIN AGENT TOOL RETRIEVER EMBEDDING PARSER RERANKER MEMORY WORKFLOW TASK GUARDRAIL EVALUATOR UNKNOWN'.split(' ').map((t) => [t, t]),
  ),
);

/** Span status codes, numbered as in OTLP. */
export const SpanStatusCode = Object.freeze({ UNSET: 0, OK: 1, ERROR: 2 });

const DEFAULTS = Object.freeze({
  enabled: true,
  endpoint: undefined,
  experimentId: undefined,
  ingestKey: undefined,
  headers: undefined,
  format: 'protobuf',
  serviceName: 'edgetrace',
  resourceAttributes: undefined,
  sampleRatio: 1,
  maxQueueSpans: 2048,
  maxQueueBytes: 8 * 1024 * 1024,
  maxBatchSpans: 512,
  maxExportBytes: 60000,
  maxValueBytes: 32 * 1024,
  maxAttributes: 128,
  maxEvents: 128,
  flushIntervalMs: 1000,
  exportTimeoutMs: 10000,
  maxRetries: 8,
  initialBackoffMs: 500,
  maxBackoffMs: 30000,
  flushOnPageHide: true,
  redact: undefined,
  fetch: undefined,
  logger: undefined,
  asyncLocalStorage: undefined,
  maxConcurrentExports: 4,
  prices: undefined,
  onSpanEnd: undefined,
});


const CORE_KEYS = [
  'serviceName', 'resourceAttributes', 'sampleRatio', 'maxQueueSpans', 'maxQueueBytes',
  'maxBatchSpans', 'maxExportBytes', 'maxValueBytes', 'maxAttributes', 'maxEvents',
];

const state = {
  loader: null, // () => the wasm module's exports ({ Core, memory }), or a promise of them (browsers)
  llmLoader: null, // () => the model API parsers' class (LlmCalls), or a promise of it
  llm: null, // promise of the LlmCalls instance for the current prices (null: not loaded yet)
  llmTrapped: false, // the parsers' module trapped once: it is not called again
  wasm: null,
  wasmLoading: null, // promise of the core while it loads asynchronously (browsers), then null
  wasmFailed: false, // the asynchronous load failed (tracing is off)
  core: null, // the wasm Core (null until the wasm is loaded)
  rec: null, // the core's Recorder
  clock: null,
  defaults: DEFAULTS, // the runtime's: DEFAULTS with its entry's own (`_setRuntime`)
  options: { ...DEFAULTS },
  exporter: null,
  als: null, // AsyncLocalStorage instance, where the runtime has one
  findAls: null, // () => AsyncLocalStorage class or undefined, asked once on first use
  noAls: undefined, // the warning when findAls finds none (the runtime's entry gives it)
  check: undefined, // (options) => throws on a bad endpoint or format: the server runtimes'
  alsChecked: false,
  stack: [], // active spans of the synchronous part of the current task (fallback)
  // By runner slot: the Span (null once ended) whose async body runs in runner `__et_<slot>`. An
  // array, not a Map: a Map's set and delete per span cost Chromium's explicit-parent row a sixth
  // of its time (bench/HISTORY.md, session 38).
  asyncSpans: [],
  asyncN: 0, // slots in use
  v8Stacks: typeof Error.captureStackTrace === 'function',
  lastTrace: null, // the root span of the last trace started here
  warned: new Set(),
  lifecycleHooked: false,
  pending: new Set(), // spans that end when a response body has been read (traceFetch)
};

const PENDING_WAIT_MS = 2000;

// Says `msg` once, after `edgetrace: `, to the logger (the console by default). Every module's
// warnings come here: they are written without the prefix.
function warn(msg) {
  if (state.warned.has(msg)) return;
  state.warned.add(msg);
  try {
    (state.options.logger || console).warn('edgetrace: ' + msg);
  } catch {
    /* a logger that throws must not break the app either */
  }
}

// A value the app handed to `what` (an API call) threw while edgetrace read it (a getter or a
// proxy trap, a `toString`): warned, never thrown into the app; what was read before it is kept.
function fault(what, e) {
  warn(`a value given to ${what}() threw when read (${errText(e)}); it is left out`);
}

/** Called by the runtime entry before anything else. @internal */
export function _setRuntime({ loader, llmLoader, AsyncLocalStorage, findAsyncLocalStorage, noAsyncLocalStorage, defaults, check, same }) {
  state.loader = loader;
  state.check = check;
  state.same = same;
  state.defaults = { ...DEFAULTS, ...defaults };
  state.options = { ...state.defaults };
  state.llmLoader = llmLoader || null;
  if (AsyncLocalStorage && !state.als) state.als = new AsyncLocalStorage();
  state.findAls = findAsyncLocalStorage || null;
  state.noAls = noAsyncLocalStorage; // what to warn when findAls finds none (Workers)
}

// Workers: AsyncLocalStorage exists with nodejs_compat (found here) or nodejs_als (pass it to
// init). Asked on first use, never at module top level.
function ensureContext() {
  if (state.alsChecked) return;
  state.alsChecked = true;
  if (state.als) return;
  let Als;
  try {
    Als = state.findAls?.();
  } catch {
    Als = undefined;
  }
  if (Als) {
    state.als = new Als();
  } else if (state.noAls) {
    warn(state.noAls);
  }
}

// The wasm module: loaded synchronously where the runtime can (Node, Workers); in browsers it
// is inflated and compiled asynchronously, so the first call starts the load and gets null, and
// spans are recorded meanwhile (see Recorder) and applied once the core exists (attachCore).
function wasmNow() {
  if (state.wasm || state.wasmLoading || state.wasmFailed) return state.wasm;
  const w = state.loader(state.options);
  if (typeof w?.then !== 'function') return (state.wasm = w);
  state.wasmLoading = w.then(
    (loaded) => {
      state.wasm = loaded;
      state.wasmLoading = null;
      attachCore();
      return state.core;
    },
    (e) => {
      state.wasmLoading = null;
      state.wasmFailed = true; // not tried again: tracing is off
      tracingOff(`the wasm core failed to load: ${errText(e)}`);
      return null;
    },
  );
  return null;
}

function tracingOff(why) {
  warn(`tracing is off, ${why}`);
  state.options.enabled = false;
  state.rec = null;
  state.core = null;
}

// The core is created lazily, inside a handler: workerd forbids random numbers at top level.
// Null while the wasm loads; throws for a configuration the core refuses.
// `seed`: none where random numbers are refused (a Worker's top level): then the core is made
// only to check the configuration, and freed.
function makeCore(o, seed = fillRandom(new Uint32Array(2))) {
  if (!state.clock) state.clock = makeClock();
  if (!wasmNow()) return null;
  // Every span's ids are drawn here (Recorder.rand); the seed is for a start that carries none.
  const c = new state.wasm.Core(configBytes(o, CORE_KEYS, (v) => safeStringify(v, warn)), state.clock.origin, seed[0], seed[1]);
  // A configuration the core refuses: it says why (src/bindings.rs Core::new), and init() throws it.
  const refused = c.last_error();
  if (refused != null) {
    c.free();
    throw new Error(`edgetrace: ${refused}`);
  }
  // The core's counters (src/bindings.rs STATS, then STATE), read where it writes them: a view
  // over wasm memory, valid until the next call into the core.
  const memory = state.wasm.memory;
  c.stats = () => new Float64Array(memory().buffer, c.write_stats(), STATS_LEN);
  c._ratio = o.sampleRatio; // what it samples by (see sampled)
  return c;
}

// The asynchronously loaded wasm is ready: the core is made with the options of now, and takes
// over what was recorded while it loaded. A configuration it refuses turns tracing off (init
// could not throw it: it returned before the core existed).
function attachCore() {
  if (state.options.enabled === false || state.core) return;
  try {
    state.core = makeCore(state.options);
  } catch (e) {
    // Warned as "edgetrace: tracing is off, invalid configuration: …" (the prefix once).
    tracingOff(errText(e).replace('edgetrace: ', ''));
    return;
  }
  if (!state.rec) return;
  state.rec.attach(state.core, state.wasm.memory());
  state.exporter?.onSpanEnd();
}

// The core may keep up to half of `maxQueueBytes` of recorded commands unapplied (Recorder).
function makeRecorder(c) {
  return new Recorder(c, c && state.wasm.memory(), (flags, error) => {
    if (flags & 8) {
      warn(`tracing is off, the wasm core failed: ${errText(error)}`);
      state.options.enabled = false;
      return;
    }
    warn(state.core?.last_error() || (flags & 4 ? 'malformed recorded commands' : 'a recorded span operation failed'));
  }, state.options.maxQueueBytes / 2 || 0);
}

// The recorder, creating the core first if it can (the hot path: nothing is applied).
function recorder() {
  if (state.rec) return state.rec;
  ensureContext();
  if (!state.core) state.core = makeCore(state.options);
  state.rec = makeRecorder(state.core);
  state.exporter = newExporter(state.options);
  return state.rec;
}

// The loaded core writes OTLP/JSON unless it says it does not (the browser's default core).
const newExporter = (options) => new Exporter({
  core, ready: coreReady, options, warn, rec: () => state.rec, json: () => state.wasm?.json !== false,
});

// The core, with everything recorded so far applied: for every call but the hot path's. Null
// while the wasm loads.
function core() {
  recorder().drain();
  return state.core;
}

/** A promise of the core once it exists (null when tracing is off). */
function coreReady() {
  if (state.core || !state.wasmLoading) return Promise.resolve(state.options.enabled === false ? null : state.core);
  return state.wasmLoading.then(() => (state.options.enabled === false ? null : state.core));
}

function recOrNull() {
  try {
    return recorder();
  } catch (e) {
    tracingOff(`the wasm core failed to load: ${errText(e)}`);
    return null;
  }
}

function coreOrNull() {
  return recOrNull() && core();
}

/**
 * Configures edgetrace. Safe to call more than once; spans started before the first call are
 * kept (up to the queue limits) and exported once an endpoint is known. Returns a promise that
 * resolves when the core is ready: at once in Node and Workers; in browsers, where the core
 * compiles asynchronously, once it has (spans recorded meanwhile are kept, and flush() waits
 * for it, but a page that may leave in its first moments should await it). Never rejects.
 * @param {import('./edgetrace').InitOptions} [options]
 * @returns {Promise<void>}
 */
export function init(options = {}) {
  // A string (an endpoint given as it is) is one warning, not one per character, and changes
  // nothing.
  if (typeof options == 'string') return Promise.resolve(warn(`init() takes options ({ endpoint: '${options}' }), not a string; it is ignored`));
  const o = { ...state.defaults };
  for (const [k, v] of Object.entries(options || {})) {
    if (!(k in DEFAULTS)) warn(`unknown init option "${k}" is ignored`);
    else if (v !== undefined) o[k] = v;
  }
  // The server runtimes check the options' kinds and prices here (exporter.js checkTransport);
  // browsers, prices when the parsers load them (src/llm/cost.rs), and warn then.
  state.check?.(o, DEFAULTS);
  // The same options again (init() in each request of a Worker; the server runtimes compare them,
  // exporter.js sameOptions): nothing to do. A new core would restart the counters, and warn
  // while spans are open.
  if (state.core && state.same?.(o, state.options)) return Promise.resolve();
  if (o.prices !== state.options.prices) state.llm = null; // the parsers load again with these prices
  state.options = o;
  if (o.asyncLocalStorage && !state.als) state.als = new o.asyncLocalStorage();
  ensureContext();
  if (!o.enabled) return Promise.resolve();
  let seed;
  try {
    seed = fillRandom(new Uint32Array(2));
  } catch {
    // A Worker's top level refuses random numbers: the options are checked now, and the core is
    // made on first use, inside a handler.
    makeCore(o, [0, 0])?.free();
    return Promise.resolve();
  }
  // Validate the core configuration now, so a bad option is a clear error at init. (In browsers
  // the first init starts loading the wasm: the core is made, with the options of then, when it
  // is ready, and a bad option is warned about then.)
  const fresh = makeCore(o, seed);
  if (!fresh) {
    if (state.exporter) state.exporter.o = o;
    hookPageLifecycle();
    return coreReady().then(() => {});
  }
  const old = state.core;
  state.rec?.drain();
  if (old && old.stats()[CORE_AT.open] > 0) {
    fresh.free?.();
    warn('init() while spans are open keeps the earlier limits until they end');
    state.exporter.o = o;
  } else {
    const prev = state.exporter;
    const carried = old && prev ? prev.drain() : [];
    prev?.stop();
    state.core = fresh;
    state.rec = makeRecorder(fresh);
    state.exporter = newExporter(o);
    // flush() also waits for requests the earlier exporter still has in flight.
    const next = state.exporter;
    for (const p of prev?.inflight || []) {
      const q = p.finally(() => next.inflight.delete(q));
      next.inflight.add(q);
    }
    if (state.exporter.url()) for (const b of carried) state.exporter.start(b);
    old?.free?.();
  }
  hookPageLifecycle();
  return Promise.resolve();
}

function hookPageLifecycle() {
  if (state.lifecycleHooked || !state.options.flushOnPageHide) return;
  const w = globalThis;
  if (typeof w.addEventListener !== 'function' || typeof w.document === 'undefined') return;
  state.lifecycleHooked = true;
  const exit = () => {
    if (state.options.flushOnPageHide) state.exporter?.flushOnExit();
  };
  w.addEventListener('pagehide', exit);
  w.document.addEventListener('visibilitychange', () => {
    if (w.document.visibilityState === 'hidden') exit();
  });
}

/** Records a command from a writer (see `Recorder.write`), on its own when too big for the buffer. */
function recordWrite(cmd) {
  const r = state.options.enabled === false ? null : recOrNull();
  r?.write(cmd);
}

/** Records a command of text fields (see `textsCommand`). */
const record = (op, h, texts, code) => recordWrite(textsCommand(op, h, texts, code));

function redact(kind, value, span) {
  const r = state.options.redact;
  if (!r) return value;
  try {
    return r({ kind, value, spanName: span?.name });
  } catch (e) {
    warn(`the redact hook threw (${errText(e)}); the value is dropped`);
    return '[redaction failed]';
  }
}

/** A span: what `startSpan`, `withSpan` and `trace` give you. Misuse warns; it never throws. */
export class Span {
  /** @internal */
  constructor(handle, ctx, name) {
    this._h = handle;
    this._ctx = ctx;
    this.name = name;
    this._ended = handle === 0;
    this._traceId = null; // its trace id in hex, once asked (or given: a remote parent's)
    this._s0 = 0; // span id words, when drawn here (recorded spans)
    this._s1 = 0;
    this._root = null; // a recorded trace's root span, which holds its trace id words
    this._up = null; // a recorded child's parent span
    this._w0 = 0;
    this._w1 = 0;
    this._w2 = 0;
    this._w3 = 0;
    this._slot = undefined; // runner slot of its async body, without AsyncLocalStorage
    // A root: whether the core keeps its trace, once asked (traceparent); false from the start for
    // a span continuing a remote trace its caller did not sample.
    this._sampled = null;
    // Set by startSpan; declared here so every span has the constructor's shape.
    this._type = undefined;
    this._out = false; // outputs set by the app: its body's return value does not replace them
  }

  /** Whether this span records anything (false when tracing is off or sampling dropped it). */
  get isRecording() {
    return !this._ended && sampled(this._root);
  }

  /** The trace id, 32 hex digits ('' for a span that records nothing). Its ids are drawn here. */
  get traceId() {
    if (this._traceId === null && this._h) {
      const r = this._root;
      this._traceId = r === this ? idHex(r._w0, r._w1, r._w2, r._w3) : r.traceId;
    }
    return this._traceId ?? '';
  }

  /** The span id, 16 hex digits. */
  get spanId() {
    return this._h ? idHex(this._s0, this._s1) : '';
  }

  /** MLflow's id for this span's trace: `tr-<32 hex>`. */
  get mlflowTraceId() {
    return this.traceId ? `tr-${this.traceId}` : '';
  }

  /** A span as a value (a callback that returns its span, say): its name and ids, not its internals. */
  toJSON() {
    return { name: this.name, traceId: this.traceId, spanId: this.spanId };
  }

  // Whether the span has ended (then `what` on it is warned about and ignored), or tracing went
  // off while it was open (the core failed to load: there is no recorder to write to).
  _over(what) {
    if (!this._ended) return !state.rec;
    if (this._h) warn(`${what} on span "${this.name}" after it ended is ignored`);
    return true;
  }

  _json(what, value, outputs) {
    // The span itself is no one's inputs or outputs: `withSpan((s) => s.setAttribute(…))`
    // returns it.
    if (this._over(what) || value === this) return this;
    if (outputs) this._out = true;
    const v = redact(outputs ? 'outputs' : 'inputs', value, this);
    // A bare number or boolean goes as a typed attribute, null not at all: MLflow's OTLP endpoint
    // reads JSON text back as objects, arrays and strings, so `1` would read back as "1".
    const t = typeof v;
    const put = t === 'number' ? 'num' : t === 'boolean' && 'bool';
    if (v !== null && !(put && state.rec[put](this._h, outputs ? 'mlflow.spanOutputs' : 'mlflow.spanInputs', v))) {
      record(outputs ? OP.OUTPUTS : OP.INPUTS, this._h, [safeStringify(v, warn)]);
    }
    return this;
  }

  /** Records the span's inputs (any value; made JSON safely). */
  setInputs(inputs) {
    return this._json('setInputs', inputs, false);
  }

  /** Records the span's outputs. */
  setOutputs(outputs) {
    return this._json('setOutputs', outputs, true);
  }

  /** Sets one attribute: strings, numbers and booleans as themselves, other values as JSON. */
  setAttribute(key, value) {
    if (this._over('setAttribute')) return this;
    const v = redact('attribute', value, this);
    // null and undefined are no value (as in OpenTelemetry): nothing is set.
    if (v == null) return this;
    const k = String(key);
    const r = state.rec;
    const h = this._h;
    const t = typeof v;
    const done = t === 'string' ? r.str(h, k, v) : t === 'number' ? r.num(h, k, v) : t === 'boolean' && r.bool(h, k, v);
    if (done) return this;
    // A key the recorder does not intern, and JSON values, go as one command with the key inline;
    // on their own when too big for the buffer.
    const primitive = t === 'string' || t === 'number' || t === 'boolean';
    const x = primitive ? v : safeStringify(v, warn);
    r.write(attrCommand(h, k, x, !primitive));
    return this;
  }

  /** Sets several attributes. */
  setAttributes(attributes) {
    if (!attributes || typeof attributes !== 'object') return this;
    // The hot path: no entry arrays, one liveness check, strings straight into the core. Values
    // that need the redaction hook or JSON go through setAttribute.
    if (this._over('setAttribute')) return this;
    const fast = !state.options.redact;
    const h = this._h;
    const r = state.rec;
    // A getter or proxy trap that throws ends the reading there: the attributes read before it
    // are kept.
    try {
      // for-in makes no array of keys; on a plain object it sees exactly its own keys.
      const proto = Object.getPrototypeOf(attributes);
      if (proto === Object.prototype || proto === null) {
        for (const k in attributes) {
          const v = attributes[k];
          if (!(fast && typeof v === 'string' && r.str(h, k, v))) this.setAttribute(k, v);
        }
        return this;
      }
      for (const k of Object.keys(attributes)) {
        const v = attributes[k];
        if (!(fast && typeof v === 'string' && r.str(h, k, v))) this.setAttribute(k, v);
      }
    } catch (e) {
      fault('setAttributes', e);
    }
    return this;
  }

  /**
   * Adds a timed event, with attributes (an object: strings, numbers, booleans, others as JSON).
   * Also takes one event object, `{ name, attributes }`, as mlflow-tracing's `addEvent` does.
   */
  addEvent(name, attributes) {
    if (this._over('addEvent')) return this;
    let n = 'event';
    let entries = [];
    try {
      attributes ??= name?.attributes;
      // mlflow-tracing's event object, or a name; an object that names none is an 'event'.
      n = String((typeof name == 'object' ? name?.name : name) ?? n);
      if (attributes && typeof attributes === 'object' && !Array.isArray(attributes)) {
        entries = Object.entries(attributes).map(([k, v]) => {
          const t = typeof v;
          return t === 'string' || t === 'number' || t === 'boolean' ? [k, v, false] : [k, safeStringify(v, warn), true];
        });
      } else if (attributes != null) {
        warn('event attributes that are not an object are ignored');
      }
    } catch (e) {
      // The event is kept, without what could not be read.
      fault('addEvent', e);
    }
    recordWrite(eventCommand(this._h, n, entries));
    return this;
  }

  /** Records an exception event (type, message, stack) and sets ERROR status. */
  recordException(error) {
    if (this._over('recordException')) return this;
    let texts;
    try {
      const e = error instanceof Error ? error : null;
      // Its name, or its class's where the name is the generic one (the openai SDK's errors keep
      // 'Error' as their name; a minifier's class names do not end in "Error").
      const c = e?.constructor?.name;
      const kind = e ? (e.name === 'Error' && /.Error$/.test(c) ? c : e.name || c || 'Error') : typeof error;
      const message = e ? String(e.message) : safeStringify(error, warn);
      texts = [String(kind), message, e?.stack ? String(e.stack) : ''];
    } catch (e) {
      // Still an exception, and still ERROR status: only what it says is left out.
      fault('recordException', e);
      texts = ['Error', '', ''];
    }
    record(OP.EXCEPTION, this._h, texts);
    return this;
  }

  /** Sets the status: 'OK', 'ERROR', 'UNSET' or a SpanStatusCode number. */
  setStatus(status, message = '') {
    if (this._over('setStatus')) return this;
    // 'ERROR', 'error', or OpenTelemetry's and mlflow-tracing's 'STATUS_CODE_ERROR'.
    let code = typeof status === 'number' ? status : SpanStatusCode[String(status).toUpperCase().replace('STATUS_CODE_', '')];
    if (code === undefined) warn(`unknown status "${String(status)}" (OK, ERROR or UNSET): left unset`), (code = 0);
    // As the core reads a status number: 1 OK, 2 ERROR, anything else UNSET.
    record(OP.STATUS, this._h, [String(message)], code === 1 || code === 2 ? code : 0);
    return this;
  }

  /** Changes the span's type. */
  setSpanType(spanType) {
    if (!this._over('setSpanType')) {
      this._type = String(spanType);
      record(OP.TYPE, this._h, [this._type]);
    }
    return this;
  }

  /** The W3C `traceparent` value for a request made inside this span. */
  traceparent() {
    if (this._ended || !this._h) return undefined;
    return `00-${this.traceId}-${this.spanId}-${sampled(this._root) ? '01' : '00'}`;
  }

  /**
   * Ends the span. A status left unset becomes OK, as in MLflow.
   * @param {{outputs?: unknown, attributes?: Record<string, unknown>, status?: string|number, endTimeMs?: number}} [o]
   */
  end(o) {
    if (this._ended) {
      if (this._h) warn(`span "${this.name}" was ended twice; the second end is ignored`);
      return;
    }
    let endMs;
    if (o) {
      // The span ends whatever its options do when read.
      try {
        if ('outputs' in o) this.setOutputs(o.outputs);
        if (o.attributes) this.setAttributes(o.attributes);
        if (o.status !== undefined) this.setStatus(o.status);
        // Ms since 1970 (a number or a Date); another value (text, seconds, `performance.now()`)
        // would put the span decades back, and the time of now is taken instead.
        endMs = o.endTimeMs > 1e11 && +o.endTimeMs;
      } catch (e) {
        fault('end', e);
      }
    }
    this._ended = true;
    // Its body may still run (a span ended by hand): spans started there no longer nest under it.
    if (this._slot !== undefined && state.asyncSpans[this._slot] === this) state.asyncSpans[this._slot] = null;
    // A trace's first span here (its `_root`) opened the trace's context, and closes it. No
    // recorder: tracing went off while the span was open.
    state.rec?.end(this._h, endMs || state.clock.now(), this._root === this ? this._ctx : 0);
    state.exporter?.onSpanEnd();
    if (state.options.onSpanEnd && this._h) notifyEnd(this);
  }
}

const NOOP = new Span(0, 0, '');

// Whether the core keeps the trace of `root` (a trace's first span here), by the core's rule
// (src/tracer.rs `sampled`): every trace at ratio 1, none at 0 or below, else those whose trace
// id's low 64 bits, shifted right by 11, are below ratio × 2^53. A continued trace follows its
// remote parent (set when it starts). The ratio is the one the recording core was made with.
function sampled(root) {
  if (root._sampled === null) {
    const ratio = state.core?._ratio ?? state.options.sampleRatio;
    const id = root.traceId;
    let keep = ratio >= 1;
    if (!keep && ratio > 0) {
      const hi = parseInt(id.slice(16, 24), 16);
      const lo = parseInt(id.slice(24, 32), 16);
      keep = hi * 2 ** 21 + Math.floor(lo / 2 ** 11) < Math.trunc(ratio * 2 ** 53);
    }
    root._sampled = keep;
  }
  return root._sampled;
}

// The `onSpanEnd` hook: a plain summary of the span, after it is queued; its faults are warned.
function notifyEnd(span) {
  try {
    state.options.onSpanEnd({
      name: span.name,
      spanType: span._type || SpanType.UNKNOWN,
      traceId: span.traceId,
      spanId: span.spanId,
      mlflowTraceId: span.mlflowTraceId,
    });
  } catch (e) {
    warn(`the onSpanEnd hook threw: ${errText(e)}`);
  }
}

// The model API parsers check prices too, but they load on the first model call: a bad price
// is a clear error here, at init.
// The model API parsers (a wasm module of their own), loaded on the first model call.
function loadLlm() {
  if (state.llmTrapped) return Promise.resolve(null);
  if (state.llm) return state.llm;
  const prices = JSON.stringify(state.options.prices || {});
  state.llm = Promise.resolve()
    .then(() => state.llmLoader())
    .then(
      (LlmCalls) => new LlmCalls(prices),
      (e) => {
        // A download that failed (a page offline) is tried again at the next model call.
        state.llm = null;
        throw e;
      },
    )
    .catch((e) => {
      if (!state.llmWarned) warn(`model calls are traced without their responses, the model API parsers failed to load: ${errText(e)}`);
      state.llmWarned = 1;
      return null;
    });
  return state.llm;
}

/** Hooks for the package's other modules (traceFetch). @internal */
export const _internal = {
  core: () => (state.options.enabled === false ? null : coreOrNull()),
  /** Whether `span`'s trace was shed by a server core (exporter.js `markShedTraces`). */
  shed(span) {
    const c = _internal.core();
    return !!c?.span_shed && c.span_shed(span._h);
  },
  /**
   * Without AsyncLocalStorage, the span a model call belongs to when V8's async stack does not
   * lead to it: the stack breaks at a promise an async function returns without awaiting it
   * (`return next(req)`, as the Anthropic SDK's fetch middleware does), at `.then()` callbacks and
   * at timers. When the traced async bodies in flight are all one trace's, the call is that
   * trace's: under the deepest of them when they form one chain (a traced function awaiting
   * another that makes the call), else under the deepest span above them all (concurrent steps
   * under one root: which one made the call cannot be told). With several traces in flight it is
   * not guessed: undefined.
   */
  soleAsyncSpan() {
    const live = state.asyncSpans.filter(Boolean);
    if (!live.length || live.some((s) => s._root !== live[0]._root)) return undefined;
    // Whether `a` is `s` or above it.
    const over = (a, s) => {
      for (; s; s = s._up) if (s === a) return true;
      return false;
    };
    let d = live.find((s) => live.every((t) => over(t, s))) || live[0];
    while (d && (d._ended || !live.every((t) => over(t, d) || over(d, t)))) d = d._up;
    return d || undefined;
  },
  /** Whether the core is still loading (browsers); `coreReady` waits for it. */
  loading: () => state.options.enabled !== false && !!(recOrNull() && state.wasmLoading),
  coreReady,
  runWith,
  warn,
  state: () => state,
  sampled,
  /** The model API parsers (a promise that never rejects; null when they cannot load). */
  llm: () => (state.llmLoader ? loadLlm() : Promise.resolve(null)),
  /**
   * Runs `f`, a call into the parsers, and hands the commands it answers to the core (after
   * everything recorded so far). A fault is warned about, never thrown. Returns whether it ran.
   */
  llmRun(f) {
    if (state.llmTrapped) return false;
    try {
      const bytes = f();
      if (bytes?.length) recOrNull()?.applyOwn(bytes);
      return true;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        // A trap leaves the module as it stopped (its stack pointer moved, a call's state held),
        // so it is not called again, as the core is not after one: model calls are still traced,
        // without their responses.
        state.llmTrapped = true;
        state.llm = null;
        warn(`the model API parsers trapped, so model calls are traced without their responses from now on: ${errText(e)}`);
      } else {
        warn(`the model API parsers failed: ${errText(e)}`);
      }
      return false;
    }
  },
  /** Now, in epoch ms, by the clock spans are stamped with. */
  now: () => (state.clock || (state.clock = makeClock())).now(),
  isExportUrl(url) {
    const e = state.exporter?.url();
    return !!e && url.href.split('?')[0] === e;
  },
  /** A span that ends when `p` settles; flush() waits for it (up to 2 s). */
  track(p) {
    const q = Promise.resolve(p).finally(() => state.pending.delete(q));
    state.pending.add(q);
  },
  /**
   * Passes a model's response, as the parsers (`llm`) made it the span's outputs, through the
   * redaction hook, and records what the hook gives back instead.
   */
  redactOutputs(span, llm) {
    if (!state.options.redact || !span._h || state.llmTrapped) return;
    let text;
    try {
      text = llm?.take_outputs(span._h);
    } catch {
      return;
    }
    if (text == null) return;
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    span.setOutputs(value);
  },
  /** The span's limit on a value: the parsers cut model calls' inputs and outputs to it. */
  maxValueBytes: () => state.options.maxValueBytes,
  redactBody(parsed, text, span) {
    if (!state.options.redact) return text;
    const v = redact('inputs', parsed ?? text, span);
    return typeof v === 'string' ? v : safeStringify(v, warn);
  },
};

/** The span active here, or undefined. */
// `ended` (traceFetch's, not in the types): an ended span too, where work it left running (an
// SDK's stream that starts its request when read) makes a call that belongs to its trace.
export function getCurrentActiveSpan(ended) {
  const s = active();
  return s && (ended || !s._ended) ? s : undefined;
}

// `top`: the outermost edgetrace function on the stack (see activeFromAsyncStack).
function active(top) {
  if (state.als) return state.als.getStore() || undefined;
  const st = state.stack;
  if (st.length) return st[st.length - 1];
  return state.asyncN ? activeFromAsyncStack(top) : undefined;
}

// Without AsyncLocalStorage (browsers, Workers without nodejs_compat): each traced async body
// runs inside an async runner named `__et_<slot>` (see runAsyncBody). V8 keeps the chain of
// awaiting async functions in `new Error().stack` ("at async __et_12"), also after awaits, so a
// span started after an await finds its innermost traced async ancestor there. Paid only when the
// synchronous stack is empty and a traced async span is open. Not seen: `.then()` callbacks and
// timers started outside an awaited chain, and engines other than V8 (Firefox, Safari); there,
// pass the span.
const RUNNER_PREFIX = '__et_';
const RUNNER = /__et_(\d+)/;
const asCallSites = (_error, callSites) => callSites;

// The innermost `__et_<slot>` frame, read as V8 call sites rather than as stack text (no
// formatting of every frame), from the nearest frames only: the runner of the span that is
// awaiting is usually a few frames up. Each frame captured costs (async ones most; two frames
// past the runner cost up to 15 % of an async span in Chromium, A/Bs of pages by
// `bench/lib/page-runner.mjs`), so a capture takes as many frames as the captures before needed
// (`captureDepth`): it grows at once to what a capture needed, and shrinks to the most the last
// SHRINK_AFTER captures needed once they all needed fewer. Call sites of a few depths in turn
// then all find their runner at the first try, and the deepest one in use ends at its runner.
// The whole chain is read only when those frames end before the runner. The capture also leaves
// out the frames from `top` (the outermost edgetrace function on the stack: withSpan,
// startSpan) up: they cost too, and are never a runner.
const MIN_DEPTH = 2; // the caller of withSpan, then at the nearest its runner
const SHRINK_AFTER = 8;
let captureDepth = 8; // frames a capture takes
let lowRun = 0; // captures in a row since it grew (or shrank) that needed fewer frames
let lowMax = 0; // the most frames one of those needed

function fitCaptureDepth(want) {
  if (want >= captureDepth) {
    captureDepth = want;
    lowRun = lowMax = 0;
  } else {
    if (want > lowMax) lowMax = want;
    if (++lowRun >= SHRINK_AFTER) {
      captureDepth = lowMax;
      lowRun = lowMax = 0;
    }
  }
}

function activeFromAsyncStack(top = activeFromAsyncStack) {
  if (!state.v8Stacks) return undefined;
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = asCallSites;
    let depth = captureDepth;
    for (;;) {
      Error.stackTraceLimit = depth;
      const holder = {};
      Error.captureStackTrace(holder, top);
      const frames = holder.stack;
      if (!Array.isArray(frames)) return activeFromStackText(limit, prepare);
      for (let i = 0; i < frames.length; i++) {
        const name = frames[i].getFunctionName?.();
        if (name && name.startsWith(RUNNER_PREFIX)) {
          fitCaptureDepth(Math.max(MIN_DEPTH, i + 1));
          return state.asyncSpans[Number(name.slice(RUNNER_PREFIX.length))] || undefined;
        }
      }
      if (frames.length < depth || depth >= 100) return undefined;
      depth = 100;
    }
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}

// The same from the stack text, where call sites are not handed out.
function activeFromStackText(limit, prepare) {
  let text = '';
  try {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = 100;
    text = new Error().stack || '';
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
  const m = RUNNER.exec(text);
  return (m && state.asyncSpans[Number(m[1])]) || undefined;
}

const AsyncFunction = (async () => {}).constructor;

// Compared by identity first: reading the constructor's `name` is a getter call. A function from
// another realm (an iframe) has that realm's constructors, and is known by the name.
function isAsyncFunction(fn) {
  if (typeof fn !== 'function') return false;
  const c = fn.constructor;
  return c === AsyncFunction || (c !== Function && c?.name === 'AsyncFunction');
}

// Runs an async body so that code after its awaits can still find `span` (see above). Runners
// are reused: runner `__et_<k>` serves one body at a time and its slot `k` is freed when that
// body settles (after which no stack can hold its frame), so no function is made per span. The
// runner also ends the span (with the body's result as outputs, or its error), so an async span
// costs one promise of its own and no `.then` (see settle).
const RUNNERS = [];
const FREE_SLOTS = [];

function runnerFor(k) {
  let r = RUNNERS[k];
  if (!r) {
    const name = `${RUNNER_PREFIX}${k}`;
    r = {
      // `options` is null for a body whose span the caller ends itself.
      [name]: async function (f, arg, span, options) {
        try {
          const v = await f(arg);
          if (options) returned(span, v, options);
          return v;
        } catch (e) {
          if (options) span.recordException(e);
          throw e;
        } finally {
          if (options) span.end();
          state.asyncSpans[k] = undefined;
          state.asyncN--;
          FREE_SLOTS.push(k);
        }
      },
    }[name];
    RUNNERS[k] = r;
  }
  return r;
}

/** Whether async bodies run in named runners (no AsyncLocalStorage, a V8 engine, a live span). */
const usesRunners = (span) => !state.als && state.v8Stacks && !!span._h;

// Runs `f(arg)`, an async body, in a runner for `span`, with `span` on the synchronous stack
// until it first awaits. With `options` (not null) the runner ends the span as settle would.
function runAsyncBody(span, f, arg, options) {
  const k = FREE_SLOTS.length ? FREE_SLOTS.pop() : RUNNERS.length;
  span._slot = k;
  state.asyncSpans[k] = span;
  state.asyncN++;
  state.stack.push(span);
  try {
    return runnerFor(k)(f, arg, span, options);
  } finally {
    popSpan(span);
  }
}

// Runs `fn(arg)` with `span` active.
function runWith(span, fn, arg) {
  const als = state.als;
  if (als) return als.run(span, fn, arg);
  state.stack.push(span);
  try {
    return fn(arg);
  } finally {
    popSpan(span);
  }
}

function popSpan(span) {
  const st = state.stack;
  if (st[st.length - 1] === span) st.pop();
  else {
    const i = st.lastIndexOf(span);
    if (i >= 0) st.splice(i, 1);
  }
}

/**
 * Starts a span that you end yourself. Its parent is `options.parent` when given, else the active
 * span, else none (a new trace).
 * @param {import('./edgetrace').SpanOptions} [options]
 * @returns {Span}
 */
export function startSpan(options = {}) {
  return openSpan(options, startSpan);
}

// startSpan, called from `top`: the public function the caller called.
// Options that throw when read leave the span unrecorded (NOOP); all are read before it starts, so
// none can leave it open.
function openSpan(options, top) {
  try {
    return open(options, top);
  } catch (e) {
    fault('withSpan', e);
    return NOOP;
  }
}

function open(options, top) {
  const o = options || {};
  const name = String(o.name ?? 'span');
  const { inputs, attributes } = o;
  if (state.options.enabled === false) return NOOP;
  const r = recOrNull();
  if (!r) return NOOP;
  let parent = o.parent === undefined ? active(top) : o.parent;
  if (parent != null && !(parent instanceof Span)) {
    warn('a parent that is not an edgetrace Span is ignored; a new trace is started');
    parent = null;
  }
  // A span whose parent, or whose parent's root, has ended (work they left running, unawaited:
  // a Worker's waitUntil) continues the parent's trace under it, as a span of another process
  // would: the root's end closed the trace's context in the core.
  let remote = null;
  if (parent?._h && (parent._ended || parent._root._ended)) {
    remote = parseTraceparent(`00-${parent.traceId}-${parent.spanId}-0${+sampled(parent._root)}`);
    parent = null;
  }
  const type = o.spanType === undefined ? SpanType.UNKNOWN : String(o.spanType);
  const child = !!(parent && parent._h);
  const span = new Span(0, 0, name);
  span._ended = false;
  const t = o.startTimeMs > 1e11 ? +o.startTimeMs : state.clock.now(); // as endTimeMs in end()
  let h;
  let ctx;
  if (child) {
    ctx = parent._ctx;
    h = r.start(span, ctx, parent._h, name, type, t);
    span._root = parent._root;
    span._up = parent;
  } else {
    if (!remote && o.traceparent) {
      remote = parseTraceparent(o.traceparent);
      if (!remote) warn('an invalid traceparent was ignored; a new trace is started');
    }
    // Each trace started here gets its own context in the core, opened by its root's start and
    // closed by its end.
    ctx = r.newContext();
    h = r.start(span, ctx, 0, name, type, t, remote);
    // A span continuing a remote trace stands as its local root, with the remote trace id.
    span._root = span;
    if (remote) {
      span._traceId = remote.traceId;
      span._sampled = remote.sampled; // parent-based: the caller decided (src/tracer.rs start_span_at)
    }
  }
  span._h = h;
  span._ctx = ctx;
  span._type = type;
  if (!child) state.lastTrace = span;
  if (inputs !== undefined) span.setInputs(inputs);
  if (attributes) span.setAttributes(attributes);
  return span;
}

/**
 * Runs `callback(span)` inside a new span, active for the callback (and, where the runtime has
 * AsyncLocalStorage, for everything it awaits). The span ends when the callback returns or its
 * promise settles; an exception sets ERROR, is recorded, and is re-thrown unchanged.
 * @template T
 * @param {(span: Span) => T} callback
 * @param {import('./edgetrace').SpanOptions} [options]
 * @returns {T}
 */
export function withSpan(callback, options = {}) {
  const span = openSpan(options, withSpan);
  // A span that records nothing (tracing off, or options that threw when read, which are not
  // read again) leaves the callback to run as it is.
  if (!span._h) return callback(span);
  // Without AsyncLocalStorage an async body runs in a named runner, so code after its awaits finds
  // the span. Otherwise the callback itself runs, with the span as its argument: no closure.
  if (usesRunners(span) && isAsyncFunction(callback)) return runAsyncBody(span, callback, span, options);
  return runSpan(span, callback, options, span);
}

function runSpan(span, body, options, arg) {
  let result;
  try {
    result = runWith(span, body, arg);
  } catch (e) {
    span.recordException(e);
    span.end();
    throw e;
  }
  return settle(span, result, options);
}

// Ends `span` with what its body returned: now, or when a returned promise settles.
// What the body returned goes back to the caller as it is: a value whose `then` throws when read
// or called is ended now, as any other value.
function settle(span, result, options) {
  let outputs = true;
  try {
    if (typeof result?.then === 'function') {
      // A promise, of this realm or another (Jest's tests, an iframe), ends the span when it
      // settles. Another thenable, such as a query builder that runs its query when awaited
      // (Supabase's, Knex's), goes back untouched: awaiting it here would run it before the caller
      // has built it. Its span ends now, without it as outputs (it may hold the client's keys).
      if (result instanceof Promise || Object.prototype.toString.call(result) === '[object Promise]') {
        return result.then(
          (v) => {
            returned(span, v, options);
            span.end();
            return v;
          },
          (e) => {
            span.recordException(e);
            span.end();
            throw e;
          },
        );
      }
      outputs = false;
    }
  } catch (e) {
    fault('withSpan', e);
  }
  if (outputs) returned(span, result, options);
  span.end();
  return result;
}

// What a span's body returned becomes its outputs, unless the app set them, or said not to.
function returned(span, v, options) {
  if (v !== undefined && !span._out && !options?.skipOutputs) span.setOutputs(v);
}

const PARAMS = new WeakMap();

/**
 * Parameter names of a function; 1 for a lone destructured object parameter; null when they
 * cannot be read simply (other patterns, defaults holding commas, bound and native functions).
 */
function paramNames(fn) {
  if (PARAMS.has(fn)) return PARAMS.get(fn);
  let names = null;
  try {
    const src = Function.prototype.toString.call(fn);
    const m = /^[^(=]*\(([^)]*)\)/.exec(src) || /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
    if (m && !src.includes('[native code]')) {
      // A destructured object parameter (`({ city }) =>`, `(q, { k = 3 } = {})`), and an object
      // default, read as `{}`: their commas are not the list's.
      const list = m[1].replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').replace(/\{[^{}]*\}/g, '{}');
      const raw = list.split(',').map((p) => p.trim()).filter(Boolean);
      if (raw.every((p) => /^(\.\.\.)?([A-Za-z_$][\w$]*|\{\})(\s*=.*)?$/.test(p))) names = raw.map((p) => p.replace(/\s*=.*$/, ''));
    }
  } catch {
    names = null;
  }
  PARAMS.set(fn, names);
  return names;
}

// Arguments past the parameters the function declares are left out, as Python's @mlflow.trace
// records only the signature's: frameworks pass their own (the AI SDK calls a tool with
// `{ toolCallId, messages }`, the OpenAI SDK's runTools with its runner), which can hold the
// whole conversation. Where the parameters cannot be read, every argument is kept.
function inputsOf(fn, args) {
  const names = paramNames(fn);
  // Parameters not read simply keep the arguments by place.
  if (!names) return args.length ? { args } : {};
  let out = {};
  names.forEach((n, i) => {
    // A destructured parameter records the fields of the plain object it is given (as TypeScript
    // code takes its options) where no parameter before it has the name; another kind of value,
    // by its place.
    if (n == '{}') args[i]?.constructor === Object ? (out = { ...out, ...args[i], ...out }) : i < args.length && (out['arg' + i] = args[i]);
    else if (n.startsWith('...')) out[n.slice(3)] = args.slice(i);
    else if (i < args.length) out[n] = args[i];
  });
  return out;
}

const GEN = Object.getPrototypeOf(function* () {}).constructor;
const ASYNC_GEN = Object.getPrototypeOf(async function* () {}).constructor;
const MAX_YIELDS_RECORDED = 1000;

function wrapFunction(fn, options = {}) {
  const name = options.name || fn.name || 'anonymous';
  const spanOpts = { ...options, name };
  const isGen = fn instanceof GEN || fn instanceof ASYNC_GEN;
  const isAsync = isGen ? fn instanceof ASYNC_GEN : isAsyncFunction(fn);
  const traced = function (...args) {
    const span = startSpan({ ...spanOpts, inputs: inputsOf(fn, args) });
    const body = () => fn.apply(this, args);
    if (!isGen) return isAsync && usesRunners(span) ? runAsyncBody(span, body, undefined, options) : runSpan(span, body, options);
    let it;
    try {
      it = runWith(span, body);
    } catch (e) {
      span.recordException(e);
      span.end();
      throw e;
    }
    return tracedIterator(it, span, isAsync);
  };
  // The wrapper has the function's name and length (Express tells error middleware by a length
  // of 4).
  try {
    Object.defineProperties(traced, { name: { value: name }, length: { value: fn.length } });
    // The function's own properties too (a tool's `description` and `parameters`).
    Object.assign(traced, fn);
  } catch {
    /* non-configurable, or a getter that throws: keep the wrapper's */
  }
  return traced;
}

function finishGenerator(span, yielded, error) {
  if (error !== undefined) span.recordException(error);
  else span.setOutputs(yielded);
  span.end();
}

// Wraps a generator's iterator: each step runs with the span active; the span ends when the
// generator finishes, throws or is returned early, with what it yielded as outputs.
function tracedIterator(it, span, isAsync) {
  const yielded = [];
  let done = false;
  const onResult = (r) => {
    if (r.done) {
      done = true;
      finishGenerator(span, r.value === undefined ? yielded : { yielded, returned: r.value });
    } else if (yielded.length < MAX_YIELDS_RECORDED) yielded.push(r.value);
    return r;
  };
  const onError = (e) => {
    done = true;
    finishGenerator(span, yielded, e);
    throw e;
  };
  const step = (method, arg) => {
    if (done) return it[method](arg);
    let r;
    try {
      // Without AsyncLocalStorage an async step runs in a runner, as an async function's body
      // does: code after the generator's awaits finds the span on V8's async stack.
      r = isAsync && usesRunners(span) ? runAsyncBody(span, () => it[method](arg), undefined, null) : runWith(span, () => it[method](arg));
    } catch (e) {
      return onError(e);
    }
    return isAsync ? Promise.resolve(r).then(onResult, onError) : onResult(r);
  };
  return {
    next: (v) => step('next', v),
    return: (v) => step('return', v),
    throw: (e) => step('throw', e),
    [isAsync ? Symbol.asyncIterator : Symbol.iterator]() {
      return this;
    },
  };
}

/**
 * Wraps a function (sync, async, generator or async generator) so each call is a span: the
 * arguments become inputs (named by parameter where they can be read), the result the output.
 * Called with only options, returns a decorator for class methods (TypeScript's legacy
 * `experimentalDecorators` and the standard decorators both work).
 */
export function trace(fnOrOptions, options) {
  if (typeof fnOrOptions === 'function') return wrapFunction(fnOrOptions, options);
  const opts = fnOrOptions || {};
  return function decorator(target, context, descriptor) {
    if (descriptor && typeof descriptor.value === 'function') {
      descriptor.value = wrapFunction(descriptor.value, { name: String(context), ...opts });
      return descriptor;
    }
    if (typeof target === 'function') {
      const name = context && typeof context === 'object' ? String(context.name) : target.name;
      return wrapFunction(target, { name, ...opts });
    }
    return target;
  };
}

// Trace metadata keys that are the session and user ids (src/commands.rs TRACE fields 2 and 3).
const META_IDS = new Map([['mlflow.trace.session', 2], ['mlflow.trace.user', 3]]);

/**
 * Adds tags, metadata, session and user ids, the client request id and previews to the active
 * span's trace. Written onto the trace's root span when it ends.
 * @param {import('./edgetrace').TraceUpdate} update
 */
export function updateCurrentTrace(update) {
  const s = getCurrentActiveSpan();
  if (!s) {
    // With tracing off no span is active, and there is nothing to say.
    if (state.options.enabled !== false && recOrNull()) warn('updateCurrentTrace() outside any span is ignored');
    return;
  }
  // As the core reads a trace update (src/commands.rs TRACE): tags, metadata, then the fields.
  // What throws when read is left out; what was read before it is recorded.
  const fields = [];
  try {
    for (const [f, m] of [[0, update?.tags], [1, update?.metadata]]) {
      // A null value sets nothing (as for attributes); an object goes as JSON text. The trace is
      // named after its root span when it is sent (src/span.rs `names_its_trace`), so a tag that
      // names it otherwise would be a second attribute of that key, which OTLP forbids.
      if (m && typeof m === 'object') {
        for (const [k, v] of Object.entries(m)) {
          // MLflow's session and user, as mlflow-tracing's docs set them (metadata keys): MLflow's
          // OTLP endpoint makes trace metadata only of the spans' session.id and user.id.
          const id = f && META_IDS.get(k);
          if (!f && k === 'mlflow.traceName') warn('the trace is named after its root span; a mlflow.traceName tag is ignored');
          else if (v != null) fields.push([id || f, id ? '' : k, typeof v === 'object' ? safeStringify(v, warn) : String(v)]);
        }
      }
    }
    ['sessionId', 'userId', 'clientRequestId', 'requestPreview', 'responsePreview'].forEach((k, i) => {
      const v = update?.[k];
      if (v != null) fields.push([i + 2, '', String(v)]);
    });
  } catch (e) {
    fault('updateCurrentTrace', e);
  }
  // Said once: what MLflow's OTLP endpoint does not make the trace's, unlike its SDKs' calls.
  if (fields.some(([f]) => f === 1 || f > 3)) warn("MLflow (3.17) takes no trace metadata, clientRequestId or previews over OTLP: updateCurrentTrace keeps them as attributes of the trace's root span (mlflow.traceMetadata.*, mlflow.clientRequestId, mlflow.requestPreview, mlflow.responsePreview); tags, sessionId and userId do reach the trace");
  recordWrite(traceCommand(s._h, fields));
}

/** The trace id (`tr-<32 hex>`, MLflow's form) of the last trace started here, or undefined. */
export function getLastActiveTraceId() {
  const id = state.lastTrace?.traceId;
  return id ? `tr-${id}` : undefined;
}

/**
 * Headers to continue the active trace (or `span`'s) in a service you call: `traceparent`, and
 * the caller's `tracestate` in a request instrumentWorker continued.
 * @param {Span} [span]
 * @returns {Record<string, string>}
 */
export function getTraceHeaders(span) {
  const s = span ?? getCurrentActiveSpan();
  const tp = s instanceof Span ? s.traceparent() : undefined;
  if (!tp) return {};
  // The caller's `tracestate` goes on with its trace (W3C Trace Context: kept as received).
  const ts = s._root._tracestate;
  return ts ? { traceparent: tp, tracestate: ts } : { traceparent: tp };
}

/**
 * Sends every queued span now; resolves when the exports finish (for `ctx.waitUntil(flush())`).
 * Never rejects.
 */
export async function flush() {
  try {
    if (state.pending.size) {
      let timer;
      await Promise.race([
        Promise.allSettled(Array.from(state.pending)),
        new Promise((r) => (timer = setTimeout(r, PENDING_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    await state.exporter?.flush();
  } catch (e) {
    warn(`flush failed: ${errText(e)}`);
  }
}

const STATS = ['started', 'ended', 'exported', 'queued', 'open', 'dropped.queueFull', 'dropped.queueBytes',
  'dropped.sampledOut', 'dropped.exportFailed', 'dropped.total', 'unknownHandles', 'outOfOrderEnds',
  'truncatedValues', 'droppedAttributes', 'droppedEvents'];

/** Counters: spans started, ended, exported, queued, dropped (by reason), retries, misuse. */
export function getStats() {
  const c = state.core ? core() : null;
  const stats = { dropped: {} };
  const v = c?.stats();
  // The core's counters come as numbers in the order of STATS (src/bindings.rs).
  STATS.forEach((name, i) => {
    const [a, b] = name.split('.');
    if (b) stats.dropped[b] = v ? v[i] : 0;
    else stats[a] = v ? v[i] : 0;
  });
  const e = state.exporter?.stats || {};
  return {
    ...stats,
    requests: e.requests ?? 0,
    retried: e.retried ?? 0,
    failedRequests: e.failedRequests ?? 0,
    lastExportError: e.lastError ?? null,
    wasmMemoryBytes: state.rec?.memory?.buffer.byteLength ?? 0,
  };
}

/**
 * Wraps a Worker's handler object (`export default instrumentWorker({ fetch }, options)`): each
 * request runs inside a root span (continuing an incoming `traceparent`) whose inputs are the
 * request's method and path and whose outputs its response status (unless the handler sets
 * them), and `ctx.waitUntil` keeps the Worker alive until the spans are exported, also when
 * the response body is a stream (the span ends when the stream ends, errors or is cancelled).
 * `scheduled` and `queue` handlers run inside a root span of their own in the same way. Work the
 * handler hands to `ctx.waitUntil` itself is followed by a flush once it settles, so its spans
 * go with it, not with a later request.
 * `options` may be a function of `env`, called on the first invocation (never at top level).
 * Each handler gets its span as a fourth argument: `fetch(request, env, ctx, span)`.
 */
export function instrumentWorker(handler, options = {}) {
  let configured = false;
  // The root spans' type: from the options, given as an object or by the function of `env`.
  let spanType = SpanType.CHAIN;
  // What each invocation needs: the set-up on the first one, `waitUntil` that never throws, and
  // the ctx handed to the app, whose own `waitUntil` work is followed by a flush.
  const invocation = (env, ctx) => {
    if (!configured) {
      configured = true;
      try {
        const { spanType: type, ...o } = (typeof options === 'function' ? options(env) : options) || {};
        if (type) spanType = String(type);
        // Over what an init() before it set (an app's own, at module scope: a Deno.serve or
        // Bun.serve server's): only what these options name changes.
        const base = {};
        for (const k in DEFAULTS) base[k] = state.options[k];
        // An endpoint of its own (another server, however written: with or without a trailing /
        // or /v1/traces): what that init() or the entry's defaults gave their server (an
        // experiment, headers such as MLflow's token, an ingest key) is not for this one.
        if (o.endpoint != null && serverOf(o.endpoint) !== serverOf(base.endpoint)) base.experimentId = base.headers = base.ingestKey = undefined;
        // The entry's own reading of MLflow's variables as they are now (exporter.js
        // withMlflowEnv: set after the import, by dotenv; for another endpoint than theirs, none
        // of them), where it has one.
        init(state.envInit ? state.envInit({ ...base, ...o }) : { ...base, ...o });
      } catch (e) {
        warn(`instrumentWorker could not init: ${errText(e)}`);
      }
    }
    const waitUntil = (p) => {
      try {
        ctx?.waitUntil?.(p);
      } catch {
        /* not in a request context */
      }
    };
    const run = { waitUntil, background: 0, ctx };
    if (ctx?.waitUntil) {
      run.ctx = new Proxy(ctx, {
        get(t, k) {
          if (k === 'waitUntil') {
            return (p) => {
              t.waitUntil(p);
              run.background++;
              waitUntil(
                Promise.resolve(p)
                  .catch(() => {})
                  .then(() => (run.background--, flush())),
              );
            };
          }
          const v = Reflect.get(t, k);
          return typeof v === 'function' ? v.bind(t) : v;
        },
      });
    }
    return run;
  };
  // Runs `body` with `span` active, as the root of its trace.
  const within = (span, body) => (usesRunners(span) ? runAsyncBody(span, body, undefined, null) : runWith(span, body));
  // The last flush of an invocation, once its trace's spans have ended.
  const last = (run, span) => run.waitUntil(settleTrace(span, run).then(flush));
  const wrapped = { ...handler };
  if (handler.fetch) wrapped.fetch = async (request, env, ctx) => {
    const run = invocation(env, ctx);
    const url = new URL(request.url);
    const span = startSpan({
      name: `${request.method} ${url.pathname}`,
      spanType,
      parent: null,
      traceparent: request.headers.get('traceparent') || undefined,
      attributes: { 'http.request.method': request.method, 'url.path': url.pathname },
      // MLflow's trace list shows the root's inputs and outputs as the trace's request and
      // response: the method and path (not the query, which may carry keys), and the status,
      // unless the handler sets its own.
      inputs: { method: request.method, path: url.pathname },
    });
    // The caller's vendors' `tracestate`, for getTraceHeaders() to pass on, with the caller's
    // trace only (a root has a trace id from the start only when it continues one), and within
    // the 512 characters W3C Trace Context has every service propagate.
    const ts = request.headers.get('tracestate');
    if (ts && ts.length <= 512 && span._traceId) span._tracestate = ts;
    let response;
    try {
      response = await within(span, () => handler.fetch(request, env, run.ctx, span));
    } catch (e) {
      span.recordException(e);
      span.end();
      last(run, span);
      throw e;
    }
    if (!(response instanceof Response)) {
      span.end();
      last(run, span);
      return response;
    }
    span.setAttribute('http.response.status_code', response.status);
    if (!span._out) span.setOutputs({ status: response.status });
    if (response.status >= 500) span.setStatus('ERROR', `HTTP ${response.status}`);
    if (!response.body || response.webSocket) {
      span.end();
      last(run, span);
      return response;
    }
    let settle;
    let abandon;
    let stall;
    let read;
    run.waitUntil(new Promise((r) => (settle = r)));
    // When the client leaves, workerd stops asking for the body, but a body that pipes another (a
    // model's stream) it neither cancels nor fails (review s50a: 10 of 13 such traces were lost).
    // So a chunk left unasked-for STALL_MS ends the body as left, its span at the last chunk the
    // client asked for; so does the request's signal, where workerd gives one that aborts.
    const body = watchBody(response.body, {
      register: (a) => (abandon = a),
      onPull: () => clearTimeout(stall),
      onChunk() {
        read = _internal.now();
        clearTimeout(stall);
        stall = setTimeout(() => abandon?.(), STALL_MS);
      },
      onEnd(how, error) {
        clearTimeout(stall);
        try {
          span.setAttribute('edgetrace.stream', BODY_END_NAMES[how]);
          if (error !== undefined) span.recordException(error);
          span.end(how === BodyEnd.ABANDONED && read ? { endTimeMs: read } : undefined);
        } finally {
          settleTrace(span, run).then(flush).then(settle, settle);
        }
      },
    });
    // In workerd only: Deno and Bun cancel the body when the client leaves, and Deno warns of a
    // listener on a request's signal (it aborts after a successful response there, for now).
    if (globalThis.navigator?.userAgent === 'Cloudflare-Workers') {
      try {
        request.signal?.addEventListener?.('abort', () => abandon?.(), { once: true });
      } catch {
        /* a request of another make */
      }
    }
    return new Response(body, response);
  };
  // A cron trigger's and a queue batch's handler: a root span each, ended when the handler's
  // promise settles.
  const event = (kind, describe) => async (e, env, ctx) => {
    const run = invocation(env, ctx);
    const span = startSpan({ spanType, parent: null, ...describe(e) });
    try {
      return await within(span, () => handler[kind](e, env, run.ctx, span));
    } catch (err) {
      span.recordException(err);
      throw err;
    } finally {
      span.end();
      last(run, span);
    }
  };
  if (handler.scheduled) wrapped.scheduled = event('scheduled', (c) => ({ name: `scheduled ${c?.cron ?? ''}`.trim(), inputs: { cron: c?.cron, scheduledTime: c?.scheduledTime } }));
  if (handler.queue) wrapped.queue = event('queue', (b) => ({ name: `queue ${b?.queue ?? ''}`.trim(), inputs: { queue: b?.queue, messages: b?.messages?.length } }));
  return wrapped;
}

// After a request's span ends in a Worker, the spans of its trace still open are waited for (at
// most TRACE_SETTLE_MS), before the request's last flush: once that flush settles, workerd stops
// the request's I/O, so a span still reading a stream never ends and is never exported. One such:
// a model call whose stream the app stops reading when its client hangs up (an SDK's loop stops
// at its next chunk, when it finds the response stream cancelled). One still open then is warned
// about. Server cores only (`trace_open`).
const TRACE_SETTLE_MS = 1000;
// How long a Worker's response body may wait with a chunk its client has not asked for before it
// counts as left (see instrumentWorker): a reader that is there asks at once.
const STALL_MS = 5000;
async function settleTrace(root, run) {
  const open = () => {
    try {
      const core = root._h && coreOrNull();
      return (core?.trace_open && core.trace_open(root.traceId)) || 0;
    } catch {
      return 0;
    }
  };
  for (const t0 = Date.now(); open() > 0 && Date.now() - t0 < TRACE_SETTLE_MS; ) await new Promise((r) => setTimeout(r, 10));
  // A span the app's own `waitUntil` work ends goes with the flush that follows that work. A model
  // stream the app stopped reading ends now, as cancelled with what was read (fetch.js).
  if (open() > 0 && !run?.background) {
    _internal.abandonStreams?.(root.traceId);
    if (open() > 0) warn(`a span of the request "${root.name}" was still open ${TRACE_SETTLE_MS} ms after it ended (a stream the app stopped reading?): it goes only with a later flush`);
  }
}
