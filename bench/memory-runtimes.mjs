// Memory per buffered span in headless Chromium and in workerd, as bench/memory.mjs measures it in
// Node: N ended, un-exported spans (roots with 10 nested children, 5 string attributes each), each
// library in a browser or a workerd process of its own, started fresh, with V8's --expose-gc so
// that each measure follows two forced GCs (bench/entries/runtime-bench.js makeMemoryRunner).
// After the measure each library exports what it buffered, and the run fails unless that is every
// span it made. Prints one JSON line.
//   node bench/memory-runtimes.mjs [N]
// Chromium (its page driven by bench/lib/page-runner.mjs, with no DevTools session attached): the
// page's JS heap (`performance.memory`, made exact by --enable-precise-memory-info) plus
// edgetrace's wasm memory (what it grew by, and what the core's allocator held per span: the
// memory grows in steps, see makeMemoryRunner), and the RSS of Chromium's renderer processes. workerd (the bench Worker
// served by the workerd binary, bench/lib/workerd-serve.mjs, as Miniflare cannot set V8 flags):
// the process's RSS and edgetrace's wasm memory; a Worker has no API for its JS heap.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pageChannel, processRss, rendererRss, runPage } from './lib/page-runner.mjs';
import { DEPTH } from './lib/scenarios.mjs';
import { bundleBenchWorker, bundleChromiumPage } from './lib/worker-bundle.mjs';
import { bundleDirect, serveDirect } from './lib/workerd-serve.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const spans = Number(process.argv[2] || 55_000);
const ops = Math.max(1, Math.round(spans / (DEPTH + 1)));
const say = (m) => process.stderr.write(`[bench:memory-runtimes] ${m}\n`);
const pkg = join(here, '../pkg');
const WHO = ['edgetrace', 'otel'];

/** Per-span growth from the `base` measure to the `fill` one, over the spans the check counted. */
const perSpan = (base, fill, buffered, rss0, rss1) => ({
  spans: buffered,
  heapPerSpan: base.heap === null ? null : (fill.heap - base.heap) / buffered,
  wasmPerSpan: (fill.wasm - base.wasm) / buffered,
  // What the core's allocator held per span, between the wasm memory's first and last growth in
  // the fill (null with fewer than two): unlike the growth itself, not rounded to its steps.
  wasmHeldPerSpan: fill.heldPerSpan,
  rssPerSpan: (rss1 - rss0) / buffered,
});

// --- Chromium ---
const dir = join(here, 'out', 'mem');
await bundleChromiumPage(dir, 'chromium', { nodePaths: await bundleBenchWorker(pkg, dir) });

async function inChromium(who, track = false) {
  let pgid = 0;
  const channel = pageChannel();
  const finished = runPage(dir, `chromium.html?who=${who}`, {
    say,
    args: ['--js-flags=--expose-gc', '--enable-precise-memory-info'],
    onSpawn: (pid) => (pgid = pid),
    handle: (path, body) => channel.handle(path, body),
  });
  const failed = finished.then(() => Promise.reject(new Error(`the ${who} page ended before its measure`)));
  const ask = (msg) => Promise.race([channel.job(msg), failed]);
  await Promise.race([channel.ready, failed]);
  const base = await ask({ memory: 'base' });
  const rss0 = rendererRss(pgid);
  const fill = await ask({ memory: 'fill', n: ops, track });
  const rss1 = rendererRss(pgid);
  const { buffered } = await ask({ memory: 'check' });
  channel.done();
  await finished;
  if (base.heap === null) throw new Error('bench/memory-runtimes.mjs: the page has no performance.memory');
  if (!(rss0 > 0)) throw new Error(`bench/memory-runtimes.mjs: no renderer process found in Chromium's process group ${pgid}`);
  return perSpan(base, fill, buffered, rss0, rss1);
}

// --- workerd ---
const wdir = join(here, 'out', 'mem-workerd');
await bundleDirect(pkg, wdir, ['--expose-gc']);

async function inWorkerd(who, track = false) {
  const s = await serveDirect(wdir);
  try {
    const get = async (q) => {
      const res = await fetch(`${s.url}?${new URLSearchParams({ who, ...q })}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`bench/memory-runtimes.mjs: workerd answered ${res.status}: ${text.slice(0, 800)}`);
      return JSON.parse(text);
    };
    const base = await get({ memory: 'base' });
    const rss0 = processRss(s.pid);
    const fill = await get({ memory: 'fill', n: ops, ...(track ? { track: '1' } : {}) });
    const rss1 = processRss(s.pid);
    const { buffered } = await get({ memory: 'check' });
    return perSpan(base, fill, buffered, rss0, rss1);
  } finally {
    process.kill(s.pid);
  }
}

const results = { spans: ops * (DEPTH + 1), chromium: {}, workerd: {} };
for (const [where, measure] of [['chromium', inChromium], ['workerd', inWorkerd]]) {
  for (const who of WHO) {
    const r = await measure(who);
    // What the core held per span comes from a run of its own (reading the memory's size after
    // each op makes garbage, which would add to the RSS measured).
    if (who === 'edgetrace') r.wasmHeldPerSpan = (await measure(who, true)).wasmHeldPerSpan;
    results[where][who] = r;
    const heap = r.heapPerSpan === null ? '' : `JS heap ${r.heapPerSpan.toFixed(0)} B, `;
    const held = r.wasmHeldPerSpan === null ? '' : ` (held ${r.wasmHeldPerSpan.toFixed(1)} B)`;
    say(`${where} ${who}: ${r.spans} spans buffered; per span ${heap}wasm ${r.wasmPerSpan.toFixed(0)} B${held}, RSS ${r.rssPerSpan.toFixed(0)} B`);
  }
}
console.log(JSON.stringify(results));
