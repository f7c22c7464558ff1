// The model API parsers for browsers: their glue and their wasm inlined (a string of its bytes),
// in a module of its own that the browser entry imports dynamically on the first model call.
// Bundlers split it into a chunk of its own, so pages that never call a model API never
// download it.
export { LlmCalls, initSync } from './llm/edgetrace_llm.js';
export { default as wasmText } from './llm/wasm-inline.js';
