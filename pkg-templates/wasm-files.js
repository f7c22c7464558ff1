// Where the Node entry reads its .wasm files from, when an entry knows better than the files
// beside it: the Bun entry (bun.js) fills it with the paths Bun gives its file imports.
export const wasmFiles = { core: null, llm: null };
