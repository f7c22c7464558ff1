// The biggest functions of the size-built core wasm (the one the browser entry inlines), by
// body size, from a copy that keeps its name section: `node bench/wasm-top.mjs [N] [--reuse]`.
// A tool for size work; bench/run.mjs puts the per-crate sums in RESULTS.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNamedPkg } from './lib/named-pkg.mjs';
import { wasmBreakdown } from './lib/wasm-breakdown.mjs';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 40);
const dir = buildNamedPkg({ reuse: process.argv.includes('--reuse'), say: (m) => console.error(`[wasm-top] ${m}`) });
const { total, functions } = wasmBreakdown(readFileSync(join(dir, 'core', 'edgetrace_size_bg.wasm')));
console.log(`${total.toLocaleString('en')} bytes without the name section, ${functions.length} functions`);
for (const f of functions.slice(0, n)) console.log(`${String(f.bytes).padStart(7)}  ${f.name.slice(0, 150)}`);
