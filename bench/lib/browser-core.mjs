// The browser entry's cores as a package carries them: a module whose default export is the wasm,
// raw-deflated, as base64 (`core/wasm-deflate.js`, and `core/wasm-deflate-json.js` for OTLP/JSON;
// scripts/build.mjs writes the shipped ones with Zopfli). Read by the benchmarks that look at the
// shipped core, written by those that put a core of their own into a copy of the package.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** The wasm bytes of the browser core `file` in the package at `pkgDir`. */
export async function readBrowserCore(pkgDir, file = 'wasm-deflate.js') {
  const base64 = (await import(pathToFileURL(join(pkgDir, 'core', file)).href)).default;
  return inflateRawSync(Buffer.from(base64, 'base64'));
}

/** Puts `wasm` in the package at `pkgDir` as its browser core `file`, deflated by zlib (level 9:
 * these copies are for timing and profiles, so the shipped build's Zopfli is not needed), with
 * `what` as the module's comment. */
export function writeBrowserCore(pkgDir, wasm, what, file = 'wasm-deflate.js') {
  writeFileSync(join(pkgDir, 'core', file), `// ${what}\nexport default '${deflateRawSync(wasm, { level: 9 }).toString('base64')}';\n`);
}
