// The span hot path: starts, attributes and ends are written as compact commands into a buffer
// in the wasm core's memory, and the core applies them (`run`) before any other call into the core
// (see src/commands.rs for the format): the exporter asks it, in a task of its own, when a batch
// may be due. A full buffer is kept (`keep`: by the core, in wasm memory), up to `maxLog` bytes,
// and the buffer filled again; only past that is what was recorded applied to make room. One call
// per batch instead of several per span (crossing into wasm costs more than the span work
// itself), and the span's caller does not wait for the core.
//
// Handles, context ids and span/trace ids are chosen here, so starting a span needs no answer
// from the core. Names, span types and attribute keys are interned: sent once, then by number.

const START = 1;
const STR = 2;
const NUM = 3;
const BOOL = 4;
const END = 5;
const DEF = 6;
const END_CLOSE = 18;
const OPENS_CONTEXT = 8; // START's flag: the span opens its context first
const ATTR = 11;
/** The commands of text fields the JS layer records besides the hot path's (src/commands.rs). */
export const OP = { INPUTS: 9, OUTPUTS: 10, TYPE: 12, STATUS: 13, EXCEPTION: 15 };
const EVENT = 14;
const TRACE = 16;
const EXPORT_FAILED = 17;

/**
 * Where numbers sit in the core's `stats()` (src/bindings.rs STATS, then STATE): the queue, the
 * open spans, and what the exporter reads: a full batch waits (1), and the spans and oversize
 * flag (1) of the body `take_batch` last returned.
 */
export const CORE_AT = { queued: 3, open: 4, batchReady: 15, lastBatchSpans: 16, lastBatchOversize: 17 };
/** How many numbers the core's `stats()` gives. */
export const STATS_LEN = CORE_AT.lastBatchOversize + 1;

// Handles and context ids from here up are ours (tracer.rs GIVEN_HANDLES), and below 2^30, so V8
// keeps each as a small integer on its span, not as a heap number allocated per span.
const GIVEN = 0x20000000;
const GIVEN_SPAN = GIVEN - 2; // how many of them there are
/** The command buffer's length. */
export const CAP = 1 << 17;
const MAX_STRINGS = 65000; // below the core's 65,536
const MAX_INTERNED = 200; // longer names and keys are not interned: they go inline in their command

/** The clock recorded spans are stamped with, in JS epoch ms with fractions. */
export function makeClock() {
  const perf = globalThis.performance;
  const origin = perf?.timeOrigin;
  // Some runtimes report no usable origin (or one far from the wall clock): use Date.now there.
  if (typeof perf?.now === 'function' && origin > 0 && Math.abs(origin + perf.now() - Date.now()) < 1000) {
    return { origin, now: () => origin + perf.now() };
  }
  return { origin: 0, now: Date.now };
}

export class Recorder {
  /**
   * @param {any} core the wasm Core, or null while it loads (browsers compile it asynchronously):
   *   until `attach`, commands are recorded into a buffer of the recorder's own and kept in order
   * @param {WebAssembly.Memory | null} memory its memory
   * @param {(flags: number, error?: unknown) => void} onFailed told when applied commands failed
   *   (flags 2 or 4) or the core threw (8)
   * @param {number} [maxLog] how many bytes of full buffers may be kept before they are applied
   */
  constructor(core, memory, onFailed, maxLog = 0) {
    this.core = null;
    this.maxLog = maxLog;
    this.logged = 0; // bytes of full buffers kept since the core last applied what was recorded
    this.memory = null;
    this.onFailed = onFailed;
    this.ptr = 0;
    this.pos = 0;
    this.local = new ArrayBuffer(CAP); // the buffer while there is no core
    this.waiting = []; // full buffers and commands of their own, in order, for the core to apply
    if (core) this.attach(core, memory);
    else this.view();
    this.strings = new Map();
    this.nextString = 1;
    this.nextHandle = 0;
    this.nextCtx = 0;
    this.ends = 0; // spans ended since the exporter last asked the core
    this.drained = false; // whether the core applied commands since then
    // Signed words: on a span they are small integers wherever V8's are 32 bits (Node on x64), and
    // half of them where they are 31 (pointer compression), where unsigned words would be a heap
    // number each (or a quarter of them): 87-130 B less garbage per span in Node.
    this.ids = new Int32Array(4096);
    this.idAt = this.ids.length;
  }

