// A longer look at the per-span rows that sit on the 0.25 line: the full run (bench/run.mjs) gives
// each row 10 rounds, and a row moves by about ±0.05 from run to run with its code unchanged, so
// a row read at 0.24 or 0.28 once cannot say on which side of the line it is. This runs only the
// rows asked for, with many more rounds, in the same alternation as the full run
// (bench/node-spans.mjs --only, a process per library), and prints each row's ratio with its 95 %
// interval (a paired bootstrap over the rounds, bench/lib/interval.mjs).
//   node bench/on-the-line.mjs [ROUNDS] [OPS] [RUNTIME:SCENARIO,SCENARIO ...]
// RUNTIME is node (the Node running this), node24, bun or deno (from .tools/, as the full run);
// SCENARIO an id from bench/lib/scenarios.mjs. Without rows, the ones run BY read within 0.05 of
// the line and missed or met by less than their noise. Progress goes to stderr, the table to
// stdout.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { against, ratioInterval } from './lib/interval.mjs';
import { median, SCENARIOS } from './lib/scenarios.mjs';
import { NODE24, SERVER_RUNTIMES } from './lib/server-runtimes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const RUNTIMES = {
  node: { name: `Node ${process.version.slice(1)}`, exec: process.execPath, flags: ['--expose-gc'] },
  node24: { name: 'Node', exec: NODE24, flags: ['--expose-gc'] },
  ...Object.fromEntries(SERVER_RUNTIMES.map((r) => [r.key, r])),
};
const DEFAULT_ROWS = ['node:nestedAsync,nestedAsyncParent,nestedProto', 'node24:root5,nestedAsyncParent', 'bun:nested,nestedAsync,nestedAsyncParent', 'deno:nested,nestedAsync'];

const args = process.argv.slice(2);
const numbers = args.filter((a) => /^\d+$/.test(a));
const rounds = Number(numbers[0] || 30);
const ops = Number(numbers[1] || 3000);
const rows = args.filter((a) => a.includes(':'));
const say = (m) => process.stderr.write(`[bench:line] ${m}\n`);

const out = [];
const started = Date.now();
for (const spec of rows.length ? rows : DEFAULT_ROWS) {
  const [key, list] = spec.split(':');
  const rt = RUNTIMES[key];
  if (!rt) throw new Error(`bench/on-the-line.mjs: unknown runtime ${key}; one of ${Object.keys(RUNTIMES).join(', ')}`);
  const ids = list.split(',');
  for (const id of ids) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`bench/on-the-line.mjs: unknown scenario ${id}`);
  if (!existsSync(rt.exec)) {
    say(`${rt.name} is not in .tools/ (scripts/setup.sh fetches it): its rows are left out`);
    continue;
  }
  say(`${rt.name}: ${ids.join(', ')}, ${rounds} rounds of ${ops} ops (${Math.round((Date.now() - started) / 1000)} s in)`);
  const res = JSON.parse(execFileSync(rt.exec, [...rt.flags, join(here, 'node-spans.mjs'), String(rounds), String(ops), `--only=${ids.join(',')}`], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20,
  }).trim().split('\n').pop());
  const version = key === 'node' ? rt.name : `${rt.name} ${/\d+\.\d+\.\d+/.exec(execFileSync(rt.exec, ['--version'], { encoding: 'utf8' }))?.[0] ?? '?'}`;
  for (const id of ids) {
    const r = res.scenarios[id];
    const iv = ratioInterval(r.edgetrace, r.otel);
    out.push({ runtime: version, id, et: median(r.edgetrace), ot: median(r.otel), ratio: median(r.edgetrace) / median(r.otel), iv, where: against(iv, 0.25) });
  }
}

const f2 = (x) => (Math.abs(x - 0.25) < 0.005 ? x.toFixed(3) : x.toFixed(2));
console.log(`${rounds} rounds a row after a warm-up round, each of ${ops * 11} spans a library, ${Math.round((Date.now() - started) / 1000)} s in all: \`node bench/on-the-line.mjs ${args.join(' ')}\`.\n`);
console.log('| runtime | scenario | edgetrace µs/span | OpenTelemetry µs/span | ratio | 95 % interval | against 0.25 |');
console.log('|---|---|---|---|---|---|---|');
for (const o of out) {
  const title = SCENARIOS.find((s) => s.id === o.id).title;
  const verdict = { below: 'met (wholly below)', above: 'missed (wholly above)', across: 'across the line' }[o.where];
  console.log(`| ${o.runtime} | ${title} | ${(o.et / 1000).toFixed(2)} | ${(o.ot / 1000).toFixed(2)} | ${f2(o.ratio)} | ${f2(o.iv.lo)}–${f2(o.iv.hi)} | ${verdict} |`);
}
