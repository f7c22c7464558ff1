// Shipped size of a browser entry that traces a function and exports, built the same way for
// each (esbuild, bundle, minify, ESM, browser conditions), then gzip -9. edgetrace's browser
// entry carries its wasm inlined (base64), so its one file is all it ships; the binary-asset
// variant is what it would ship with the .wasm served as a file.
import { build } from 'esbuild';
import { readFileSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, 'out', 'size');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'node_modules'), { recursive: true });
symlinkSync(join(here, '../pkg'), join(out, 'node_modules', 'edgetrace'));

const gz = (b) => gzipSync(b, { level: 9 }).length;
const rows = [];
for (const [name, entry] of [['edgetrace (JS + inlined wasm)', 'edgetrace-web.js'], ['OpenTelemetry web + Zone.js', 'otel-web-zone.js'], ['OpenTelemetry web, no Zone.js', 'otel-web.js']]) {
  const r = await build({
    entryPoints: [join(here, 'entries', entry)], bundle: true, minify: true, format: 'esm', platform: 'browser',
    write: false, nodePaths: [join(out, 'node_modules'), join(here, '../node_modules')], logLevel: 'error', legalComments: 'none',
  });
  const js = r.outputFiles[0].contents;
  rows.push({ name, raw: js.length, gzip9: gz(js) });
}
// The browser entry inlines the size-optimized wasm (pkg/core/edgetrace_bg.wasm is the Node and
// Workers build): the binary asset is that inlined copy, decoded.
const inline = readFileSync(join(here, '../pkg/core/wasm-inline.js'));
const wasm = Buffer.from(JSON.parse(/export default (".*");/.exec(inline.toString('utf8'))[1]), 'base64');
const et = rows[0];
rows.splice(1, 0, {
  name: 'edgetrace, wasm as a binary asset (JS + .wasm)',
  raw: et.raw - inline.length + wasm.length,
  gzip9: et.gzip9 - gz(inline) + gz(wasm),
  estimate: true,
});
console.log(JSON.stringify(rows));
