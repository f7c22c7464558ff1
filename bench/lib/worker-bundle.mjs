// The bench Worker (bench/entries/workerd-bench.js: both libraries, the scenarios, the floors)
// bundled for workerd with the package in `pkg`, into `dir`: worker.js, and the two wasm modules
// it imports beside it. Shared by bench/runtimes.mjs (through Miniflare), bench/workerd-direct.mjs
// and bench/memory-runtimes.mjs (workerd from a config of its own). And the Chromium bench page
// (bench/entries/chromium-bench.js), bundled into the same `dir`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = fileURLToPath(new URL('..', import.meta.url));

/** Bundles the bench Worker; returns the module paths it resolved `edgetrace` and the rest from,
 * for other entries bundled into the same `dir`. */
export async function bundleBenchWorker(pkg, dir) {
  rmSync(dir, { recursive: true, force: true });
  for (const d of ['node_modules', 'core', 'llm']) mkdirSync(join(dir, d), { recursive: true });
  symlinkSync(pkg, join(dir, 'node_modules', 'edgetrace'));
  const nodePaths = [join(dir, 'node_modules'), join(bench, '../node_modules')];
  await build({
    entryPoints: [join(bench, 'entries/workerd-bench.js')], bundle: true, minify: true, format: 'esm', platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'], mainFields: ['browser', 'module', 'main'], outfile: join(dir, 'worker.js'), nodePaths,
    alias: { async_hooks: join(bench, 'entries/shims/async_hooks.js'), events: join(bench, 'entries/shims/events.js') },
    external: [...builtinModules.filter((m) => m !== 'async_hooks' && m !== 'events'), 'node:*', '*.wasm'], logLevel: 'error',
  });
  copyFileSync(join(pkg, 'core/edgetrace_bg.wasm'), join(dir, 'core/edgetrace_bg.wasm'));
  copyFileSync(join(pkg, 'llm/edgetrace_llm_bg.wasm'), join(dir, 'llm/edgetrace_llm_bg.wasm'));
  return nodePaths;
}

/** Bundles the Chromium bench page into `dir` as `<name>.js`, with `<name>.html` to open it;
 * `options` are esbuild's (`nodePaths` from bundleBenchWorker, to find the package; an `alias`),
 * and `entry`, another page than chromium-bench.js (a file in bench/entries). */
export async function bundleChromiumPage(dir, name, { entry = 'chromium-bench.js', ...options } = {}) {
  await build({ entryPoints: [join(bench, 'entries', entry)], bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: join(dir, `${name}.js`), logLevel: 'error', ...options });
  writeFileSync(join(dir, `${name}.html`), `<!doctype html><meta charset="utf-8"><script type="module" src="/${name}.js"></script>`);
}
