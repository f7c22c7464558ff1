// The runtimes besides the machine's Node that the benchmarks run bench/node-spans.mjs (and the
// memory benchmark) under, from .tools/ (scripts/setup.sh fetches them): Node 24, the active LTS,
// and Bun and Deno, which load the package's Node entry, as OpenTelemetry's
// AsyncLocalStorageContextManager loads their `node:async_hooks`. Each with the flags that give it
// a forced GC. Used by bench/run.mjs and bench/on-the-line.mjs.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Node 24's executable. */
export const NODE24 = join(root, '.tools/node24/bin/node');

/** Bun and Deno: `key`, display `name`, `exec`utable and the `flags` before the script. */
export const SERVER_RUNTIMES = [
  { key: 'bun', name: 'Bun', exec: join(root, '.tools/bun/bin/bun'), flags: ['--expose-gc'] },
  { key: 'deno', name: 'Deno', exec: join(root, '.tools/deno/deno'), flags: ['run', '--allow-all', '--v8-flags=--expose-gc'] },
];
