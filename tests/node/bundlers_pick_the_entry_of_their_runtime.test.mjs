// Which entry a bundler takes from the package's exports map, by the conditions it resolves with:
// wrangler's (workerd, worker, browser) the Workers entry, Node's the Node entry, and everything
// else that runs in a browser or a web worker the browser entry. webpack's `target: 'webworker'`
// adds the `worker` condition, which sent it to the Workers entry: its `import … from '….wasm'`
// (a Workers module import) failed the build (found by a packaging review). Vercel's Edge runtime
// (Next.js's `runtime = 'edge'`) resolves with `edge-light` and gets the entry of its own.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { build } from 'esbuild';
import { root } from './helpers/util.mjs';

const dir = mkdtempSync(join(tmpdir(), 'et-resolve-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(join(root, 'pkg'), join(dir, 'node_modules/edgetrace'), 'dir');
writeFileSync(join(dir, 'app.mjs'), "export { init } from 'edgetrace';\n");

/** The package entry esbuild resolves `edgetrace` to, for a platform and extra conditions. */
async function entryFor(platform, conditions) {
  const r = await build({
    entryPoints: [join(dir, 'app.mjs')],
    bundle: true,
    write: false,
    metafile: true,
    platform,
    conditions,
    format: 'esm',
    logLevel: 'silent',
    // Only which file is taken is asked: the wasm and the platform's modules stay out.
    external: ['*.wasm', '*.wasm?module', 'node:*'],
  });
  const entries = Object.keys(r.metafile.inputs).filter((f) => /(^|\/)(node|browser|workerd|edge-light)\.js$/.test(f));
  assert.equal(entries.length, 1, entries.join(', '));
  return entries[0].split('/').pop();
}

test('each runtime gets its own entry', async () => {
  assert.equal(await entryFor('neutral', ['workerd', 'worker', 'browser']), 'workerd.js', "wrangler's conditions");
  assert.equal(await entryFor('node', []), 'node.js');
  assert.equal(await entryFor('browser', []), 'browser.js');
  assert.equal(await entryFor('browser', ['worker']), 'browser.js', "a web worker's (webpack's target: 'webworker')");
  // Next.js's Edge runtime and Vercel's: the browser entry's core cannot load there (no
  // DecompressionStream, no wasm compiled from bytes), so it has an entry of its own.
  assert.equal(await entryFor('neutral', ['edge-light', 'worker', 'browser']), 'edge-light.js', "Vercel's Edge runtime's");
  assert.equal(await entryFor('browser', ['edge-light', 'browser', 'module', 'import']), 'edge-light.js', "Next.js's Edge build's");
});
