// What making a store active costs per nested level, by way of entering it, counted by callgrind
// in the Node that runs this script (instructions, not time: they hold still on a shared host):
//   node bench/als-enter.mjs                       (Node 20: AsyncLocalStorage on async hooks)
//   .tools/node-24.*/bin/node bench/als-enter.mjs  (Node 24: on async context frames)
// `run`: AsyncLocalStorage.run, as OpenTelemetry's context manager (and edgetrace under Node 20)
// enters each span. `resource`: the store entered with enterWith inside a fresh AsyncResource's
// runInAsyncScope, which on leaving puts back the frame it was made in, as edgetrace's Node entry
// did under async context frames from session 16 to 37. Fewer instructions are not less time:
// that path ran 30-40 % slower than `run` after each full collection, so the entry now uses `run`
// (pkg-templates/node.js). Each level also reads the store back.
// The difference of two runs (2,000 and 22,000 nests of 11 levels) leaves out start-up. Needs valgrind.
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [way, nests] = process.argv.slice(2);
if (way) {
  // The child: `nests` nests of 11 levels entered `way`.
  const als = new AsyncLocalStorage();
  const viaRun = (d) => als.run(d, levelRun, d);
  const levelRun = (d) => (d > 0 ? viaRun(d - 1) : 0) + (als.getStore() === d ? 0 : 1);
  const viaResource = (d) => new AsyncResource('edgetrace.span').runInAsyncScope(levelResource, null, d);
  const levelResource = (d) => {
    als.enterWith(d);
    return (d > 0 ? viaResource(d - 1) : 0) + (als.getStore() === d ? 0 : 1);
  };
  const nest = way === 'run' ? viaRun : viaResource;
  let lost = 0;
  for (let i = 0; i < Number(nests); i++) lost += nest(10);
  if (lost || als.getStore() !== undefined) throw new Error(`the store was lost ${lost} times or leaked`);
} else {
  const frames = typeof AsyncLocalStorage.prototype._propagate !== 'function';
  const script = fileURLToPath(import.meta.url);
  const count = (w, n) => {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', script, w, String(n)], { encoding: 'utf8' });
    const m = /Collected\s*:\s*(\d+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`callgrind run failed (${r.status}): ${r.stderr.slice(-400)}`);
    return Number(m[1]);
  };
  console.error(`[bench:als-enter] Node ${process.versions.node}, AsyncLocalStorage on ${frames ? 'async context frames' : 'async hooks'}`);
  for (const w of ['run', 'resource']) {
    const per = (count(w, 22000) - count(w, 2000)) / (20000 * 11);
    console.log(`${w}: ${Math.round(per)} instructions per nested level (Node ${process.versions.node})`);
  }
}