  /**
   * Hands the recorder its core: everything recorded while there was none is applied, in order,
   * and the buffer moves into the core's memory.
   */
  attach(core, memory) {
    this.drain(true);
    this.core = core;
    this.memory = memory;
    this.local = null;
    this.ptr = core.cmd_buffer(CAP);
    this.view();
    this.drain();
  }

  view() {
    const b = this.core ? this.memory.buffer : this.local;
    this.u8 = new Uint8Array(b, this.ptr, CAP);
    this.dv = new DataView(b, this.ptr, CAP);
  }

  /** Makes room for `n` bytes; false when `n` can never fit (the caller goes the slow way). */
  room(n) {
    if (this.u8.length === 0) this.view(); // the memory grew (and moved) in some call since
    if (this.pos + n <= CAP) return true;
    this.drain(this.logged < this.maxLog);
    return n <= CAP;
  }

  /**
   * Applies everything recorded so far, in order; with `log`, or without a core yet, keeps the
   * buffer's commands instead (`keep`), for the next apply or `attach`, and the buffer is filled
   * again. Returns the core's flags (1: a batch is ready).
   */
  drain(log) {
    let len = this.pos;
    this.pos = 0;
    if (len && (log || !this.core || this.waiting.length)) {
      this.keep(len);
      len = 0;
    }
    if (log || !this.core) return 0;
    const kept = this.waiting;
    if (!kept.length) return len || this.logged ? this.run(len) : 0;
    this.waiting = [];
    let f = 0;
    for (const b of kept) f |= this.run(0, b);
    return f;
  }

  /**
   * Keeps the buffer's first `len` bytes for the next apply. The core keeps them (`cmd_buffer`),
   * and the spans applied from them take their memory once it is freed. A copy in JS memory costs
   * a fresh allocation each (12-14 % of a buffered span in Chromium, by an A/B of pages), and
   * stayed in workerd's RSS once applied. Recorded before the core loaded (browsers compile it
   * asynchronously), or behind commands waiting in JS: a copy, in order in `waiting`.
   */
  keep(len) {
    this.logged += len;
    if (this.core && !this.waiting.length) {
      try {
        this.ptr = this.core.cmd_buffer(CAP, len);
      } catch (e) {
        // The core trapped: what was recorded is lost, and the caller's code goes on.
        this.onFailed(8, e);
      }
      this.view(); // the buffer moved
    } else {
      this.view(); // the memory may have grown (and moved) in some call since the last write
      this.waiting.push(this.u8.slice(0, len));
    }
  }

  // The core applies the buffer's first `len` bytes, or `bytes` put in the buffer (made bigger
  // for bytes longer than it, then put back). Returns its flags.
  run(len, bytes) {
    let f;
    try {
      const big = bytes?.length > CAP;
      if (bytes) {
        len = bytes.length;
        if (big) this.ptr = this.core.cmd_buffer(len);
        new Uint8Array(this.memory.buffer, this.ptr, len).set(bytes);
      }
      f = this.core.run(len);
      if (big) this.ptr = this.core.cmd_buffer(CAP);
    } catch (e) {
      // The core trapped: what was recorded is lost, and the caller's code goes on.
      this.onFailed(8, e);
      return 0;
    }
    this.drained = true;
    this.logged = 0;
    this.view(); // the memory may have grown (and moved), the buffer moved
    if (f & 6) this.onFailed(f);
    return f;
  }

  rand() {
    if (this.idAt >= this.ids.length) {
      fillRandom(this.ids);
      this.idAt = 0;
    }
    return this.ids[this.idAt++];
  }

  /** The interned number of `s`, defining it first; 0 when `s` is not interned. */
  sid(s) {
    let id = this.strings.get(s);
    if (id !== undefined) return id;
    if (s.length > MAX_INTERNED || this.nextString >= MAX_STRINGS || !this.room(9 + 3 * s.length)) return 0;
    id = this.nextString++;
    this.u8[this.pos] = DEF;
    this.dv.setUint32(this.pos + 1, id, true);
    this.pos = putText(this.u8, this.dv, this.pos + 5, s);
    this.strings.set(s, id);
    return id;
  }

  /** A new context id for a trace's first span here, which opens it with its start (`start`
   * with parent 0) and closes it with its end (`end` given the context). */
  newContext() {
    return GIVEN + 1 + (this.nextCtx = (this.nextCtx + 1) % GIVEN_SPAN);
  }

