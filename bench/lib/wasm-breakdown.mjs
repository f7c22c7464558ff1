// Where a wasm module's bytes go: each function body's size, named from the module's name
// section (so the module must keep it: bench/lib/named-pkg.mjs builds such a copy), summed by
// the Rust crate (and, for edgetrace itself, the module) the function comes from. Data segments,
// imports/exports/tables and the rest of the module are rows of their own; the name section is
// left out (the shipped module has none).
import { demangle } from './demangle.mjs';

function leb(buf, at) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [v, at];
  }
}

/** Rows `{ part, bytes }`, biggest first; `total` is the module without its name section;
 * `functions`, each function body `{ name, part, bytes }`, biggest first. */
export function wasmBreakdown(buf) {
  const sections = [];
  let at = 8;
  while (at < buf.length) {
    const id = buf[at];
    const [size, start] = leb(buf, at + 1);
    let name = null;
    if (id === 0) {
      const [n, s] = leb(buf, start);
      name = buf.subarray(s, s + n).toString('utf8');
    }
    sections.push({ id, name, start, end: start + size, header: start - at });
    at = start + size;
  }
  // Function imports come first in the function index space.
  let imported = 0;
  const imp = sections.find((s) => s.id === 2);
  if (imp) {
    let [count, p] = leb(buf, imp.start);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) {
        const [n, q] = leb(buf, p);
        p = q + n;
      }
      const kind = buf[p++];
      if (kind === 0) {
        imported++;
        [, p] = leb(buf, p);
      } else if (kind === 1) {
        p++;
        const [flags, q] = leb(buf, p);
        [, p] = leb(buf, q);
        if (flags & 1) [, p] = leb(buf, p);
      } else if (kind === 2) {
        const [flags, q] = leb(buf, p);
        [, p] = leb(buf, q);
        if (flags & 1) [, p] = leb(buf, p);
      } else if (kind === 3) p += 2;
      else throw new Error(`unknown import kind ${kind}`);
    }
  }
  const names = new Map();
  const nameSec = sections.find((s) => s.id === 0 && s.name === 'name');
  if (nameSec) {
    let [n, p] = leb(buf, nameSec.start);
    p += n;
    while (p < nameSec.end) {
      const sub = buf[p];
      const [len, q] = leb(buf, p + 1);
      if (sub === 1) {
        let [count, r] = leb(buf, q);
        for (let i = 0; i < count; i++) {
          const [idx, r1] = leb(buf, r);
          const [nl, r2] = leb(buf, r1);
          names.set(idx, demangle(buf.subarray(r2, r2 + nl).toString('utf8')));
          r = r2 + nl;
        }
      }
      p = q + len;
    }
  }
  const parts = new Map();
  const functions = [];
  const add = (part, bytes) => parts.set(part, (parts.get(part) || 0) + bytes);
  let total = 0;
  for (const s of sections) {
    const bytes = s.end - s.start + s.header;
    if (s.id === 0 && (s.name === 'name' || s.name === 'producers' || s.name === 'target_features')) continue;
    total += bytes;
    if (s.id === 10) {
      let [count, p] = leb(buf, s.start);
      add('(section headers, code)', p - s.start + s.header);
      for (let i = 0; i < count; i++) {
        const [len, q] = leb(buf, p);
        const name = names.get(imported + i) || `(function ${imported + i})`;
        const fn = { name, part: partOf(name), bytes: len + (q - p) };
        functions.push(fn);
        add(fn.part, fn.bytes);
        p = q + len;
      }
    } else if (s.id === 11) add('data (string literals, tables)', bytes);
    else add('imports, exports, types, tables, globals', bytes);
  }
  return {
    total,
    rows: [...parts].map(([part, bytes]) => ({ part, bytes })).sort((a, b) => b.bytes - a.bytes),
    functions: functions.sort((a, b) => b.bytes - a.bytes),
  };
}

// The crate a (demangled) Rust function name comes from: `edgetrace::tracer::…` → `edgetrace::
// tracer`, `<dlmalloc::…>::malloc` → `dlmalloc`, `core[…]::fmt::…` → `core::fmt`.
function partOf(name) {
  let n = name.replace(/\[[0-9a-f]+\]/g, '').replace(/^[<&\s]+/, '');
  if (!n) return '(unnamed)';
  // `<T as wasm_bindgen::…>::f`: the trait's crate when the type is a generic or a primitive.
  const as = /^(\S+?)(?:<.*?>)? as ([<&\s]*)(.*)$/.exec(n);
  if (as) n = /^([A-Z]|[a-z0-9]+|\[.*\]|dyn)$/.test(as[1]) ? as[3] : as[1];
  // The browser's cores export plain functions (src/abi.rs, `et_*`); Node's, wasm-bindgen shims.
  if (/^(et_[a-z_]+)$/.test(n)) return 'exports: the plain exports (src/abi.rs) and the Rust code inlined into them';
  if (/^(__wbg|__wbindgen|__externref|core_[a-z_]+\b)/.test(n)) return 'exports: wasm-bindgen shims and the Rust code inlined into them';
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:::([A-Za-z_][A-Za-z0-9_]*))?/.exec(n);
  if (!m) return 'Rust std: vectors, strings, slices, Rc';
  const [, crate, mod] = m;
  if (crate === 'edgetrace') return `edgetrace::${mod}`;
  if (crate === 'wasm_bindgen' || crate === 'js_sys') return 'exports: wasm-bindgen shims and the Rust code inlined into them';
  if (['char', 'str', 'u8', 'u32', 'u64', 'usize', 'i64', 'f64', 'memcmp', 'memcpy', 'memset', 'memmove'].includes(crate)) return 'Rust std: vectors, strings, slices, Rc';
  if (crate === 'core' || crate === 'alloc' || crate === 'std') {
    if (['fmt', 'panicking', 'panic', 'unicode', 'char', 'result', 'option'].includes(mod)) return 'Rust std: formatting and panics';
    if (mod === 'collections') return 'Rust std: collections (BTreeMap, VecDeque)';
    return 'Rust std: vectors, strings, slices, Rc';
  }
  if (crate === 'hashbrown') return 'hashbrown (HashMap)';
  if (['talc', 'allocator_api2', 'dlmalloc', '__rdl_alloc', '__rustc'].includes(crate)) return 'the allocator (talc)';
  return crate;
}
