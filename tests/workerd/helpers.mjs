// Shared by the workerd tests: a Miniflare for a fixture Worker that imports the built package by
// relative path (../../../pkg/workerd.js), with the wasm as a compiled module, as Workers need.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * @param {string} scriptPath the fixture Worker
 * @param {object} [options] more Miniflare options (bindings, compatibilityFlags, host, port, …)
 */
export function workerMiniflare(scriptPath, options = {}) {
  return new Miniflare({
    modules: true,
    scriptPath,
    // Module names are taken relative to the repo, so the fixtures' ../../../pkg imports resolve.
    modulesRoot: repo,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-09-01',
    // No look-up of the real Request.cf object on workers.cloudflare.com: everything stays local.
    cf: false,
    ...options,
  });
}
