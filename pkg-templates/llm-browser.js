// The model API parsers for browsers: their glue and their wasm, in a module of its own that the
// browser entry imports dynamically on the first model call. Bundlers split it into a chunk of its
// own, so pages that never call a model API never download it. The wasm ships deflated, as base64
// (scripts/build.mjs), which gzips ~10 % smaller than a string of its bytes; it is inflated with the
// browser's DecompressionStream and compiled asynchronously, off the main thread.
import initParsers, { LlmCalls } from './llm/edgetrace_llm.js';
import deflated from './llm/wasm-deflate.js';

/** Inflates, compiles and instantiates the parsers; resolves to their class. */
export async function loadParsers() {
  if (typeof DecompressionStream !== 'function') {
    throw new Error('this runtime has no DecompressionStream to inflate them with');
  }
  const text = atob(deflated);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  await initParsers({ module_or_path: await new Response(inflated).arrayBuffer() });
  return LlmCalls;
}
