// The workerd rows without Miniflare: the bench Worker (bench/entries/workerd-bench.js, bundled as
// bench/runtimes.mjs bundles it) served by the workerd binary from a config of its own, one
// process per package, timed per request by the caller as bench/runtimes.mjs does (an empty
// request's time subtracted). Two uses:
// - a cross-check of the Miniflare rows: Miniflare runs the same workerd, but session 14 found a
//   change that made Miniflare's nested sync row 1.7x as slow run as fast as before here;
// - V8 flags, which Miniflare gives no way to set (`--v8-flags "--no-maglev --trace-deopt"`);
//   what workerd prints goes to bench/out/workerd-direct-<i>/workerd.log.
// With several packages (copies of pkg/ from different commits), each round alternates them, so
// they are compared in the same minutes of a shared host.
//   node bench/workerd-direct.mjs [PKG_DIR…] [--rounds 8] [--ops 1000] [--scenario root5,nested] [--v8-flags "…"]
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, opsFor, SCENARIOS } from './lib/scenarios.mjs';
import { bundleDirect, serveDirect, workerdVersion } from './lib/workerd-serve.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv.splice(i, 2)[1] : dflt;
};
const rounds = Number(opt('rounds', '8'));
const ops = Number(opt('ops', '1000'));
const which = opt('scenario', 'root5,nested').split(',');
const v8Flags = opt('v8-flags', '').split(/\s+/).filter(Boolean);
const pkgs = (argv.length ? argv : [join(here, '../pkg')]).map((d) => resolve(d));
const say = (m) => process.stderr.write(`[bench:workerd-direct] ${m}\n`);
for (const id of which) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);

const servers = [];
const stop = () => {
  for (const s of servers) {
    try {
      process.kill(s.pid);
    } catch {}
  }
};
process.on('exit', stop);
try {
  for (const [i, pkg] of pkgs.entries()) {
    const dir = join(here, 'out', `workerd-direct-${i}`);
    say(`bundling ${pkg} into ${dir}`);
    await bundleDirect(pkg, dir, v8Flags);
    servers.push({ name: basename(pkg), ...(await serveDirect(dir)) });
  }
  say(`workerd ${workerdVersion} on ${servers.map((s) => s.url).join(', ')}${v8Flags.length ? `, V8 flags ${v8Flags.join(' ')}` : ''}`);
  const time = async (url, q) => {
    const t0 = performance.now();
    const res = await fetch(`${url}?${new URLSearchParams(q)}`);
    await res.text();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return performance.now() - t0;
  };
  for (const s of servers) for (let i = 0; i < 5; i++) await time(s.url, { ops: 0 });
  for (const id of which) {
    const sc = SCENARIOS.find((s) => s.id === id);
    const n = opsFor(sc, ops);
    const ns = new Map(servers.map((s) => [s, { edgetrace: [], otel: [] }]));
    // Round 0 warms up and is not counted; each round alternates which package and which library
    // goes first.
    for (let r = 0; r <= rounds; r++) {
      const order = r % 2 ? [...servers].reverse() : servers;
      for (const s of order) {
        for (const who of r % 2 ? ['otel', 'edgetrace'] : ['edgetrace', 'otel']) {
          const empty = median([await time(s.url, { ops: 0 }), await time(s.url, { ops: 0 }), await time(s.url, { ops: 0 })]);
          // Set up, timed ops, drain: three requests, as bench/runtimes.mjs runs a round.
          await time(s.url, { phase: 'prepare', scenario: id, who });
          const ms = (await time(s.url, { phase: 'ops', scenario: id, who, ops: n })) - empty;
          await time(s.url, { phase: 'finish', scenario: id, who });
          if (r > 0) ns.get(s)[who].push((ms * 1e6) / (n * sc.spans));
        }
      }
      say(`${id}: round ${r}/${rounds}`);
    }
    for (const s of servers) {
      const { edgetrace, otel } = ns.get(s);
      const e = median(edgetrace);
      const o = median(otel);
      console.log(`${s.name}: ${id}, edgetrace ${e.toFixed(0)} ns/span, OpenTelemetry ${o.toFixed(0)} ns/span, ratio ${(e / o).toFixed(2)} (${rounds} rounds of ${n} ops)`);
    }
  }
} finally {
  stop();
}
