// Shared by the workerd tests: a Miniflare for a fixture Worker that imports the built package by
// relative path (../../../pkg/workerd.js), with the wasm as a compiled module, as Workers need.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
