// A wasm module as a JS template literal whose characters are its bytes (U+0000–U+00FF), for the
// browser entry's inlined wasm. ASCII only: bytes below 0x80 stand as themselves (control
// characters too: a template literal may hold them raw, all but CR, which it would read as LF),
// the rest as `\xNN`. Unlike base64, which re-cuts every 3 bytes into 4 six-bit letters, this
// keeps the module's byte patterns, so gzip compresses it nearly as well as the .wasm itself
// (the browser core: 72.2 KB gzip as base64, 58.6 KB this way, 53.2 KB as a .wasm file). It is
// also the form esbuild prints such a string in. Decoded with charCodeAt (pkg-templates/browser.js).
const ESCAPES = { 0x0d: '\\r', 0x24: '\\$', 0x5c: '\\\\', 0x60: '\\`' };

/** The bytes of `buf` as the source text of a JS template literal. */
export function wasmStringLiteral(buf) {
  const parts = ['`'];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (ESCAPES[b]) parts.push(ESCAPES[b]);
    // `\0` must not run into a following digit (that would be an octal escape, an error here).
    else if (b === 0) parts.push(buf[i + 1] >= 0x30 && buf[i + 1] <= 0x39 ? '\\x00' : '\\0');
    else if (b >= 0x7f) parts.push(`\\x${b.toString(16)}`);
    else parts.push(String.fromCharCode(b));
  }
  parts.push('`');
  return parts.join('');
}
