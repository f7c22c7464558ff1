// Shipped size of a browser entry that traces a function and exports, built the same way for
// each (esbuild, bundle, minify, ESM, browser conditions), then gzip -9. edgetrace's browser
// entry carries its wasm deflated, as base64, so its one file is all it ships; the binary-asset
// variant is what it would ship with the .wasm served as a file.
import { build } from 'esbuild';
import { existsSync, readFileSync, symlinkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readBrowserCore } from './lib/browser-core.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, 'out', 'size');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'node_modules'), { recursive: true });
symlinkSync(join(here, '../pkg'), join(out, 'node_modules', 'edgetrace'));

const gz = (b) => gzipSync(b, { level: 9 }).length;
const common = {
  bundle: true, minify: true, format: 'esm', platform: 'browser', write: false,
  nodePaths: [join(out, 'node_modules'), join(here, '../node_modules')], logLevel: 'error', legalComments: 'none',
};
// edgetrace's entry is code-split, as Vite, webpack and Rollup split a dynamic import: the model
// API parsers are a chunk of their own, loaded on the first model call. The entry's size is what
// a page loads up front (the entry and the chunks it imports statically).
const split = await build({ ...common, entryPoints: [join(here, 'entries', 'edgetrace-web.js')], splitting: true, outdir: join(out, 'split'), metafile: true });
const files = new Map(split.outputFiles.map((f) => [f.path.slice(join(out, 'split').length + 1), f.contents]));
// The metafile names outputs relative to the working directory; the split has no subfolders.
const meta = new Map(Object.entries(split.metafile.outputs).map(([k, v]) => [basename(k), v]));
const reach = (start, kinds) => {
  const seen = new Set();
  const walk = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of meta.get(f)?.imports || []) if (kinds.includes(i.kind)) walk(basename(i.path));
  };
  walk(start);
  return seen;
};
const entryFile = [...files.keys()].find((f) => f.startsWith('edgetrace-web'));
const initial = reach(entryFile, ['import-statement']);
const all = reach(entryFile, ['import-statement', 'dynamic-import']);
const sum = (set) => [...set].reduce((a, f) => ({ raw: a.raw + files.get(f).length, gzip9: a.gzip9 + gz(files.get(f)) }), { raw: 0, gzip9: 0 });
const rows = [{ name: 'edgetrace (JS + deflated core wasm, loaded up front)', ...sum(initial) }];
// Where the up-front bytes come from: minified bytes per source file, from esbuild's metafile.
const byInput = new Map();
for (const f of initial) {
  for (const [path, { bytesInOutput }] of Object.entries(meta.get(f).inputs)) {
    const key = path.replace(/^(.*node_modules\/edgetrace|(\.\.\/)*pkg)\//, 'edgetrace/').replace(/^.*bench\/entries\//, 'entry: ');
    byInput.set(key, (byInput.get(key) || 0) + bytesInOutput);
  }
}
writeFileSync(join(here, 'out', 'size-inputs.json'), JSON.stringify(Object.fromEntries([...byInput].sort((a, b) => b[1] - a[1]))));
// The chunks loaded later: the model API parsers, and the core with the OTLP/JSON encoder that
// loads instead of the entry's own core for init({ format: 'json' }).
const later = [...all].filter((f) => !initial.has(f));
const isJsonCore = (f) => Object.keys(meta.get(f).inputs).some((p) => p.endsWith('core/wasm-deflate-json.js'));
const lazy = sum(new Set(later.filter((f) => !isJsonCore(f))));
const jsonCore = sum(new Set(later.filter(isJsonCore)));
// OpenTelemetry JS 3 (sdk-trace 3, in bench/otel3/ with its own node_modules, which
// scripts/setup.sh installs): its web entry, which has no Zone.js context manager to take.
const OTEL3 = existsSync(join(here, 'otel3', 'node_modules')) ? [['OpenTelemetry JS 3 web (sdk-trace 3), no Zone.js', join(here, 'otel3', 'web.js')]] : [];
for (const [name, entry] of [['OpenTelemetry web + Zone.js', join(here, 'entries', 'otel-web-zone.js')], ['OpenTelemetry web, no Zone.js', join(here, 'entries', 'otel-web.js')], ...OTEL3]) {
  const r = await build({ ...common, entryPoints: [entry] });
  const js = r.outputFiles[0].contents;
  rows.push({ name, raw: js.length, gzip9: gz(js) });
}
// The browser entry carries the size-optimized wasm deflated, as base64 (pkg/core/edgetrace_bg.wasm
// is the Node and Workers build): the binary asset is that copy, inflated.
const inlinePath = join(here, '../pkg/core/wasm-deflate.js');
const inline = readFileSync(inlinePath);
const wasm = await readBrowserCore(join(here, '../pkg'));
const et = rows[0];
rows.splice(1, 0, {
  name: 'edgetrace, wasm as a binary asset (JS + .wasm)',
  raw: et.raw - inline.length + wasm.length,
  gzip9: et.gzip9 - gz(inline) + gz(wasm),
  estimate: true,
}, { name: 'edgetrace model API parsers (a chunk loaded on the first model call, not up front)', ...lazy, lazy: true },
{ name: "edgetrace core with OTLP/JSON (a chunk loaded instead of the entry's core for init({ format: 'json' }))", ...jsonCore, lazy: true });
console.log(JSON.stringify(rows));
