// Instructions per span in Node, counted by callgrind rather than timed: on a shared host times
// move by ±25 % from run to run, instruction counts by about 1 %. Node runs a scenario's rounds
// (bench/lib/rounds.mjs) under `valgrind --tool=callgrind` twice, for a few rounds and for more;
// the difference, over the spans of the extra rounds, leaves out start-up and compilation. Each
// round's drain (the export of the buffer-only scenarios, untimed in the benchmarks) is counted
// too, unless `--timed-only`: then the queue is kept (it grows over the rounds) and only what the
// benchmarks time is counted.
//   node bench/instructions.mjs DIR [DIR…] [--scenario root5] [--ops 1000] [--rounds 2,8] [--timed-only]
// DIR is a built package (pkg/, or a copy of it from another commit), or `otel` for OpenTelemetry
// JS as the benchmarks set it up (its counts move by ±15 % from run to run, edgetrace's by ~2 %).
// Needs valgrind.
import { execFileSync, spawnSync } from 'node:child_process';
import { ROUNDS_SCRIPT, roundsArgs } from './lib/rounds-cli.mjs';

const { id, ops, few, more, dirs, flags, spans } = roundsArgs('instructions', 1000, ['--timed-only']);
const timedOnly = flags.has('--timed-only');
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench/instructions.mjs needs valgrind (apt-get install valgrind)');
  process.exit(2);
}
const count = (dir, n) => {
  process.stderr.write(`[bench:instructions] ${dir}: ${id}, ${n} rounds under callgrind\n`);
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null',
    process.execPath, '--single-threaded', '--no-liftoff', ROUNDS_SCRIPT, dir, id, String(ops), String(n), ...(timedOnly ? ['timed-only'] : [])], { encoding: 'utf8' });
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`callgrind run failed (${r.status}): ${r.stderr.slice(-500)}`);
  return Number(m[1]);
};
for (const dir of dirs) {
  const per = (count(dir, more) - count(dir, few)) / spans;
  console.log(`${dir}: ${id}, ${Math.round(per)} instructions per span (${more} rounds less ${few}, ${spans} spans${timedOnly ? ', timed part only' : ''})`);
}