  /**
   * Starts `span` (its ids are set on it: `_s0`, `_s1`, and for a root `_w0`…`_w3`) in context `ctx`
   * under the span with handle `parent`, or, when `parent` is 0, as a new trace's root or as the
   * child of `remote`, a parent in another process (`parseTraceparent`); such a span opens `ctx`
   * (from `newContext`), and its `end` closes it. Returns its handle. A name or type that cannot
   * be interned goes inline; a start too big for the buffer (a name of tens of thousands of
   * characters) is applied as bytes of its own.
   */
  start(span, ctx, parent, name, type, t, remote = null) {
    const nid = this.sid(name);
    const tid = nid && this.sid(type);
    const h = GIVEN + 1 + (this.nextHandle = (this.nextHandle + 1) % GIVEN_SPAN);
    const inline = tid === 0;
    const n = startBound(remote, inline, name, type);
    if (this.room(n)) {
      this.pos = putStart(this, this.u8, this.dv, this.pos, span, h, ctx, parent, nid, tid, t, remote, inline, name, type);
    } else {
      this.applyOwn(standalone(n, (u8, dv) => putStart(this, u8, dv, 0, span, h, ctx, parent, nid, tid, t, remote, inline, name, type)));
    }
    return h;
  }

  /** Applies commands built outside the buffer, after everything recorded before them. */
  applyOwn(bytes) {
    this.drain(true);
    this.waiting.push(bytes);
    this.drain();
  }

  // Writes an attribute command's opcode, handle and interned key, with room for `size` bytes in
  // all; returns where its value goes, or -1 when it must go the slow way (a key not interned, a
  // value too big for the buffer).
  attr(op, h, key, size) {
    const k = this.sid(key);
    if (!k || !this.room(size)) return -1;
    const p = this.pos;
    this.u8[p] = op;
    this.dv.setUint32(p + 1, h, true);
    this.dv.setUint32(p + 5, k, true);
    return p + 9;
  }

  /** Sets a string attribute; false when it must go the slow way. */
  str(h, key, value) {
    const p = this.attr(STR, h, key, 13 + 3 * value.length);
    if (p < 0) return false;
    this.pos = putText(this.u8, this.dv, p, value);
    return true;
  }

  num(h, key, value) {
    const p = this.attr(NUM, h, key, 17);
    if (p < 0) return false;
    this.dv.setFloat64(p, value, true);
    this.pos = p + 8;
    return true;
  }

  bool(h, key, value) {
    const p = this.attr(BOOL, h, key, 10);
    if (p < 0) return false;
    this.u8[p] = value ? 1 : 0;
    this.pos = p + 1;
    return true;
  }

  /**
   * Records a command from a writer (`[bound, put]`: `textsCommand`, `attrCommand`,
   * `eventCommand`, `traceCommand`) into the buffer, or, when it can never fit there, applies it as
   * bytes of its own after everything recorded before it.
   */
  write([bound, put]) {
    if (this.room(bound)) this.pos = put(this.u8, this.dv, this.pos);
    else this.applyOwn(standalone(bound, (u8, dv) => put(u8, dv, 0)));
  }

  /** Ends the span with handle `h` at `t`; with `ctx` (not 0), closes that context too: the one
   * the span opened as its trace's first span here. */
  end(h, t, ctx = 0) {
    this.room(17);
    const p = this.pos;
    this.u8[p] = ctx ? END_CLOSE : END;
    this.dv.setUint32(p + 1, h, true);
    this.dv.setFloat64(p + 5, t, true);
    if (ctx) {
      this.dv.setUint32(p + 13, ctx, true);
      this.pos = p + 17;
    } else this.pos = p + 13;
    this.ends++;
  }
}

/** Fills `a` (a Uint32Array or an Int32Array) with random words; returns it. Every runtime the
 * package supports has `crypto.getRandomValues` on the global object (Node since 19). */
export const fillRandom = (a) => globalThis.crypto.getRandomValues(a);

const utf8 = new TextEncoder();

// Writes `s` as a u32 length and UTF-8 at `at` (room for 4 + 3 * length is there); returns the
// position after it.
function putText(u8, dv, at, s) {
  const n = s.length;
  const p = at + 4;
  let w = 0;
  if (n <= 64) {
    for (; w < n; w++) {
      const c = s.charCodeAt(w);
      if (c >= 0x80) break;
      u8[p + w] = c;
    }
    if (w < n) w += utf8.encodeInto(s.slice(w), u8.subarray(p + w, p + 3 * n)).written;
  } else {
    w = utf8.encodeInto(s, u8.subarray(p, p + 3 * n)).written;
  }
  dv.setUint32(at, w, true);
  return p + w;
}

