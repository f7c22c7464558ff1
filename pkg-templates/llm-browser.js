// The model API parsers for browsers: their wasm inlined as base64, in a module of its own that
// the browser entry imports dynamically on the first model call. Bundlers split it into a chunk
// of its own, so pages that never call a model API never download it.
import { LlmCalls, initSync } from './llm/edgetrace_llm.js';
import wasmBase64 from './llm/wasm-inline.js';

export function load() {
  const bin = atob(wasmBase64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  initSync({ module: bytes });
  return LlmCalls;
}
