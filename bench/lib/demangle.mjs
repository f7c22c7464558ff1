// Rust's legacy symbol names (`_ZN9edgetrace6tracer8set_attr17h0123456789abcdefE`), as the name
// section of a module built without wasm-bindgen keeps them (the browser's cores: wasm-bindgen
// demangled the others'), read back as paths (`edgetrace::tracer::set_attr`), without the hash.
// Names that are not mangled come back as they are.
const ESCAPES = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };

export function demangle(name) {
  // The allocator shims rustc generates keep v0 names even so: `_RNvCs…_7___rustc14___rust_realloc`.
  const shim = /^_RNvCs[0-9A-Za-z]*_7___rustc\d+(\w+)$/.exec(name);
  if (shim) return `__rustc::${shim[1]}`;
  const m = /^_?_ZN(.*)E(\.llvm\.\d+)?$/.exec(name);
  if (!m) return name;
  const parts = [];
  let s = m[1];
  while (s.length) {
    const d = /^(\d+)/.exec(s);
    if (!d) return name;
    const len = Number(d[1]);
    parts.push(s.slice(d[1].length, d[1].length + len));
    s = s.slice(d[1].length + len);
  }
  if (/^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  const unescape = (p) => p
    .replace(/^_\$/, '$')
    .replace(/\$([A-Z]+|u[0-9a-f]+)\$/g, (all, e) => ESCAPES[e] ?? (e[0] === 'u' ? String.fromCodePoint(parseInt(e.slice(1), 16)) : all))
    .replace(/\.\./g, '::');
  return parts.map(unescape).join('::');
}
