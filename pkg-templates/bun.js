// The Bun entry: the Node entry, with its .wasm files imported as files (Bun's
// `with { type: 'file' }`). Under `bun run` they are the package's own files; `bun build` copies
// them beside the bundle, and `bun build --compile` embeds them in the executable, where the
// Node entry's `new URL('./core/…', import.meta.url)` names a file that is not there.
import core from './core/edgetrace_bg.wasm' with { type: 'file' };
import llm from './llm/edgetrace_llm_bg.wasm' with { type: 'file' };
import { fileURLToPath } from 'node:url';
import { wasmFiles } from './wasm-files.js';

// `bun build --target=bun` writes each as a path relative to the bundle, which a read would take
// from the working directory: resolved here against the bundle's own place.
const at = (p) => (p.startsWith('.') ? fileURLToPath(new URL(p, import.meta.url)) : p);
wasmFiles.core = at(core);
wasmFiles.llm = at(llm);

export * from './node.js';
