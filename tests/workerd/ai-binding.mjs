// A Workers AI binding for Miniflare whose `env.AI` is workerd's own `cloudflare-internal:ai-api` (the
// module behind `env.AI.run()` in production), sending its requests to mock-llm instead of
// https://workers-binding.ai: `POST {origin}/workers-binding/run?version=3` (or
// `/workers-binding/ai-gateway/run?version=3` with `options.gateway`), which mock-llm/server.mjs answers
// as Workers AI's binding backend does.
//
//   const ai = aiBindingWorkers({ origin: llm.url });
//   const mf = new Miniflare({ workers: [
//     { name: 'main', modules: true, compatibilityDate: '2025-04-01', script, wrappedBindings: ai.wrappedBindings },
//     ai.worker,
//   ] });
//
// The wrapped binding's worker is given no compatibility date (Miniflare refuses one there) and its
// module by path and contents (the path is only a name: nothing is read from it).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { workerOptions } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The wrapper module: `makeAi` with a fetcher that moves each request onto `env.origin` + `/workers-binding`. */
export const AI_WRAP_SOURCE = `import makeAi from 'cloudflare-internal:ai-api';
export default function (env) {
  return makeAi({
    fetcher: {
      fetch(u, init) {
        const url = new URL(u);
        return fetch(env.origin + '/workers-binding' + url.pathname + url.search, init);
      },
    },
  });
}
`;

/**
 * @param {{ origin: string, binding?: string, scriptName?: string }} options
 *   `origin`: mock-llm's URL (`llm.url`); `binding`: the name of the binding in the main worker's env
 *   (default `AI`); `scriptName`: the name of the wrapper worker (default `ai-wrap`).
 * @returns {{ worker: object, wrappedBindings: Record<string, { scriptName: string, bindings: { origin: string } }> }}
 *   `worker` goes into Miniflare's `workers` list beside the main worker, `wrappedBindings` into the
 *   main worker's options.
 */
export function aiBindingWorkers({ origin, binding = 'AI', scriptName = 'ai-wrap' }) {
  if (typeof origin !== 'string' || !origin) throw new TypeError('aiBindingWorkers: origin (the mock\'s URL) is required');
  return {
    worker: {
      name: scriptName,
      modules: [{ type: 'ESModule', path: join(here, `${scriptName}.js`), contents: AI_WRAP_SOURCE }],
    },
    wrappedBindings: { [binding]: { scriptName, bindings: { origin: origin.replace(/\/+$/, '') } } },
  };
}

/**
 * A Miniflare running the Worker at `scriptPath` (with nodejs_compat) whose `env.AI` is workerd's
 * own binding, its requests going to the mock at `origin`.
 * @param {string} scriptPath
 * @param {{ origin: string } & object} options `origin`, then more of the Worker's options
 *   (bindings, modulesRoot, …)
 */
export function miniflareWithAi(scriptPath, { origin, ...options }) {
  const ai = aiBindingWorkers({ origin });
  return new Miniflare({
    cf: false,
    workers: [{ name: 'main', ...workerOptions(scriptPath, { compatibilityFlags: ['nodejs_compat'], wrappedBindings: ai.wrappedBindings, ...options }) }, ai.worker],
  });
}