// Bytes `putTexts` may need.
function textsBound(texts) {
  let size = 6;
  for (const t of texts) size += 4 + 3 * t.length;
  return size;
}

function putTexts(u8, dv, p, op, h, texts, code) {
  u8[p] = op;
  dv.setUint32(p + 1, h, true);
  p += 5;
  if (code >= 0) u8[p++] = code;
  for (const t of texts) p = putText(u8, dv, p, t);
  return p;
}

/**
 * A command of text fields (one of `OP`) as a recorder write: its opcode, handle, the status code
 * byte when `code` is given (STATUS), then each text as length and UTF-8.
 */
export const textsCommand = (op, h, texts, code = -1) => [textsBound(texts), (u8, dv, p) => putTexts(u8, dv, p, op, h, texts, code)];

// Bytes `putStart` may need: the fixed fields and flags, a root's trace id, a remote parent's ids
// and flag, and a name and type inline.
const startBound = (remote, inline, name, type) => 54 + (remote ? 25 : 0) + (inline ? 8 + 3 * (name.length + type.length) : 0);

// A START command (src/commands.rs); `rec` draws the ids, which are set on `span`.
function putStart(rec, u8, dv, p, span, h, ctx, parent, nid, tid, t, remote, inline, name, type) {
  u8[p] = START;
  dv.setUint32(p + 1, h, true);
  dv.setUint32(p + 5, ctx, true);
  dv.setUint32(p + 9, parent, true);
  dv.setUint32(p + 13, nid, true);
  dv.setUint32(p + 17, tid, true);
  dv.setFloat64(p + 21, t, true);
  const s0 = rec.rand();
  const s1 = rec.rand() || (s0 ? 0 : 1);
  dv.setUint32(p + 29, s0, false);
  dv.setUint32(p + 33, s1, false);
  span._s0 = s0;
  span._s1 = s1;
  const root = parent === 0 && !remote;
  u8[p + 37] = (root ? 1 : 0) | (remote ? 2 : 0) | (inline ? 4 : 0) | (parent === 0 ? OPENS_CONTEXT : 0);
  p += 38;
  if (root) {
    dv.setUint32(p, (span._w0 = rec.rand()), false);
    dv.setUint32(p + 4, (span._w1 = rec.rand()), false);
    dv.setUint32(p + 8, (span._w2 = rec.rand()), false);
    dv.setUint32(p + 12, (span._w3 = rec.rand() || 1), false);
    p += 16;
  } else if (remote) {
    u8.set(remote.ids, p);
    u8[p + 24] = remote.sampled ? 1 : 0;
    p += 25;
  }
  if (inline) {
    p = putText(u8, dv, p, name);
    p = putText(u8, dv, p, type);
  }
  return p;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/**
 * An incoming W3C `traceparent` header read as the core reads it (src/propagation.rs): lowercase
 * hex ids, not all zeros; version `ff` refused, and version 00 with nothing after the flags.
 * `{ traceId, ids (trace id then span id, 24 bytes), sampled }`, or null when it is not valid.
 */
export function parseTraceparent(header) {
  const m = TRACEPARENT.exec(String(header).trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined) || ZEROS.test(m[2]) || ZEROS.test(m[3])) return null;
  const ids = new Uint8Array(24);
  const hex = m[2] + m[3];
  for (let i = 0; i < 24; i++) ids[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { traceId: m[2], ids, sampled: (parseInt(m[4], 16) & 1) === 1 };
}

// Bytes `putValue` may need: a tag, then text or 8 bytes.
const valueBound = (value) => 1 + (typeof value === 'string' ? 4 + 3 * value.length : 8);

// Bytes `putAttr` may need: opcode, handle, key, then the value.
const attrBound = (key, value) => 9 + 3 * key.length + valueBound(value);

// An attribute value as the core reads it (src/commands.rs): a tag (0 text, 1 integer, 2 double,
// 3 boolean, 4 JSON text), then the value. Numbers follow the core's rule: integral values within
// ±2^53 are integers, others doubles.
function putValue(u8, dv, p, value, json) {
  if (typeof value === 'string') {
    u8[p] = json ? 4 : 0;
    return putText(u8, dv, p + 1, value);
  }
  if (typeof value === 'boolean') {
    u8[p] = 3;
    u8[p + 1] = value ? 1 : 0;
    return p + 2;
  }
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 53) {
    u8[p] = 1;
    dv.setBigInt64(p + 1, BigInt(value), true);
  } else {
    u8[p] = 2;
    dv.setFloat64(p + 1, value, true);
  }
  return p + 9;
}

