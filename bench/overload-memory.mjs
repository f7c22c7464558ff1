// Memory under sustained overload, in Node: traces of a root and two async steps, 50 at a time, as
// fast as they run, against a local collector that answers each export only after 2 s, so the
// queue stays full and most traces are shed. Every 20,000 traces it forces a collection and prints
// the heap, RSS, external and ArrayBuffer memory, and the exporter's counters: a leak shows as a
// heap that grows after collections. (A server review saw RSS and heap peaks grow under overload
// without forced collections; this tells edgetrace's part from V8 collecting late.)
//   node --expose-gc bench/overload-memory.mjs [SECONDS]
import { createServer } from 'node:http';
import { getStats, init, trace } from '../pkg/node.js';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const secs = Number(process.argv[2] || 60);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(200).end('{}'), 2000));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
init({ endpoint: `http://127.0.0.1:${server.address().port}`, format: 'json', logger: { warn() {} } });
const step = trace(async function step(x) {
  await null;
  return { x, text: 'y'.repeat(200) };
});
const turn = trace(async function turn(i) {
  await step(i);
  await step(i + 1);
  return i;
});
const t0 = Date.now();
let n = 0;
const heaps = [];
while (Date.now() - t0 < secs * 1000) {
  await Promise.all(Array.from({ length: 50 }, (_, k) => turn(n + k)));
  n += 50;
  if (n % 20000 === 0) {
    globalThis.gc();
    const m = process.memoryUsage();
    const s = getStats();
    heaps.push(m.heapUsed);
    const mb = (b) => (b / 1e6).toFixed(1);
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${n} traces, heap ${mb(m.heapUsed)} MB, RSS ${mb(m.rss)} MB, external ${mb(m.external)} MB, ArrayBuffers ${mb(m.arrayBuffers)} MB; queued ${s.queued}, dropped ${s.dropped.total}, requests ${s.requests}, open ${s.open}`);
  }
  await new Promise((r) => setImmediate(r));
}
const q = Math.max(1, Math.floor(heaps.length / 4));
const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length / 1e6;
console.log(`heap after collections: first quarter of the samples ${avg(heaps.slice(0, q)).toFixed(1)} MB, last quarter ${avg(heaps.slice(-q)).toFixed(1)} MB`);
server.closeAllConnections();
server.close();
process.exit(0);
