// How many export requests a payload scenario makes, and how many spans each carries: the
// scenario's ops through edgetrace's public API, set up as the benchmarks set it up
// (bench/lib/scenarios.mjs edgetraceInit: each runtime's default batch caps), with a fetch that
// counts its calls. Untimed; a check of the exporter's batching, not of speed.
//   node bench/export-requests.mjs [DIR] [--scenario nestedProto] [--ops 3000]
// DIR is a built package (default pkg/).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgetraceInit, edgetraceOps, SCENARIOS } from './lib/scenarios.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const id = opt('--scenario', 'nestedProto');
const ops = Number(opt('--ops', '3000'));
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) || 'pkg';
const sc = SCENARIOS.find((s) => s.id === id);
if (!sc?.export) {
  console.error(`usage: node bench/export-requests.mjs [DIR] [--scenario ${SCENARIOS.filter((s) => s.export).map((s) => s.id).join('|')}] [--ops N]`);
  process.exit(2);
}
const api = await import(pathToFileURL(resolve(dir, 'node.js')).href);
// Wrap the benchmark's counting fetch: count the calls too.
let requests = 0;
const init = api.init;
const counting = { ...api, init: (o) => init({ ...o, fetch: (url, req) => (requests++, o.fetch(url, req)) }) };
const h = edgetraceInit(counting, sc.export);
const op = edgetraceOps(api)[id];
for (let i = 0; i < ops; i++) await op();
await h.drain();
const spans = ops * sc.spans;
console.log(`${dir}: ${id}, ${ops} ops, ${spans} spans in ${requests} requests: ${(spans / requests).toFixed(0)} spans and ${(h.bytes() / requests).toFixed(0)} bytes a request`);
