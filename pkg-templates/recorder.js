// The span hot path: starts, attributes and ends are written as compact commands into a buffer
// in the wasm core's memory, and the core applies them in one call (`run`) when the buffer fills,
// when a batch may be due, or before any other call into the core (see src/commands.rs for the
// format). One call per buffer instead of several per span: crossing into wasm costs more than
// the span work itself.
//
// Handles, context ids and span/trace ids are chosen here, so starting a span needs no answer
// from the core. Names, span types and attribute keys are interned: sent once, then by number.

const START = 1;
const STR = 2;
const NUM = 3;
const BOOL = 4;
const END = 5;
const DEF = 6;
const CTX_OPEN = 7;
const CTX_CLOSE = 8;
const ATTR = 11;
/** The commands of text fields the JS layer records besides the hot path's (src/commands.rs). */
export const OP = { INPUTS: 9, OUTPUTS: 10, TYPE: 12, STATUS: 13, EVENT: 14, EXCEPTION: 15, TRACE: 16 };

const GIVEN = 0x80000000; // handles and context ids from here up are ours (tracer.rs GIVEN_HANDLES)
const CAP = 1 << 17;
const MAX_STRINGS = 65000; // below the core's 65,536
const MAX_INTERNED = 200; // longer names and keys are not interned (they go the slow way)

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
   * @param {any} core the wasm Core
   * @param {WebAssembly.Memory} memory its memory
   * @param {(flags: number, error?: unknown) => void} onFailed told when applied commands failed
   *   (flags 2 or 4) or the core threw (8)
   */
  constructor(core, memory, onFailed) {
    this.core = core;
    this.memory = memory;
    this.onFailed = onFailed;
    this.ptr = core.cmd_buffer(CAP);
    this.pos = 0;
    this.u8 = null;
    this.dv = null;
    this.view();
    this.strings = new Map();
    this.nextString = 1;
    this.nextHandle = 0;
    this.nextCtx = 0;
    this.ends = 0; // spans ended since the exporter last asked the core
    this.drained = false; // whether the core applied commands since then
    this.ids = new Uint32Array(4096);
    this.idAt = this.ids.length;
  }

  view() {
    const b = this.memory.buffer;
    this.u8 = new Uint8Array(b, this.ptr, CAP);
    this.dv = new DataView(b, this.ptr, CAP);
  }

  /** Makes room for `n` bytes; false when `n` can never fit (the caller goes the slow way). */
  room(n) {
    if (this.u8.length === 0) this.view(); // the memory grew (and moved) in some call since
    if (this.pos + n <= CAP) return true;
    this.drain();
    return n <= CAP;
  }

  /** Applies everything recorded so far. Returns the core's flags (1: a batch is ready). */
  drain() {
    if (this.pos === 0) return 0;
    const len = this.pos;
    this.pos = 0;
    let f;
    try {
      f = this.core.run(len);
    } catch (e) {
      // The core trapped: what was recorded is lost, and the caller's code goes on.
      this.onFailed(8, e);
      return 0;
    }
    this.drained = true;
    if (this.u8.length === 0) this.view();
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

  openContext() {
    this.room(5);
    const ctx = GIVEN + 1 + (this.nextCtx = (this.nextCtx + 1) % 0x7ffffffe);
    this.u8[this.pos] = CTX_OPEN;
    this.dv.setUint32(this.pos + 1, ctx, true);
    this.pos += 5;
    return ctx;
  }

  closeContext(ctx) {
    this.room(5);
    this.u8[this.pos] = CTX_CLOSE;
    this.dv.setUint32(this.pos + 1, ctx, true);
    this.pos += 5;
  }

  /**
   * Starts `span` (its ids are set on it: `_s0`, `_s1`, and for a root `_w0`…`_w3`) in context `ctx`
   * under the span with handle `parent` (0: a new trace). Returns its handle, or 0 when the name
   * or type cannot be interned (the caller starts it the slow way).
   */
  start(span, ctx, parent, name, type, t) {
    const nid = this.sid(name);
    const tid = nid && this.sid(type);
    if (!tid || !this.room(59)) return 0;
    const h = GIVEN + 1 + (this.nextHandle = (this.nextHandle + 1) % 0x7ffffffe);
    const dv = this.dv;
    let p = this.pos;
    this.u8[p] = START;
    dv.setUint32(p + 1, h, true);
    dv.setUint32(p + 5, ctx, true);
    dv.setUint32(p + 9, parent, true);
    dv.setUint32(p + 13, nid, true);
    dv.setUint32(p + 17, tid, true);
    dv.setFloat64(p + 21, t, true);
    const s0 = this.rand();
    const s1 = this.rand() || (s0 ? 0 : 1);
    dv.setUint32(p + 29, s0, false);
    dv.setUint32(p + 33, s1, false);
    span._s0 = s0;
    span._s1 = s1;
    if (parent === 0) {
      this.u8[p + 37] = 1;
      dv.setUint32(p + 38, (span._w0 = this.rand()), false);
      dv.setUint32(p + 42, (span._w1 = this.rand()), false);
      dv.setUint32(p + 46, (span._w2 = this.rand()), false);
      dv.setUint32(p + 50, (span._w3 = this.rand() || 1), false);
      p += 54;
    } else {
      this.u8[p + 37] = 0;
      p += 38;
    }
    this.pos = p;
    return h;
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
   * A command of text fields (one of `OP`): its opcode, handle, the status code byte when `code`
   * is given (STATUS), then each text as length and UTF-8. False when it can never fit the buffer
   * (the caller applies `textCommand`'s bytes instead).
   */
  texts(op, h, texts, code = -1) {
    if (!this.room(textsBound(texts))) return false;
    this.pos = putTexts(this.u8, this.dv, this.pos, op, h, texts, code);
    return true;
  }

  /**
   * An attribute with its key inline (see `attrCommand`): for a key the recorder does not intern
   * and for JSON values. False when it can never fit the buffer.
   */
  inlineAttr(h, key, value, json = false) {
    if (!this.room(attrBound(key, value))) return false;
    this.pos = putAttr(this.u8, this.dv, this.pos, h, key, value, json);
    return true;
  }

  end(h, t) {
    this.room(13);
    const p = this.pos;
    this.u8[p] = END;
    this.dv.setUint32(p + 1, h, true);
    this.dv.setFloat64(p + 5, t, true);
    this.pos = p + 13;
    this.ends++;
  }
}

function fillRandom(a) {
  const c = globalThis.crypto;
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(a);
  else for (let i = 0; i < a.length; i++) a[i] = (Math.random() * 0x100000000) >>> 0;
}

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

// Bytes `putAttr` may need: opcode, handle, key, tag, then text or 8 bytes.
const attrBound = (key, value) => 14 + 3 * key.length + (typeof value === 'string' ? 4 + 3 * value.length : 8);

// An ATTR command (src/commands.rs). Numbers follow the core's rule: integral values within
// ±2^53 are integers, others doubles.
function putAttr(u8, dv, p, h, key, value, json) {
  u8[p] = ATTR;
  dv.setUint32(p + 1, h, true);
  p = putText(u8, dv, p + 5, key);
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

// A command as bytes of its own, for one too big for the recorder's buffer.
function standalone(bound, put) {
  const out = new Uint8Array(bound);
  return out.subarray(0, put(out, new DataView(out.buffer)));
}

/** `Recorder.inlineAttr`'s command as bytes of its own (`json`: `value` is JSON text). */
export const attrCommand = (h, key, value, json = false) =>
  standalone(attrBound(key, value), (u8, dv) => putAttr(u8, dv, 0, h, key, value, json));

/** `Recorder.texts`'s command as bytes of its own. */
export const textCommand = (op, h, texts, code = -1) =>
  standalone(textsBound(texts), (u8, dv) => putTexts(u8, dv, 0, op, h, texts, code));

const hex8 = (n) => (n >>> 0).toString(16).padStart(8, '0');

/** Lowercase hex of a span id's words (as written: big-endian). */
export const spanIdHex = (a, b) => hex8(a) + hex8(b);

/** Lowercase hex of a trace id's words. */
export const traceIdHex = (a, b, c, d) => hex8(a) + hex8(b) + hex8(c) + hex8(d);
