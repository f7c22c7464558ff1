// A Node app bundled by esbuild or `bun build` (platform node) carries edgetrace's JS but not its
// .wasm files, which node.js reads from beside itself. init() threw the file error into the app
// (ENOENT from an ESM bundle, "Invalid URL" from a CommonJS one, where import.meta.url is empty),
// though it is documented to throw only on an invalid option. Now the app runs on, untraced, with
// one warning that says what to do. (Found by a packaging review.)
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { root } from './helpers/util.mjs';

const dir = mkdtempSync(join(tmpdir(), 'et-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const APP = `
import { init, trace, withSpan, getStats, flush } from ${JSON.stringify(join(root, 'pkg/node.js'))};
const warnings = [];
init({ endpoint: 'http://127.0.0.1:9', logger: { warn: (m) => warnings.push(m) } });
const answer = trace(async (q) => withSpan(() => q.length, { name: 'step' }), { name: 'answer' });
const n = await answer('four');
await flush();
console.log(JSON.stringify({ n, warnings, started: getStats().started }));
`;

for (const format of ['esm', 'cjs']) {
  test(`${format === 'esm' ? 'an ESM' : 'a CommonJS'} bundle without the wasm files runs untraced, with one warning that says what to do`, () => {
    const src = join(dir, `app-${format}.mjs`);
    // CommonJS output has no top-level await: the app's body runs in an async function there.
    writeFileSync(src, format === 'esm' ? APP : APP.replace(/^(import .*)$/m, '$1\n(async () => {') + '})();');
    const out = join(dir, `dist-${format}`, format === 'esm' ? 'app.mjs' : 'app.cjs');
    execFileSync(join(root, 'node_modules/.bin/esbuild'), [src, '--bundle', '--platform=node', `--format=${format}`, `--outfile=${out}`, '--log-level=error']);
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const { n, warnings, started } = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(n, 4, "the app's own result");
    assert.equal(started, 0, 'nothing traced');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^edgetrace: tracing is off, the wasm core failed to load: /);
    assert.match(warnings[0], /bundled without its \.wasm files\? Keep it external to the bundle/);
  });
}
