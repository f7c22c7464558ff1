// What edgetrace's wasm core held per span over a fill: the wasm memory grows in steps of an
// eighth of its size, so what it grew by is the spans' bytes give or take a step. Its size just
// before each growth is what the allocator held then, so from the first growth to the last, those
// sizes grew by the bytes the spans made in between took (to within one op's spans at either end).
// Reading the size after each op makes garbage, so callers measure this in a run of its own.
// Shared by bench/memory.mjs (Node, Bun, Deno) and bench/entries/runtime-bench.js (Chromium,
// workerd).

/** Runs `op` `n` times (`spansPerOp` spans each), reading `wasmBytes()` after each; returns the
 * bytes held per span between the first and the last growth, or null with fewer than two. */
export function fillHeld(op, n, spansPerOp, wasmBytes) {
  const growths = [];
  let wasm = wasmBytes();
  for (let i = 0; i < n; i++) {
    op();
    const now = wasmBytes();
    if (now !== wasm) growths.push([(i + 1) * spansPerOp, wasm]);
    wasm = now;
  }
  const [first, last] = [growths[0], growths.at(-1)];
  return growths.length > 1 ? (last[1] - first[1]) / (last[0] - first[0]) : null;
}