// An ATTR command (src/commands.rs).
function putAttr(u8, dv, p, h, key, value, json) {
  u8[p] = ATTR;
  dv.setUint32(p + 1, h, true);
  return putValue(u8, dv, putText(u8, dv, p + 5, key), value, json);
}

/**
 * An attribute with its key inline as a recorder write: for a key the recorder does not intern,
 * and for JSON values (`json`: `value` is JSON text).
 */
export const attrCommand = (h, key, value, json = false) => [attrBound(key, value), (u8, dv, p) => putAttr(u8, dv, p, h, key, value, json)];

// A list of `[key, value, json]` entries (values: text, numbers, booleans; `json`: the text is
// JSON) as the core reads them: a count, then each key and value.
const entriesBound = (entries) => entries.reduce((n, [k, v]) => n + 4 + 3 * k.length + valueBound(v), 4);

function putEntries(u8, dv, p, entries) {
  dv.setUint32(p, entries.length, true);
  p += 4;
  for (const [k, v, json] of entries) p = putValue(u8, dv, putText(u8, dv, p, k), v, json);
  return p;
}

/** An EVENT command (name, attribute entries) as a recorder write: `[bound, put]`. */
export function eventCommand(h, name, entries) {
  return [9 + 3 * name.length + entriesBound(entries), (u8, dv, p) => {
    u8[p] = EVENT;
    dv.setUint32(p + 1, h, true);
    return putEntries(u8, dv, putText(u8, dv, p + 5, name), entries);
  }];
}

/** A TRACE command (`[field, key, value]` fields of a trace update) as a recorder write. */
export function traceCommand(h, fields) {
  const bound = fields.reduce((n, [, k, v]) => n + 9 + 3 * (k.length + v.length), 9);
  return [bound, (u8, dv, p) => {
    u8[p] = TRACE;
    dv.setUint32(p + 1, h, true);
    dv.setUint32(p + 5, fields.length, true);
    p += 9;
    for (const [f, k, v] of fields) {
      u8[p] = f;
      p = putText(u8, dv, putText(u8, dv, p + 1, k), v);
    }
    return p;
  }];
}

/**
 * `init()`'s core options in the core's binary form (src/commands.rs `config_fields`): each
 * option, and each resource attribute of a plain-object `resourceAttributes`, with its value
 * (objects and arrays as JSON). The core checks them.
 */
export function configBytes(options, keys, json) {
  const fields = [];
  for (const k of keys) {
    const v = options[k];
    if (v === undefined || v === null) continue;
    if (k === 'resourceAttributes' && typeof v === 'object' && !Array.isArray(v)) {
      for (const [rk, rv] of Object.entries(v)) if (rv !== undefined && rv !== null) fields.push([1, rk, rv]);
    } else fields.push([0, k, v]);
  }
  const entries = fields.map(([kind, k, v]) => {
    const primitive = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    return [kind, k, primitive ? v : json(v), !primitive];
  });
  const bound = entries.reduce((n, [, k, v]) => n + 5 + 3 * k.length + valueBound(v), 4);
  return standalone(bound, (u8, dv) => {
    dv.setUint32(0, entries.length, true);
    let p = 4;
    for (const [kind, k, v, isJson] of entries) {
      u8[p] = kind;
      p = putValue(u8, dv, putText(u8, dv, p + 1, k), v, isJson);
    }
    return p;
  });
}

// A command as bytes of its own, for one too big for the recorder's buffer.
function standalone(bound, put) {
  const out = new Uint8Array(bound);
  return out.subarray(0, put(out, new DataView(out.buffer)));
}

/** The exporter's report of a batch of `spans` it gave up on, as a command of its own. */
export const exportFailedCommand = (spans) => standalone(5, (u8, dv) => {
  u8[0] = EXPORT_FAILED;
  dv.setUint32(1, spans, true);
  return 5;
});

// A word as 8 hex digits (a signed word as its unsigned bits).
const hex8 = (n) => (n >>> 0).toString(16).padStart(8, '0');

/** Lowercase hex of an id's words (as written: big-endian): a span id's two, a trace id's four. */
export const idHex = (...words) => words.map(hex8).join('');
