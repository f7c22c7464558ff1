// Where the payload rows' extra time goes in Node: the kernel's page faults on each export body.
//   node bench/payload-faults.mjs [ROUNDS] [OPS] [--also NAME=DIR ...]
// Runs the two payload scenarios (OTLP JSON and protobuf built and handed to a no-op transport)
// for three libraries, each in a Node process of its own, rounds alternating as in
// bench/node-spans.mjs (a GC forced before each), and prints, per library, the median CPU time
// and the median minor page faults (`process.resourceUsage().minorPageFault`) per span:
//   edgetrace   the package;
//   no-copy     a copy of pkg/ (bench/out/no-copy/) whose `take_batch` hands the transport a view
//               of the body in wasm memory instead of a copy of its own. Not a build anyone could
//               ship (the core may write over that memory before a transport reads it; the
//               benchmark's transport only reads the length, at once): it bounds what the copy
//               costs, faults included;
//   otel        OpenTelemetry JS (its JSON / protobuf serializer in the exporter), as in
//               bench/node-spans.mjs.
// --also NAME=DIR (repeatable) adds another copy of the package to the same alternation (session
// 41: copies of pkg/ with a smaller maxExportBytes in exporter.js's SERVER_DEFAULTS).
// Each body is a fresh buffer of a few hundred KB (512 spans a batch by both libraries' defaults).
// Its pages are new to the process, so the first write to each faults into the kernel.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { forkChild } from './lib/child.mjs';
import { cpuNow } from './lib/clocks.mjs';
import { edgetraceInit, edgetraceOps, median, opsFor, otelOps, SCENARIOS, timeOps } from './lib/scenarios.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const NO_COPY = join(root, 'bench/out/no-copy');
const ALSO = process.argv.flatMap((a, i, all) => (all[i - 1] === '--also' ? [a.split('=')] : []));
const LIBS = { edgetrace: join(root, 'pkg'), 'no-copy': NO_COPY, ...Object.fromEntries(ALSO), otel: null };
const IDS = ['nestedJson', 'nestedProto'];
const faults = () => process.resourceUsage().minorPageFault;

/** bench/out/no-copy/: pkg/ with wasm-bindgen's copy of the returned body taken out. */
function makeNoCopy() {
  rmSync(NO_COPY, { recursive: true, force: true });
  cpSync(join(root, 'pkg'), NO_COPY, { recursive: true });
  const file = join(NO_COPY, 'core/edgetrace.js');
  const src = readFileSync(file, 'utf8');
  const start = src.indexOf('take_batch(protobuf) {');
  const from = 'getArrayU8FromWasm0(ret[0], ret[1]).slice()';
  const at = src.indexOf(from, start);
  if (start < 0 || at < 0 || at - start > 400) throw new Error('bench/payload-faults.mjs: pkg/core/edgetrace.js no longer copies the body where it did');
  writeFileSync(file, src.slice(0, at) + 'getArrayU8FromWasm0(ret[0], ret[1])' + src.slice(at + from.length));
}

async function child(who) {
  let run;
  if (who === 'otel') {
    const otelApi = await import('@opentelemetry/api');
    const { otelNode } = await import('./lib/setups.mjs');
    run = async (sc, n) => {
      const o = otelNode(sc.export);
      const r = await measure(sc, otelOps(o.tracer, otelApi)[sc.id], n, o.drain, o.bytes);
      await o.close();
      return r;
    };
  } else {
    const et = await import(pathToFileURL(join(LIBS[who], 'node.js')).href);
    run = async (sc, n) => {
      const h = edgetraceInit(et, sc.export);
      const r = await measure(sc, edgetraceOps(et)[sc.id], n, h.drain, h.bytes);
      const s = et.getStats();
      if (s.exported !== n * sc.spans) throw new Error(`bench/payload-faults.mjs: ${who} exported ${s.exported} of ${n * sc.spans} spans`);
      return r;
    };
  }
  process.on('message', async ({ id, n }) => {
    globalThis.gc();
    process.send(await run(SCENARIOS.find((s) => s.id === id), n));
  });
  process.send({ ready: true });
}

async function measure(sc, op, n, drain, bytes) {
  const f0 = faults();
  const c0 = cpuNow();
  await timeOps(op, n, sc.async, () => performance.now());
  await drain();
  const spans = n * sc.spans;
  return { us: ((cpuNow() - c0) * 1000) / spans, faults: (faults() - f0) / spans, bytes: bytes() / spans };
}

async function main() {
  const positional = process.argv.slice(2).filter((a, i, all) => a !== '--also' && all[i - 1] !== '--also');
  const [rounds = 8, ops = 3000] = positional.map(Number);
  process.stderr.write('[bench:faults] making bench/out/no-copy (pkg/ without the body copy)\n');
  makeNoCopy();
  const who = Object.keys(LIBS);
  const procs = {};
  for (const w of who) {
    procs[w] = forkChild(fileURLToPath(import.meta.url), ['--child', w, ...ALSO.flatMap(([n, d]) => ['--also', `${n}=${d}`])], w);
    await procs[w].next(); // ready
  }
  const rows = [];
  for (const id of IDS) {
    const sc = SCENARIOS.find((s) => s.id === id);
    const n = opsFor(sc, ops);
    const got = Object.fromEntries(who.map((w) => [w, []]));
    for (let i = 0; i <= rounds; i++) {
      process.stderr.write(`[bench:faults] ${id}: round ${i} of ${rounds}${i ? '' : ' (warm-up)'}\n`);
      for (let j = 0; j < who.length; j++) {
        const w = who[i % 2 ? who.length - 1 - j : j];
        const r = await procs[w].ask({ id, n });
        if (i > 0) got[w].push(r);
      }
    }
    for (const w of who) {
      const rs = got[w];
      rows.push([sc.title, w, median(rs.map((r) => r.us)), median(rs.map((r) => r.faults)), rs[0].bytes]);
    }
  }
  for (const w of who) procs[w].child.kill();
  console.log(`Node ${process.version}, ${rounds} rounds of ${ops} ops, each library in a process of its own (\`node bench/payload-faults.mjs ${rounds} ${ops}${ALSO.map(([n, d]) => ` --also ${n}=${d}`).join('')}\`).\n`);
  console.log('| scenario | library | µs of CPU per span (median) | minor page faults per span (median) | payload bytes per span |');
  console.log('|---|---|---|---|---|');
  for (const [t, w, us, f, b] of rows) console.log(`| ${t} | ${w} | ${us.toFixed(2)} | ${f.toFixed(3)} | ${b.toFixed(0)} |`);
}

const ci = process.argv.indexOf('--child');
if (ci >= 0) await child(process.argv[ci + 1]);
else await main();
