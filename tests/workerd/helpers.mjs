// Shared by the workerd tests: a Miniflare for a fixture Worker that imports the built package by
// relative path (../../../pkg/workerd.js), with the wasm as a compiled module, as Workers need.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A fixture Worker's own Miniflare options, for a Miniflare of its own or a `workers` entry.
 * @param {string} scriptPath the fixture Worker
 * @param {object} [options] more of its options (bindings, compatibilityFlags, modulesRoot, …)
 */
export function workerOptions(scriptPath, options = {}) {
  return {
    modules: true,
    scriptPath,
    // Module names are taken relative to the repo, so the fixtures' ../../../pkg imports resolve.
    modulesRoot: repo,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-09-01',
    ...options,
  };
}

/**
 * @param {string} scriptPath the fixture Worker
 * @param {object} [options] more Miniflare options (bindings, compatibilityFlags, host, port, …)
 */
export function workerMiniflare(scriptPath, options = {}) {
  return new Miniflare({
    ...workerOptions(scriptPath),
    // No look-up of the real Request.cf object on workers.cloudflare.com: everything stays local.
    cf: false,
    ...options,
  });
}

/**
 * `fixture` (a file of tests/workerd/fixtures/) bundled into `out` as a Workers app is: `worker.js`,
 * with esbuild, `edgetrace` resolving to the package's workerd entry, and the package's two wasm
 * modules beside it. Returns the script's path. `options` are more of esbuild's, over these (`{ platform:
 * 'browser' }`, as wrangler bundles by default: packages' `browser` maps of their files apply).
 */
export async function bundleWorkerApp(fixture, out, options = {}) {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = join(here, '../..');
  const pkg = join(repo, 'pkg');
  for (const d of ['node_modules', 'core', 'llm']) mkdirSync(join(out, d), { recursive: true });
  symlinkSync(pkg, join(out, 'node_modules', 'edgetrace'), 'dir');
  await build({
    entryPoints: [join(here, 'fixtures', fixture)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    outfile: join(out, 'worker.js'),
    nodePaths: [join(out, 'node_modules'), join(repo, 'node_modules')],
    // The wasm stays imported (`./core/edgetrace_bg.wasm`, `./llm/edgetrace_llm_bg.wasm`), for
    // workerd to load as compiled modules; node's modules come from nodejs_compat.
    external: [...builtinModules, 'node:*', '*.wasm'],
    logLevel: 'error',
    ...options,
  });
  copyFileSync(join(pkg, 'core/edgetrace_bg.wasm'), join(out, 'core/edgetrace_bg.wasm'));
  copyFileSync(join(pkg, 'llm/edgetrace_llm_bg.wasm'), join(out, 'llm/edgetrace_llm_bg.wasm'));
  return join(out, 'worker.js');
}

/**
 * A Workers app of tests/workerd/fixtures/`fixture`, bundled by {@link bundleWorkerApp} (with the
 * esbuild options `bundle`) into a directory of its own, and run by the Miniflare that
 * `start(scriptPath, { modulesRoot })` makes (`workerMiniflare`, say, with the app's bindings).
 * `close()` disposes of it and removes the directory.
 * @param {string} fixture
 * @param {{ bundle?: object, start: (scriptPath: string, options: { modulesRoot: string }) => Miniflare }} how
 */
export async function startWorkerApp(fixture, { bundle, start }) {
  const dir = mkdtempSync(join(tmpdir(), `edgetrace-${basename(fixture, '.js')}-`));
  try {
    const mf = start(await bundleWorkerApp(fixture, dir, bundle), { modulesRoot: dir });
    await mf.ready;
    return {
      mf,
      async close() {
        await mf.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
