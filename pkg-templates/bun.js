// The Bun entry: the Node entry, with its .wasm files imported as files (Bun's
// `with { type: 'file' }`). Under `bun run` they are the package's own files; `bun build` copies
// them beside the bundle, and `bun build --compile` embeds them in the executable, where the
// Node entry's `new URL('./core/…', import.meta.url)` names a file that is not there.
import core from './core/edgetrace_bg.wasm' with { type: 'file' };
import llm from './llm/edgetrace_llm_bg.wasm' with { type: 'file' };
import { wasmFiles } from './wasm-files.js';

wasmFiles.core = core;
wasmFiles.llm = llm;

export * from './node.js';
