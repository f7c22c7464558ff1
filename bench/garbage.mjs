// Bytes the JS heap allocates per span in Node, by V8's own count rather than by time: Node runs
// a scenario's rounds (bench/lib/rounds.mjs, the timed part only, as bench/instructions.mjs does)
// with `--trace-gc-nvp`, which reports the bytes allocated since the previous collection at each
// one, and a last collection forced after the rounds. Run for a few rounds and for more, the
// difference, over the spans of the extra rounds, leaves out start-up. Young collections
// (scavenges) per 1,000 spans are counted the same way. Garbage is what each span leaves to the
// collector: V8's allocation is a pointer bump, but every collection costs.
//   node bench/garbage.mjs DIR [DIR…] [--scenario root5] [--ops 3000] [--rounds 2,8]
// DIR is a built package, or `otel` for OpenTelemetry JS as the benchmarks set it up.
import { spawnSync } from 'node:child_process';
import { ROUNDS_SCRIPT, roundsArgs } from './lib/rounds-cli.mjs';

const { id, ops, few, more, dirs, spans } = roundsArgs('garbage', 3000);
const count = (dir, n) => {
  process.stderr.write(`[bench:garbage] ${dir}: ${id}, ${n} rounds\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', ROUNDS_SCRIPT, dir, id, String(ops), String(n), 'timed-only'],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`rounds failed (${r.status}): ${r.stderr.slice(-500)}`);
  let bytes = 0;
  let scavenges = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /\ballocated=(\d+)/.exec(line);
    if (!m) continue;
    bytes += Number(m[1]);
    if (/\bgc=s\b/.test(line)) scavenges++;
  }
  return { bytes, scavenges };
};
for (const dir of dirs) {
  const [a, b] = [count(dir, few), count(dir, more)];
  const perSpan = (b.bytes - a.bytes) / spans;
  const scav = ((b.scavenges - a.scavenges) * 1000) / spans;
  console.log(`${dir}: ${id}, ${Math.round(perSpan)} B allocated per span, ${scav.toFixed(2)} scavenges per 1,000 spans (${more} rounds less ${few}, ${spans} spans, timed part only)`);
}
