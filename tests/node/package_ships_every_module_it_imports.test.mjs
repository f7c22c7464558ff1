// `npm install edgetrace` gets what `npm pack` puts in the tarball, which is what package.json's
// "files" lists, not what pkg/ holds. Every module an entry imports (statically, dynamically, or as
// a file next to it), followed from each entry in "exports", must be in it: a chunk left out
// (the core with the OTLP/JSON encoder once was) fails only on the page that loads it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../../pkg/', import.meta.url));

// Relative specifiers in a module: `from './x'`, `import './x'`, `import('./x')`, `new URL('./x', import.meta.url)`.
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(?\s*|\bnew URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

function reachable(entry) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.js')) return;
    // Without comments: JSDoc's `import('./edgetrace')` types name no file.
    const src = readFileSync(join(pkg, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    // `?module` (the Edge entry's wasm imports) names the file without it.
    for (const [, , spec] of src.matchAll(SPECIFIERS)) walk(normalize(join(dirname(file), spec.replace(/\?module$/, ''))));
  };
  walk(entry);
  return seen;
}

test('the packed package holds every module its entries reach', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg, stdio: ['ignore', 'pipe', 'ignore'] }))[0].files.map((f) => f.path);
  // Every file any export names, under any condition (`.` by runtime, `./feedback`, …).
  const named = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(named));
  const exported = Object.values(manifest.exports).flatMap(named).map((p) => normalize(p));
  for (const f of exported) assert.ok(packed.includes(f), `${f}, named in "exports", is in the tarball`);
  const entries = [...new Set(exported.filter((p) => p.endsWith('.js')))];
  assert.ok(entries.includes('feedback.js'), 'edgetrace/feedback is an entry');
  assert.ok(entries.includes('browser.js') && entries.includes('node.js') && entries.includes('workerd.js') && entries.includes('edge-light.js'), `the entries (${entries.join(', ')})`);
  const all = new Set();
  for (const entry of entries) for (const f of reachable(entry)) all.add(f);
  // The walk finds the pieces it must: both browser cores, their loader, the parsers' chunk.
  for (const f of ['core-abi.js', 'core/wasm-deflate.js', 'core/wasm-deflate-json.js', 'llm-browser.js', 'core/edgetrace_bg.wasm']) {
    assert.ok(all.has(f), `the import walk reaches ${f}`);
  }
  assert.ok(packed.includes('LICENSE'), 'the license text ships with the package (package.json says Apache-2.0)');
  const missing = [...all].filter((f) => !packed.includes(f));
  assert.deepEqual(missing, [], 'reached from an entry but left out of the tarball: add them to pkg-templates/package.json "files"');
  for (const f of all) assert.ok(existsSync(join(pkg, f)), `${f} exists in pkg/`);
});

test("the package's README links to no file the package does not hold (a registry has no repository to resolve them against)", () => {
  const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
  const relative = [...readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g)].map((m) => m[1]).filter((p) => !existsSync(join(pkg, p.split('#')[0])));
  assert.deepEqual(relative, [], 'links and images to files outside pkg/');
  assert.match(readme, /`bench\/RESULTS\.md` \(in the source repository\)/, 'a link becomes its text and where it is');
});
