// The Cloudflare Worker entry: the wasm core imported as a compiled module, the handlers from
// service.js. `wrangler dev` / `wrangler deploy` use this file (see wrangler.toml).
import wasmModule from '../build/edgetrace_ingest_bg.wasm';
import { IngestCore, initSync } from '../build/edgetrace_ingest.js';
import { createService } from './service.js';

const wasm = initSync({ module: wasmModule });
const service = createService(IngestCore, { memoryBytes: () => wasm.memory.buffer.byteLength });

export default {
  fetch: (request, env, ctx) => service.fetch(request, env, ctx),
  queue: (batch, env, ctx) => service.queue(batch, env, ctx),
};
