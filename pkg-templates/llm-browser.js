// The model API parsers for browsers: their glue and their wasm (deflated, see inflate.js), in a
// module of its own that the browser entry imports dynamically on the first model call. Bundlers
// split it into a chunk of its own, so pages that never call a model API never download it.
import { initSync, LlmCalls } from './llm/edgetrace_llm.js';
import deflated from './llm/wasm-deflate.js';

/**
 * Inflates (with `inflate`, the entry's `inflateBase64`: passed in, so it stays in the entry's
 * chunk), compiles and instantiates the parsers; resolves to their class.
 */
export async function loadParsers(inflate) {
  initSync({ module: await WebAssembly.compile(await inflate(deflated)) });
  return LlmCalls;
}
