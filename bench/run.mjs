#!/usr/bin/env node
// One command for every benchmark: per-span cost in Node, Chromium and workerd side by side with
// OpenTelemetry JS (alternating, several rounds, median and spread, ratios), memory per buffered
// span, shipped size, and the ingest service under load (a local sink, a pass-through baseline, a
// real MLflow). Writes bench/RESULTS.md, bench/chart.svg and bench/out/results.json.
//   node bench/run.mjs            (about 10 minutes on 2 cores)
//   node bench/run.mjs --quick    (one short round of everything: checks the harness, ~2 minutes;
//                                  writes bench/out/ only, its numbers to results-quick.json)
//   --render                       (no measuring: write RESULTS.md and the chart again from the last
//                                  run's bench/out/results.json, after a change to their wording)
//   --skip-ingest                  (leave out the ingest load; RESULTS.md then shows the table of
//                                  the last ingest run in bench/out/ingest_load.json, if any, with
//                                  its date, and says it was not re-run)
import { execFileSync } from 'node:child_process';
import { runStep } from './lib/step.mjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, SCENARIOS } from './lib/scenarios.mjs';
import { wasmBreakdown } from './lib/wasm-breakdown.mjs';
import { makeNoCore, makeSpeedCore, makeSpikeCore } from './lib/bound-pkgs.mjs';
import { renderChart } from './lib/chart.mjs';
import { against, ratioInterval } from './lib/interval.mjs';
import { glance, ratioText } from './lib/glance.mjs';
import { NODE24, SERVER_RUNTIMES } from './lib/server-runtimes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const quick = process.argv.includes('--quick');
const render = process.argv.includes('--render');
// A quick run's numbers go to a file of their own, so a quick check leaves the last full run's for
// --render (--render --quick renders the quick one's).
const resultsFile = join(here, quick ? 'out/results-quick.json' : 'out/results.json');
const skipIngest = process.argv.includes('--skip-ingest');
const say = (m) => console.error(`[bench] ${m}`);
mkdirSync(join(here, 'out'), { recursive: true });
if (render && !existsSync(resultsFile)) {
  console.error(`bench/run.mjs --render: no ${resultsFile.slice(root.length + 1)} yet; run \`node bench/run.mjs${quick ? ' --quick' : ''}\` first`);
  process.exit(2);
}

// `stallMs`: a step still running after that long is stopped and run again (bench/lib/step.mjs).
function node(args, what, exec = process.execPath, stallMs = 0) {
  say(`${what}: ${exec === process.execPath ? 'node' : exec} ${args.join(' ')}`);
  return runStep(exec, args, { cwd: root, what, say, stallMs });
}

const t0 = Date.now();
// How the browser's wasm was built (scripts/browser-wasm.mjs writes it to pkg/sizes.json).
function readBrowserStd() {
  try {
    return JSON.parse(readFileSync(join(here, '../pkg/sizes.json'), 'utf8')).browserStd || 'stable std';
  } catch {
    return 'unknown (no pkg/sizes.json)';
  }
}

// Measures everything and saves it to bench/out/results.json, which --render reads back.
function measure() {
  // Per-span cost and memory per buffered span, run by `exec` (a Node, Bun or Deno) with `flags`.
  // With --bounds, the buffer-only rows also run a floor stand-in, the package without its core and
  // the package with the fused spike as its core, in the same alternation (bench/node-spans.mjs):
  // what bounds edgetrace's ratio there; Chromium's, the package with its browser core built for
  // speed instead of the spike (bench/runtimes.mjs). The copies of the package are made once, here.
  say('the bounds\' copies of the package (bench/lib/bound-pkgs.mjs)');
  makeNoCore();
  makeSpikeCore(say);
  makeSpeedCore(say);
  const nodeSpans = (exec, label, flags = ['--expose-gc'], more = []) => JSON.parse(node([...flags, 'bench/node-spans.mjs', quick ? '1' : '10', quick ? '100' : '3000', '--bounds', '--bounds-built', ...more], `per-span cost in ${label}`, exec));
  // OpenTelemetry JS 3 (bench/otel3/, its own node_modules) takes its turns in Node 20 and 24 too.
  const otel3 = existsSync(join(here, 'otel3', 'node_modules')) ? ['--otel3'] : [];
  if (!otel3.length) say('OpenTelemetry JS 3 is not in bench/otel3/node_modules (scripts/setup.sh installs it): its rows are left out');
  // edgetrace's first entry gets what its core held per span, from a run of its own (`held`).
  const memoryIn = (exec, label, flags = ['--expose-gc']) => {
    const run = (who, ...more) => JSON.parse(node([...flags, 'bench/memory.mjs', who, quick ? '2200' : '55000', ...more], `memory per buffered span in ${label} (${who}${more.length ? ', what its core held' : ''})`, exec));
    const [et, ot] = [run('edgetrace'), run('otel')];
    return [{ ...et, wasmHeldPerSpan: run('edgetrace', 'held').wasmHeldPerSpan }, ot];
  };
  const nodeRes = nodeSpans(process.execPath, 'Node', undefined, otel3);
  // The same under Node 24, the active LTS (scripts/setup.sh links it as .tools/node24): its
  // AsyncLocalStorage keeps context in async context frames, not async hooks, for both libraries.
  const node24 = NODE24;
  const has24 = existsSync(node24);
  if (!has24) say('Node 24 is not in .tools/ (scripts/setup.sh fetches it): its rows are left out');
  const node24Res = has24 ? nodeSpans(node24, 'Node 24 LTS', undefined, otel3) : null;
  const node24Version = has24 ? execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim() : null;
  const servers = SERVER_RUNTIMES.filter((r) => {
    if (!existsSync(r.exec)) say(`${r.name} is not in .tools/ (scripts/setup.sh fetches it): its rows are left out`);
    return existsSync(r.exec);
  }).map((r) => ({
    ...r,
    version: /\d+\.\d+\.\d+/.exec(execFileSync(r.exec, ['--version'], { encoding: 'utf8' }))?.[0] ?? '?',
    res: nodeSpans(r.exec, r.name, r.flags),
  }));
  // Chromium's buffer-only rows also run the floor stand-in, the package without its core and the
  // package with its browser core built for speed.
  const rtRes = JSON.parse(node(['bench/runtimes.mjs', quick ? '1' : '8', quick ? '50' : '1000', '--bounds', '--bounds-built'], 'per-span cost in Chromium and workerd'));
  const mem = memoryIn(process.execPath, 'Node');
  const mem24 = has24 ? memoryIn(node24, 'Node 24 LTS') : null;
  for (const r of servers) r.mem = memoryIn(r.exec, r.name, r.flags);
  // The same in Chromium (JS heap + wasm memory, and the renderers' RSS) and workerd (RSS), each
  // library in a browser or a workerd process of its own, V8 started with --expose-gc.
  const memRt = JSON.parse(node(['bench/memory-runtimes.mjs', quick ? '2200' : '55000'], 'memory per buffered span in Chromium and workerd'));
  const size = JSON.parse(node(['bench/size.mjs'], 'shipped size'));
  // Where edgetrace's time goes: a CPU profile of the timed part of three scenarios, with the wasm
  // functions named (bench/profile.mjs builds a copy of the package that keeps the name section).
  // The last one runs without AsyncLocalStorage, the path browsers take (Chromium's async rows).
  // `file` is the name bench/profile.mjs writes for `flags` (bench/out/profile-<file>.md).
  const profileOf = (id, flags, file, label, exec, pre = []) => {
    // A profile takes 10-60 s (Bun's the longest); 5 minutes is a stall.
    node([...pre, 'bench/profile.mjs', id, quick ? '100' : '3000', quick ? '1' : '8', ...flags], `CPU profile of edgetrace${label} (${id})`, exec, 300_000);
    return { id, md: readFileSync(join(here, `out/profile-${file}.md`), 'utf8').trim() };
  };
  // Besides these, every row that missed the target in this run gets a profile of its own, in its
  // runtime (`missedIn`; Node 20's are `extra`), so RESULTS.md shows where the time goes in each row it
  // calls missed.
  const missedIn = (rs, fixed) => SCENARIOS.filter((sc) => rs[sc.id].ratio > 0.25 && !fixed.includes(sc.id)).map((sc) => sc.id);
  const PROFILED = [['nested'], ['nestedAsync'], ['nestedProto'], ['nestedAsync', '--no-als']];
  const profiles = PROFILED.map(([id, flag], i) =>
    profileOf(id, [...(i > 0 ? ['--no-build'] : []), ...(flag ? [flag] : [])], `${id}${flag ? '-noals' : ''}`, flag ? ` ${flag}` : ''));
  const extra = missedIn(nodeRes.scenarios, PROFILED.filter((p) => p.length === 1).map(([id]) => id)).map((id) => profileOf(id, ['--no-build'], id, ''));
  // The nested rows under Node 24 too, where frames, not async hooks, carry the context (files
  // tagged -node24), and under Bun and Deno.
  const NESTED_PROFILED = ['nested', 'nestedAsync'];
  const profiles24 = has24 ? [...NESTED_PROFILED, ...missedIn(node24Res.scenarios, NESTED_PROFILED)].map((id) => profileOf(id, ['--no-build', '--node-tag'], `${id}-node24`, ' under Node 24', node24)) : [];
  // Under Bun and Deno, through their node:inspector (files tagged -bun, -deno), run with the same
  // flags as their benchmarks.
  const serverProfiles = servers.map((r) => ({
    key: r.key,
    name: `${r.name} ${r.version}`,
    profiles: [...NESTED_PROFILED, ...missedIn(r.res.scenarios, NESTED_PROFILED)].map((id) => profileOf(id, ['--no-build', '--node-tag'], `${id}-${r.key}`, ` under ${r.name}`, r.exec, r.flags)),
  }));
  // The same in Chromium and workerd, through their DevTools protocols (bench/profile-runtimes.mjs).
  const rtProfiles = ['chromium', 'workerd'].flatMap((rt) => ['nested', ...missedIn(rtRes[rt], ['nested'])].map((id) => {
    // As the Node profiles: a run still going after 5 minutes is stopped and run again.
    node(['bench/profile-runtimes.mjs', rt, id, quick ? '50' : '1000', quick ? '1' : '8', '--no-build'], `CPU profile of edgetrace in ${rt} (${id})`, process.execPath, 300_000);
    return { id, md: readFileSync(join(here, `out/profile-${rt}-${id}.md`), 'utf8').trim() };
  }));
  // Where the shipped bytes go: the up-front bundle by source file (esbuild's metafile, written by
  // bench/size.mjs) and the size-built core wasm by crate (its named copy, built for the profiles).
  const sizeInputs = JSON.parse(readFileSync(join(here, 'out/size-inputs.json'), 'utf8'));
  const wasmShipped = readFileSync(join(root, 'target/wasm-small/edgetrace_bg.wasm')).length;
  const wasmBytes = wasmBreakdown(readFileSync(join(here, 'out/pkg-names/core/edgetrace_size_bg.wasm')));
  let load = null;
  let loadReused = false;
  if (!quick && !skipIngest) {
    node(['bench/ingest_load.mjs', '--duration', '60', '--check'], 'the ingest service under load');
    load = JSON.parse(readFileSync(join(here, 'out/ingest_load.json'), 'utf8'));
  } else if (!quick && existsSync(join(here, 'out/ingest_load.json'))) {
    say('ingest load skipped (--skip-ingest): RESULTS.md shows the last run in bench/out/ingest_load.json');
    load = JSON.parse(readFileSync(join(here, 'out/ingest_load.json'), 'utf8'));
    loadReused = true;
  }

  const version = (p) => {
    try {
      return JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  const facts = {
    date: new Date().toISOString().slice(0, 10),
    cpu: cpus()[0]?.model || '?',
    cores: cpus().length,
    memGiB: (totalmem() / 2 ** 30).toFixed(0),
    node: process.version,
    node24: node24Version,
    servers: servers.map((r) => `${r.name} ${r.version}`).join(', '),
    chromium: rtRes.chromiumVersion,
    workerd: version('workerd'),
    edgetrace: JSON.parse(readFileSync(join(root, 'pkg/package.json'), 'utf8')).version,
    otel3: (() => {
      try {
        const v = (p) => JSON.parse(readFileSync(join(here, 'otel3/node_modules', p, 'package.json'), 'utf8')).version;
        return `sdk-trace ${v('@opentelemetry/sdk-trace')}, context-async-hooks ${v('@opentelemetry/context-async-hooks')}, otlp-transformer ${v('@opentelemetry/otlp-transformer')}, api ${v('@opentelemetry/api')}`;
      } catch {
        return null;
      }
    })(),
    otel: `sdk-trace-base ${version('@opentelemetry/sdk-trace-base')}, sdk-trace-web ${version('@opentelemetry/sdk-trace-web')}, context-async-hooks ${version('@opentelemetry/context-async-hooks')}, otlp-transformer ${version('@opentelemetry/otlp-transformer')}, context-zone ${version('@opentelemetry/context-zone')}`,
    commit: (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
      } catch {
        return '?';
      }
    })(),
  };
  const browserStd = readBrowserStd();
  // Each per-span ratio's 95 % interval over its rounds, computed once here: the tables, the chart
  // and results.json read it.
  for (const rs of [nodeRes.scenarios, node24Res?.scenarios, ...servers.map((r) => r.res.scenarios), rtRes.chromium, rtRes.workerd]) {
    for (const r of Object.values(rs ?? {})) r.interval = ratioInterval(r.edgetrace, r.otel);
  }
  const results = { facts, quick, node: nodeRes, node24: node24Res, servers: Object.fromEntries(servers.map((r) => [r.key, { ...r.res, memory: r.mem, name: r.name, version: r.version }])), runtimes: rtRes, memory: mem, memory24: mem24, memoryRuntimes: memRt, size, load, loadReused, profiles, extra, profiles24, serverProfiles, rtProfiles, sizeInputs, wasmBytes, wasmShipped, browserStd };
  writeFileSync(resultsFile, JSON.stringify(results, null, 2));
  // The same, as the rendering below reads it (rendered() rebuilds this from the file).
  return { ...results, nodeRes, node24Res, rtRes, mem, mem24, memRt, servers };
}

// --render: the last run's results (bench/out/results.json), measured again by nothing, so a
// change to the wording or the tables can be seen without a run of ten minutes.
function rendered() {
  const saved = JSON.parse(readFileSync(resultsFile, 'utf8'));
  // Results saved before the servers kept their names and versions: read them from the facts.
  const versions = Object.fromEntries((saved.facts.servers || '').split(', ').filter(Boolean).map((s) => s.split(' ')));
  const servers = Object.entries(saved.servers || {}).map(([key, { memory, name, version, ...res }]) => {
    const rt = SERVER_RUNTIMES.find((r) => r.key === key);
    return { ...rt, name: name ?? rt.name, version: version ?? versions[rt.name] ?? '?', res, mem: memory };
  });
  const wasmShipped = saved.wasmShipped ?? readFileSync(join(root, 'target/wasm-small/edgetrace_bg.wasm')).length;
  return { ...saved, nodeRes: saved.node, node24Res: saved.node24, rtRes: saved.runtimes, mem: saved.memory, mem24: saved.memory24, memRt: saved.memoryRuntimes, servers, wasmShipped, browserStd: saved.browserStd ?? readBrowserStd() };
}
const { facts, nodeRes, node24Res, servers, rtRes, mem, mem24, memRt, size, load, loadReused, profiles, extra, profiles24, serverProfiles, rtProfiles, sizeInputs, wasmBytes, wasmShipped, browserStd } = render ? rendered() : measure();

// ---- RESULTS.md ----
const us = (ns) => (ns / 1000).toFixed(2);
const spread = (xs) => `${us(Math.min(...xs))}–${us(Math.max(...xs))}`;
// The scenarios' short names, for sentences that go through all six.
const SHORT = { root5: 'lone root', nested: 'nested sync', nestedAsync: 'async', nestedAsyncParent: 'explicit parent', nestedJson: 'JSON', nestedProto: 'protobuf' };
// What a budget of `budget` ns leaves after a floor of `floor` ns, as text.
const leftAfter = (budget, floor) => (budget > floor ? `${((budget - floor) / 1000).toFixed(2)} µs` : 'nothing');
const verdict = (ratio, target) => (ratio <= target ? '**met**' : 'missed');
// `together`: how the two libraries share the runtime (who pays for whose garbage).
// Node's rounds are timed by the process's CPU time, with their wall time beside it (`r.wall`);
// the browser's and workerd's by wall time only.
function spanTable(title, rs, rounds, ops, together) {
  const cpu = SCENARIOS.every((sc) => rs[sc.id].wall);
  const unit = cpu
    ? 'µs of the process\'s CPU time per span (user + system by `process.cpuUsage`, which counts V8\'s helper threads too: concurrent GC, compilers): median (min–max over rounds). CPU time is what the target is about, and the host\'s other work does not add to it while the process waits for a core; the last column gives the ratio of the same rounds by wall time.'
    : 'µs per span: median (min–max over rounds).';
  const lines = [`### ${title}`, '', `${rounds} rounds of ${ops} ops (${ops * 11} for the lone root, so every round makes ${ops * 11} spans) after a warm-up round, alternating which library goes first; an even number of rounds, so each library goes first in half of them. ${together} ${unit}`, '',
    'The ratio is the two medians\' ratio. Its 95 % interval is a paired bootstrap over the rounds (`bench/lib/interval.mjs`): where it reaches across 0.25, this run cannot tell the verdict from the host\'s noise. Beside it, each round\'s own ratio (the two libraries measured back to back in that round), their median and range.', '',
    `| scenario | edgetrace µs/span | OpenTelemetry µs/span | ratio | 95 % interval | per round: median (min–max) | target ≤ 0.25 |${cpu ? ' ratio by wall time |' : ''}`, `|---|---|---|---|---|---|---|${cpu ? '---|' : ''}`];
  for (const sc of SCENARIOS) {
    const r = rs[sc.id];
    const paired = r.edgetrace.map((e, i) => e / r.otel[i]);
    const pr = `${median(paired).toFixed(2)} (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
    const iv = r.interval;
    const where = { below: 'wholly below 0.25', above: 'wholly above 0.25', across: 'across 0.25' }[against(iv, 0.25)];
    lines.push(`| ${sc.title} | ${us(median(r.edgetrace))} (${spread(r.edgetrace)}) | ${us(median(r.otel))} (${spread(r.otel)}) | ${ratioText(r.ratio, 0.25)} | ${ratioText(iv.lo, 0.25)}–${ratioText(iv.hi, 0.25)} (${where}) | ${pr} | ${verdict(r.ratio, 0.25)} |${cpu ? ` ${r.wall.ratio.toFixed(2)} |` : ''}`);
  }
  return lines.join('\n');
}
// OpenTelemetry JS 3 beside the 2.x line the issue names (node-spans.mjs --otel3): the same
// scenarios, its rounds in the same alternation, in Node 20 and Node 24.
function otel3Section() {
  const runs = [[`Node ${facts.node.slice(1)}`, nodeRes], ...(node24Res ? [[`Node ${facts.node24?.slice(1)}`, node24Res]] : [])].filter(([, r]) => r?.otel3);
  if (!runs.length) return [];
  const lines = ['### Against OpenTelemetry JS 3', '',
    `OpenTelemetry JS 3 (October 2026; here ${facts.otel3}) is the newest major of the peer: \`@opentelemetry/sdk-trace\` 3's \`TracerProvider\` takes the place of sdk-trace-base's \`BasicTracerProvider\` and sdk-trace-web's \`WebTracerProvider\`, and the newest OTLP exporters and serializers (0.301) build on it. It needs \`@opentelemetry/api\` 1.10, which the 2.x line refuses, so the benchmarks install it in a folder of its own (\`bench/otel3/\`). It runs the same scenarios (\`bench/lib/scenarios.mjs\`) with the \`AsyncLocalStorageContextManager\` and a \`BatchSpanProcessor\` (\`bench/otel3/setup.mjs\`), in a Node process of its own, its rounds alternating with the two columns of the tables above (\`bench/node-spans.mjs --otel3\`): the 2.x column here is those tables' own. µs of CPU time per span, median over rounds; the interval is the paired bootstrap of edgetrace's ratio to OpenTelemetry JS 3.`, '',
    '| runtime | scenario | edgetrace µs/span | OpenTelemetry JS 3 µs/span | OpenTelemetry 2.x µs/span | ratio to 3 | 95 % interval | ratio to 2.x | ≤ 0.25 of 3 |', '|---|---|---|---|---|---|---|---|---|'];
  for (const [label, r] of runs) {
    for (const sc of SCENARIOS) {
      const e = r.scenarios[sc.id].edgetrace;
      const o3 = r.otel3[sc.id].ns;
      const ratio = median(e) / median(o3);
      const iv = ratioInterval(e, o3);
      const where = { below: 'wholly below', above: 'wholly above', across: 'across' }[against(iv, 0.25)];
      lines.push(`| ${label} | ${sc.title} | ${us(median(e))} | ${us(median(o3))} | ${us(median(r.scenarios[sc.id].otel))} | ${ratioText(ratio, 0.25)} | ${ratioText(iv.lo, 0.25)}–${ratioText(iv.hi, 0.25)} (${where}) | ${ratioText(r.scenarios[sc.id].ratio, 0.25)} | ${verdict(ratio, 0.25)} |`);
    }
  }
  const met = runs.flatMap(([, r]) => SCENARIOS.map((sc) => median(r.scenarios[sc.id].edgetrace) / median(r.otel3[sc.id].ns))).filter((x) => x <= 0.25).length;
  lines.push('', `Against OpenTelemetry JS 3, edgetrace's ratio is at most 0.25 in ${met} of these ${runs.length * SCENARIOS.length} rows. Its web build's size is in "Shipped size".`, '');
  return lines;
}

// What the Bun and Deno tables say of their runtime.
const SERVER_ABOUT = {
  bun: {
    title: 'JavaScriptCore; AsyncLocalStorage for both',
    profile: (name) => `The nested rows under ${name} (JavaScriptCore), then the other rows that missed the target there, by its \`node:inspector\` (\`.tools/bun/bin/bun bench/profile.mjs nested 3000 8 --node-tag\`): JavaScriptCore's sampling profiler, whose samples cost more than V8's (the ns per span while profiled are well above the table's), and which shows no garbage collection frames (its collector runs concurrently). Its JS-to-wasm entries, \`wasm-stub\`, count with Bun's own layer.`,
    text: 'The same benchmark (`bench/node-spans.mjs`, a process per library, forked by Bun) run by Bun from `.tools/` (scripts/setup.sh fetches it). Bun runs JavaScriptCore, not V8: the scenario code, both libraries\' JS and edgetrace\'s wasm core run in its tiers, and its GC (concurrent, so in the CPU time) is not V8\'s. Both libraries load their Node code: edgetrace its Node entry, OpenTelemetry its `AsyncLocalStorageContextManager`, on Bun\'s `node:async_hooks`, whose `AsyncLocalStorage` both enter with `run`.',
  },
  deno: {
    title: 'V8; AsyncLocalStorage for both, Deno\'s own',
    profile: (name) => `The nested rows under ${name}, then the other rows that missed the target there, by its \`node:inspector\` (\`.tools/deno/deno run -A bench/profile.mjs nested 3000 8 --node-tag\`). Deno's \`AsyncLocalStorage\` is JS on V8's continuation-preserved embedder data: entering a store copies the context's map (\`#enterWithPreviousContext\`, in Deno's own layer), and both libraries enter one per span.`,
    text: 'The same benchmark (`bench/node-spans.mjs`, a process per library, forked by Deno) run by Deno from `.tools/` (scripts/setup.sh fetches it), which also backs Deno Deploy and Netlify\'s and Supabase\'s edge functions. Deno runs V8 with an `AsyncLocalStorage` of its own (on V8\'s continuation-preserved embedder data, not Node\'s async hooks or frames). Both libraries enter each span with its `run`: edgetrace\'s Node entry took Node 24\'s `AsyncResource` scope under Deno until session 25, which costs several times a `run` there (`pkg-templates/node.js`).',
  },
};
// What bounds the buffer-only rows in each runtime (node-spans.mjs --bounds, and for Chromium
// runtimes.mjs --bounds): per scenario, the floor stand-in's, the package without its core's, the
// package with the fused spike as its core's (not in Chromium), the package with its core built
// for speed's (Chromium only: elsewhere it is) and the package's ratio.
function boundsTable(runs) {
  const cell = (ns, otel) => `${ratioText(median(ns) / median(otel), 0.25)} (${us(median(ns))})`;
  const lines = ['| runtime | scenario | floor stand-in | edgetrace without its core | edgetrace with the fused spike as its core | edgetrace with its browser core built for speed | edgetrace | OpenTelemetry µs/span |', '|---|---|---|---|---|---|---|---|'];
  for (const [label, res] of runs) {
    // Every run here was asked for its bounds (nodeSpans): a buffer-only row without them is a bug.
    const want = SCENARIOS.filter((sc) => !sc.export).map((sc) => sc.id);
    if (want.some((id) => !res.bounds?.[id])) throw new Error(`bench/run.mjs: ${label} gave no bounds for ${want.filter((id) => !res.bounds?.[id]).join(', ')}`);
    for (const [id, b] of Object.entries(res.bounds)) {
      const r = res.scenarios[id];
      const [spike, speed] = ['spike-core', 'speed-core'].map((who) => (b[who] ? cell(b[who].ns, r.otel) : '—'));
      lines.push(`| ${label} | ${SCENARIOS.find((sc) => sc.id === id).title} | ${cell(b.floor.ns, r.otel)} | ${cell(b['no-core'].ns, r.otel)} | ${spike} | ${speed} | ${cell(r.edgetrace, r.otel)} | ${us(median(r.otel))} |`);
    }
  }
  return lines.join('\n');
}
const boundRuns = [
  [`Node ${facts.node.slice(1)}`, nodeRes],
  ...(node24Res ? [[`Node ${facts.node24.slice(1)}`, node24Res]] : []),
  ...servers.map((r) => [`${r.name} ${r.version}`, r.res]),
  [`Chromium ${facts.chromium}`, { bounds: rtRes.chromiumBounds, scenarios: rtRes.chromium }],
];
const [memEt] = mem;
// A row of the memory table: edgetrace's and OpenTelemetry's bytes per span, the ratio, the verdict.
const memRow = (what, e, o, etText = `${bytes0(e)} B`) => ({ what, e, o, etText });
const rssRow = (what, et, ot) => memRow(what, et.rssPerSpan, ot.rssPerSpan);
// JS heap + wasm memory: the wasm memory edgetrace's core held per span where the fill grew it
// twice or more (not rounded to the memory's steps), else what it grew by (`grown`: `grownWhat`).
const heapWasmRow = (where, et, ot, grown, grownWhat) => {
  const wasm = (m) => m.wasmHeldPerSpan ?? grown(m);
  const [e, o] = [et.heapPerSpan + wasm(et), ot.heapPerSpan + wasm(ot)];
  const wasmText = et.wasmHeldPerSpan == null ? `wasm ${bytes0(grown(et))}` : `wasm ${bytes0(et.wasmHeldPerSpan)} held by the core; ${grownWhat} grew by ${bytes0(grown(et))} a span`;
  return memRow(`JS heap + wasm memory per span (${where})`, e, o, `${bytes0(e)} B (heap ${bytes0(et.heapPerSpan)} + ${wasmText})`);
};
// Whole bytes; a heap that shrank by a fraction of a byte a span reads 0, not -0.
const bytes0 = (x) => String(Math.round(x) + 0);
const sz = Object.fromEntries(size.map((s) => [s.name, s]));
const etSize = size[0];
const zone = size.find((s) => s.name.includes('Zone.js') && !s.name.includes('no'));
const noZone = size.find((s) => s.name.includes('no Zone') && !s.name.includes('JS 3'));
const otel3Size = size.find((s) => s.name.includes('JS 3'));
const kb = (b) => (b / 1000).toFixed(1);
const memRows = [
  ...[[`Node ${facts.node.slice(1)}`, mem], ...(mem24 ? [[`Node ${facts.node24.slice(1)}`, mem24]] : [])].flatMap(([v, [et, ot]]) => [
    rssRow(`process RSS growth per span (${v})`, et, ot),
    heapWasmRow(v, et, ot, (m) => m.externalPerSpan, 'external memory'),
  ]),
  ...servers.map(({ name, version, mem: [et, ot] }) => rssRow(`process RSS growth per span (${name} ${version})`, et, ot)),
  heapWasmRow(`Chromium ${facts.chromium}`, memRt.chromium.edgetrace, memRt.chromium.otel, (m) => m.wasmPerSpan, 'the memory'),
  rssRow(`renderer processes' RSS growth per span (Chromium ${facts.chromium})`, memRt.chromium.edgetrace, memRt.chromium.otel),
  rssRow(`process RSS growth per span (workerd ${facts.workerd}; edgetrace's wasm memory ${bytes0(memRt.workerd.edgetrace.wasmPerSpan)} B of it)`, memRt.workerd.edgetrace, memRt.workerd.otel),
];
// ---- At a glance: each target's verdict from this run, before the numbers behind it ----
const RUNTIMES = [[`Node ${facts.node.slice(1).split('.')[0]}`, nodeRes.scenarios], ...(node24Res ? [[`Node ${facts.node24.slice(1).split('.')[0]}`, node24Res.scenarios]] : []), ...servers.map((r) => [r.name, r.res.scenarios]), ['Chromium', rtRes.chromium], ['workerd', rtRes.workerd]];
// What the browser core built for speed (Chromium's bounds) would add to a page's load.
const speedSizes = rtRes.speedCoreSizes;
const speedCoreText = speedSizes
  ? ` That core is ${speedSizes.speed.raw.toLocaleString('en')} B, ${speedSizes.speed.deflated.toLocaleString('en')} B deflated (zlib, level 9), against the shipped one's ${speedSizes.shipped.raw.toLocaleString('en')} and ${speedSizes.shipped.deflated.toLocaleString('en')} B: ${kb(speedSizes.speed.deflated - speedSizes.shipped.deflated)} KB more for a page to load, where the shipped entry is ${kb(zone.gzip9 - etSize.gzip9)} KB under OpenTelemetry web with Zone.js (Shipped size, below).`
  : '';
const md = [
  '# Benchmark results',
  '',
  `Written by \`node bench/run.mjs${skipIngest || loadReused ? ' --skip-ingest' : ''}\` on ${facts.date} at commit ${facts.commit}. Every ratio is edgetrace ÷ OpenTelemetry JS, measured in the same run.`,
  '',
  `Machine: ${facts.cpu}, ${facts.cores} cores, ${facts.memGiB} GiB. Node ${facts.node}${facts.node24 ? ` and ${facts.node24}` : ''}${facts.servers ? `, ${facts.servers}` : ''}, Chromium ${facts.chromium}, workerd ${facts.workerd} (Miniflare). edgetrace ${facts.edgetrace}; OpenTelemetry JS: ${facts.otel}. The machine was shared with other work while measuring, so spreads are wide; the ratios are from alternating rounds of the same run.`,
  '',
  glance({ runtimes: RUNTIMES, memRows, size: { edgetrace: etSize.gzip9, zone: zone.gzip9, noZone: noZone.gzip9 }, load }),
  '![per-span cost ratio, edgetrace ÷ OpenTelemetry JS](chart.svg)',
  '',
  '## Per-span CPU',
  '',
  'Same scenarios everywhere (`bench/lib/scenarios.mjs`): edgetrace through its public API (`withSpan`, `setAttributes`, `flush`), OpenTelemetry through `startActiveSpan` with a `BatchSpanProcessor`. In the first four rows neither library exports while timed: both only buffer, with queues big enough and their batch triggers out of reach. The payload rows time the export too. For edgetrace that is OTLP built in wasm and handed to a no-op `fetch`; for OpenTelemetry it is its own `JsonTraceSerializer` / `ProtobufTraceSerializer` in the exporter.',
  '',
  spanTable(`Node ${facts.node.slice(1)} (AsyncLocalStorage for both, on async hooks)`, nodeRes.scenarios, nodeRes.rounds, nodeRes.ops, nodeRes.shared
    ? 'Both libraries run in one process (`--shared`), with a GC forced before each one\'s turn.'
    : 'Each library runs in a Node process of its own, as in an app that traces with one of them, and the benchmark asks each in turn to run a round (a GC is forced before each). In one process each would pay for the other: Node 20 runs every enabled `AsyncLocalStorage`\'s propagation on every promise, and both share V8\'s feedback on the scenario code. (Until session 14 both ran in one process; `node --expose-gc bench/node-spans.mjs 10 3000 --shared` still measures so.)'),
  '',
  `Floors in Node, CPU time per call${nodeRes.shared ? '' : ' (in the benchmark\'s own process, where neither library is loaded)'}: a plain wrapper ${median(nodeRes.floors.wrapper).toFixed(1)} ns, an empty \`AsyncLocalStorage.run\` ${median(nodeRes.floors.alsRun).toFixed(1)} ns.${nodeRes.floors.asyncShape ? ` The async scenario's shape with no tracing (\`AsyncLocalStorage.run\` per level, the same awaits, a \`.then\` per level): ${(median(nodeRes.floors.asyncShape) / 1000).toFixed(2)} µs per span.` : ''}`,
  '',
  `Payload bytes per span in Node: OTLP JSON, edgetrace ${nodeRes.scenarios.nestedJson.bytesPerSpan.edgetrace?.toFixed(0)} B and OpenTelemetry ${nodeRes.scenarios.nestedJson.bytesPerSpan.otel?.toFixed(0)} B; protobuf, edgetrace ${nodeRes.scenarios.nestedProto.bytesPerSpan.edgetrace?.toFixed(0)} B and OpenTelemetry ${nodeRes.scenarios.nestedProto.bytesPerSpan.otel?.toFixed(0)} B. edgetrace's spans carry MLflow's \`mlflow.spanType\`, inputs and outputs attributes besides the 5.`,
  '',
  ...(node24Res ? [spanTable(`Node ${facts.node24.slice(1)}, the active LTS (AsyncLocalStorage for both, on async context frames)`, node24Res.scenarios, node24Res.rounds, node24Res.ops,
    'The same benchmark (`bench/node-spans.mjs`, a process per library) run by Node 24 from `.tools/` (scripts/setup.sh fetches it). Node 20, the machine\'s Node and the one above, reached its end of life in April 2026; apps run 22 or 24. Node 24\'s `AsyncLocalStorage` keeps context in async context frames, so no promise pays for propagation as under Node 20\'s async hooks, but each `AsyncLocalStorage.run` makes two frames (copies of the frame it is in): one to enter the store and one to leave it. Both libraries enter each span with `run`. From session 16 to 37 edgetrace\'s Node entry entered it inside an `AsyncResource` scope, which leaves by putting the frame before it back: fewer instructions, but 30–40 % slower than `run` after each full collection, and the benchmark collects before every round (`pkg-templates/node.js`).'),
  '',
  `Floors under Node ${facts.node24.slice(1)}, CPU time per call (in the benchmark's own process): a plain wrapper ${median(node24Res.floors.wrapper).toFixed(1)} ns, an empty \`AsyncLocalStorage.run\` ${median(node24Res.floors.alsRun).toFixed(1)} ns. The async scenario's shape with no tracing: ${(median(node24Res.floors.asyncShape) / 1000).toFixed(2)} µs per span.`,
  ''] : []),
  ...servers.flatMap((r) => [spanTable(`${r.name} ${r.version} (${SERVER_ABOUT[r.key].title})`, r.res.scenarios, r.res.rounds, r.res.ops, SERVER_ABOUT[r.key].text),
    '',
    `Floors under ${r.name}, CPU time per call (in the benchmark's own process): a plain wrapper ${median(r.res.floors.wrapper).toFixed(1)} ns, an empty \`AsyncLocalStorage.run\` ${median(r.res.floors.alsRun).toFixed(1)} ns. The async scenario's shape with no tracing: ${(median(r.res.floors.asyncShape) / 1000).toFixed(2)} µs per span.`,
    '']),
  spanTable('Headless Chromium (OpenTelemetry WebTracerProvider, no Zone.js; no DevTools session attached)', rtRes.chromium, rtRes.rounds, rtRes.ops, rtRes.chromiumIsolated
    ? 'Each library runs in a page of its own, in a browser of its own, so in a V8 isolate of its own, as on a site that traces with one of them; the benchmark hands each page its rounds in turn. (Until session 14 both ran in one page, where whichever went second in a round paid for the first one\'s garbage; `node bench/runtimes.mjs 8 1000 --shared` still measures so.)'
    : 'Both libraries run in one page (`--shared`), where no GC can be forced: whichever goes second in a round pays for the first one\'s garbage.'),
  '',
  'Without Zone.js, OpenTelemetry web loses the active span at the first `await`, so its async rows do less work than edgetrace\'s. edgetrace finds the active span after an await from V8\'s async stack trace: it captures the call sites of the nearest frames (`Error.captureStackTrace`) for each span started with no synchronous parent. That capture is most of its cost in the async rows. In the row where each child is given its parent (`withSpan(fn, { parent })`; for OpenTelemetry, `startActiveSpan` with a context holding it), neither library looks the parent up, and both keep it across `await`: the same work on both sides.',
  ...(rtRes.chromiumParentsAfterAwait ? ['', `Checked in the same run (one op of the async row's shape in each library's page, each span's body asking for the active span after its \`await\`, as a child started there takes it for its parent; \`makeParentsCheck\` in \`bench/entries/runtime-bench.js\`): edgetrace found the body's own span in ${rtRes.chromiumParentsAfterAwait.edgetrace.kept} of ${rtRes.chromiumParentsAfterAwait.edgetrace.of} bodies, OpenTelemetry web in ${rtRes.chromiumParentsAfterAwait.otel.kept} of ${rtRes.chromiumParentsAfterAwait.otel.of}${rtRes.chromiumParentsAfterAwait['otel-zone'] ? `, and OpenTelemetry web with Zone.js (\`ZoneContextManager\`, in a page of its own: \`bench/entries/chromium-zone.js\`) in ${rtRes.chromiumParentsAfterAwait['otel-zone'].kept} of ${rtRes.chromiumParentsAfterAwait['otel-zone'].of}: Zone.js follows what goes through the global \`Promise\`, which it replaces, and a native \`await\` (the pages' code is not compiled down to generators) goes on through the engine's own promise, which it does not see` : ''}.`] : []),
  '',
  'The pages are opened by a plain `chromium --headless` and get their rounds from the benchmark and report them by `fetch` (`bench/lib/page-runner.mjs`), not driven through Playwright: a page with the DevTools protocol\'s Runtime domain enabled makes V8 record a detailed stack trace at every `Error` it creates, which a user\'s browser does not do. Measured here, an `Error.captureStackTrace` of no frames costs about 2 µs under Playwright and 0.3 µs without it, so under the protocol the harness, not the library, was most of edgetrace\'s cost in the async rows.',
  '',
  ...(rtRes.chromiumCaptureFloorNs ? [`Floor in Chromium: one such capture, from an async function awaiting inside a named async runner, costs ${(median(rtRes.chromiumCaptureFloorNs) / 1000).toFixed(2)} µs (min–max ${(Math.min(...rtRes.chromiumCaptureFloorNs) / 1000).toFixed(2)}–${(Math.max(...rtRes.chromiumCaptureFloorNs) / 1000).toFixed(2)}). In the async rows that find the parent themselves, 10 of every 11 spans start after an await, so no library that keeps the parent across \`await\` this way can be below ${((median(rtRes.chromiumCaptureFloorNs) * 10) / 11 / 1000).toFixed(2)} µs per span there; a quarter of OpenTelemetry web's cost is ${(median(rtRes.chromium.nestedAsync.otel) / 4 / 1000).toFixed(2)} µs. The payload rows find their parents the same way. There a quarter of OpenTelemetry web's cost is ${(median(rtRes.chromium.nestedJson.otel) / 4 / 1000).toFixed(2)} µs (JSON) and ${(median(rtRes.chromium.nestedProto.otel) / 4 / 1000).toFixed(2)} µs (protobuf), so the floor leaves ${['nestedJson', 'nestedProto'].map((id) => leftAfter(median(rtRes.chromium[id].otel) / 4, (median(rtRes.chromiumCaptureFloorNs) * 10) / 11)).join(' and ')} per span for everything else edgetrace does in them (recording the span, the core's apply and encode).`] : []),
  '',
  spanTable('workerd via Miniflare (nodejs_compat: AsyncLocalStorage for both)', rtRes.workerd, rtRes.rounds, rtRes.ops, rtRes.workerdIsolated
    ? 'Each library runs in a Worker of its own, so in a V8 isolate of its own, as in an app: neither pays for the other\'s garbage (no GC can be forced between rounds in workerd) or shares V8\'s feedback on the scenario code. (Until session 14 both ran in one Worker; `node bench/runtimes.mjs 8 1000 --shared` still measures so.)'
    : 'Both libraries run in one Worker (`--shared`), where no GC can be forced: whichever goes second in a round pays for the first one\'s garbage.'),
  '',
  'Workers\' clocks do not advance while code runs, so in workerd the caller times a request that runs a round\'s ops (and, in the payload rows, its export), less the time of an empty request. Each round\'s set-up and the drain after it are requests of their own, untimed, as they are outside a Node or Chromium round\'s clock. (Until session 39 one request did all three, so the buffer-only rows charged edgetrace for encoding and exporting every span of the round, which its no-op export does not charge OpenTelemetry for.)',
  '',
  ...(rtRes.workerdFloorsNs ? [`Floors in workerd, per call (a request of ${(rtRes.ops * 100).toLocaleString('en')} calls, less an empty request): a plain wrapper ${median(rtRes.workerdFloorsNs.call).toFixed(1)} ns; an empty \`AsyncLocalStorage.run\` with a \`getStore\` inside ${(median(rtRes.workerdFloorsNs.als) / 1000).toFixed(2)} µs (min–max ${spread(rtRes.workerdFloorsNs.als)}). workerd's AsyncLocalStorage is native (an empty \`run\` in Node, above, costs ${median(nodeRes.floors.alsRun).toFixed(0)} ns). Both libraries make the span active with one \`run\` per span and read it with \`getStore\`, so that floor is in both columns: a quarter of OpenTelemetry's cost in the nested sync row is ${(median(rtRes.workerd.nested.otel) / 4 / 1000).toFixed(2)} µs, which would leave edgetrace ${((median(rtRes.workerd.nested.otel) / 4 - median(rtRes.workerdFloorsNs.als)) / 1000).toFixed(2)} µs per span for everything else it does (its whole cost in Node, AsyncLocalStorage included, is ${us(median(nodeRes.scenarios.nested.edgetrace))} µs). The same subtraction in each row leaves ${SCENARIOS.map((sc) => `${leftAfter(median(rtRes.workerd[sc.id].otel) / 4, median(rtRes.workerdFloorsNs.als))} (${SHORT[sc.id]})`).join(', ')}.`, ''] : []),
  '### What bounds the buffer-only rows in Node, Bun, Deno and Chromium',
  '',
  'The four buffer-only rows again, from the same runs as the tables above: three more libraries took their turns in the same alternation, each in a process of its own (`bench/node-spans.mjs --bounds`). The **floor stand-in** (`bench/floor/node.js`) records nothing and does only what any tracer of this API must: it makes a span object, finds the active span, makes the new one active with `AsyncLocalStorage.run` and ends it with a `.then` when its callback returns a promise. **edgetrace without its core** is the package with the wasm core\'s part taken out: a copy of `pkg/` whose recorder writes every command as usual but never hands them to the core (`bench/out/no-core/`). **edgetrace with the fused spike as its core** is a copy whose wasm core is built with cargo feature `bench-spike`: the spike (`examples/common/spike.rs`) applies the commands in the tracer\'s place and encodes each span as OTLP protobuf as it ends, with no `SpanData` and much of what the core does left out (limits, contexts, trace state), so it is a lower bound on a core that keeps spans as bytes, the step named from session 17 to 26 (`bench/out/spike-core/`). Each cell is the ratio to OpenTelemetry\'s median in the same run, with the µs per span (CPU time) in brackets. The floor stand-in is what the scenario and the runtime cost with no tracing work. Where the column without the core is above 0.25, no change to the core alone can meet the target in that row: the JS layer and the runtime\'s context already cost more than a quarter of OpenTelemetry. Like the other columns, these move with the host\'s noise (by 0.03–0.05 from run to run).',
  '',
  'In Chromium (`bench/runtimes.mjs --bounds`) each of the three bounds runs in a page and a browser of its own, and the µs are wall time in the page, as in Chromium\'s table above. Its floor stand-in (`bench/floor/browser.js`) has no `AsyncLocalStorage` to enter: it keeps the active span in a variable while the callback runs, so, like OpenTelemetry web without Zone.js, it keeps no parent across `await`. The package without its core still captures V8\'s async stack for each span started after an `await` (the floor of that is given with Chromium\'s table). There is no spike-core column there: the browser\'s core is built for size by another toolchain (`scripts/browser-wasm.mjs`), and the spike was measured as the Node core. Instead, **edgetrace with its browser core built for speed** is the package with the browser entry\'s core built as Node\'s is (opt-level 3, wasm-opt -O3, without the `size` feature) in place of the size-built one it ships (`bench/out/speed-core/`): what the size build costs per span.' + speedCoreText,
  '',
  boundsTable(boundRuns),
  '',
  ...otel3Section(),
  '## Memory per buffered span',
  '',
  `${memEt.spans.toLocaleString('en')} ended, un-exported spans (roots with 10 nested children, 5 attributes each) in a fresh process per library, after a forced GC, under each Node (\`node --expose-gc bench/memory.mjs edgetrace|otel N\`)${servers.length ? `, and by RSS alone under ${servers.map((r) => r.name).join(' and ')}: their \`process.memoryUsage()\` does not count wasm memory as Node's does (Deno leaves it out of \`external\`, Bun counts it in \`heapUsed\` too)` : ''}; in headless Chromium and in workerd, each library in a browser or a workerd process of its own with V8's \`--expose-gc\` (\`node bench/memory-runtimes.mjs N\`): in Chromium the page's JS heap (\`performance.memory\`, exact with \`--enable-precise-memory-info\`) plus edgetrace's wasm memory, and the RSS of Chromium's renderer processes, read from outside. The wasm memory grows in steps of an eighth of its size, so what it grew by over the fill is the spans' bytes give or take a step; the heap + wasm rows count what the core's allocator held per span instead, read from the memory's size before each growth (the size before the last growth less that before the first, over the spans made in between), in a run of its own with the same spans (reading the size after each op makes garbage, which would add to the RSS measured); in workerd the process's RSS, as a Worker has no API for its heap. Chromium and workerd build V8 with pointer compression, so a JS object there takes about half the bytes it takes in Node: OpenTelemetry's spans are smaller there, and edgetrace's, in wasm memory, are not. After each measure both libraries export what they buffered, and the run fails unless that is every span they made.`,
  '',
  '| measure | edgetrace | OpenTelemetry | ratio | target ≤ 0.5 |',
  '|---|---|---|---|---|',
  ...memRows.map((r) => `| ${r.what} | ${r.etText} | ${bytes0(r.o)} B | ${ratioText(r.e / r.o, 0.5)} | ${verdict(r.e / r.o, 0.5)} |`),
  '',
  '## Shipped size',
  '',
  'A browser entry that traces a function and exports (`bench/entries/`), bundled by esbuild (bundle, minify, ESM, browser) the same way for each, then gzip -9 (`node bench/size.mjs`). edgetrace\'s entry is code-split (`splitting`), as Vite, webpack and Rollup split a dynamic import: its model API parsers are a wasm module of their own, in a chunk that loads on the first model call, so its row is what a page loads up front; the parsers\' chunk is listed on its own. The entry\'s core writes OTLP/protobuf (the default `format`); a page that calls `init({ format: \'json\' })` loads the core with the OTLP/JSON encoder instead, from a chunk of its own, also listed.',
  '',
  '| entry | minified | gzip -9 |',
  '|---|---|---|',
  ...size.map((s) => `| ${s.name}${s.estimate ? ' (computed: the bundle minus the deflated copy, plus the .wasm file)' : ''} | ${kb(s.raw)} KB | ${kb(s.gzip9)} KB |`),
  '',
  `Target: below OpenTelemetry web with Zone.js (${kb(zone.gzip9)} KB), aiming below it without (${kb(noZone.gzip9)} KB). edgetrace ships ${kb(etSize.gzip9)} KB, so the target is ${etSize.gzip9 < zone.gzip9 ? '**met**' : `**missed**, by ${(etSize.gzip9 / zone.gzip9).toFixed(2)}× (${kb(etSize.gzip9 - zone.gzip9)} KB)`}. The browser's wasm in this run: ${browserStd} (\`scripts/browser-wasm.mjs\`: with the machine's nightly toolchain, std is rebuilt so a panic aborts at once, with no panic messages or source locations kept).${otel3Size ? ` OpenTelemetry JS 3's web entry (\`bench/otel3/web.js\`: \`TracerProvider\`, \`BatchSpanProcessor\`, the OTLP/HTTP exporter and its \`StackContextManager\`) is ${kb(otel3Size.gzip9)} KB: edgetrace's is ${(etSize.gzip9 / otel3Size.gzip9).toFixed(2)} times its size. It has no Zone.js context manager to take (\`@opentelemetry/context-zone\` 2.12 takes \`@opentelemetry/api\` below 1.10, which 3.x needs), so no row of it with Zone.js.` : ''}`,
  '',
  '### Where the bytes go',
  '',
  'The up-front bundle by source file (minified bytes, from esbuild\'s metafile):',
  '',
  '| source file | minified bytes |',
  '|---|---|',
  ...Object.entries(sizeInputs).map(([f, b]) => `| \`${f}\`${f.endsWith('wasm-deflate.js') ? ' (the core wasm, deflated, as base64)' : f.endsWith('core/edgetrace.js') ? ' (wasm-bindgen glue)' : f.endsWith('core-abi.js') ? " (the core's loader, in place of wasm-bindgen's glue)" : ''} | ${b.toLocaleString('en')} |`),
  '',
  `The size-built core wasm by where its code comes from (function bodies summed by crate, and by module for edgetrace itself; read from the module's name section, \`bench/lib/wasm-breakdown.mjs\`). This copy keeps its names, so wasm-opt ran with \`-g\`: it is ${wasmBytes.total.toLocaleString('en')} bytes without the name section, against the shipped module's ${wasmShipped.toLocaleString('en')}.`,
  '',
  '| part | bytes | share |',
  '|---|---|---|',
  ...wasmBytes.rows.filter((r) => r.bytes >= 200).map((r) => `| ${r.part} | ${r.bytes.toLocaleString('en')} | ${((100 * r.bytes) / wasmBytes.total).toFixed(1)}% |`),
  `| (${wasmBytes.rows.filter((r) => r.bytes < 200).length} smaller parts) | ${wasmBytes.rows.filter((r) => r.bytes < 200).reduce((a, r) => a + r.bytes, 0).toLocaleString('en')} | |`,
  '',
  '## Where edgetrace\'s time goes',
  '',
  'CPU profiles of the timed part of three scenarios in Node, and of the async one again without AsyncLocalStorage (as in browsers), then of the nested two under Node 24, Bun and Deno, and in each runtime of every other row that missed the target in this run (`bench/profile.mjs`, V8\'s sampling profiler through `node:inspector`, and JavaScriptCore\'s under Bun), with the wasm functions named: the profiled package is a copy of `pkg/` built the same way except that wasm-opt keeps the name section. Layers: the Rust core compiled to wasm (its allocator and wasm-bindgen\'s Rust half included); wasm-bindgen\'s generated JS glue (string copies into wasm memory, the `Date.now` import); edgetrace\'s JS layer (`pkg-templates/`); Node and V8 (AsyncLocalStorage, `crypto.getRandomValues` for ids, builtins); garbage collection.',
  '',
  ...profiles.flatMap((p) => [p.md, '']),
  ...(extra.length ? [`The other rows that missed the target in Node ${facts.node.slice(1)} in this run, profiled the same way (\`node bench/profile.mjs <scenario> 3000 8\`):`, '', ...extra.flatMap((p) => [p.md, ''])] : []),
  ...(profiles24.length ? [`The nested rows again under Node ${facts.node24.slice(1)}, the LTS (then the other rows that missed the target there), where each \`AsyncLocalStorage.run\` makes two \`AsyncContextFrame\`s (copies of the frame it is in): time in those shows under Node and V8.`, '', ...profiles24.flatMap((p) => [p.md, ''])] : []),
  ...serverProfiles.flatMap((r) => [
    SERVER_ABOUT[r.key].profile(r.name),
    '',
    ...r.profiles.flatMap((p) => [p.md, '']),
  ]),
  'The same profile in headless Chromium (Playwright\'s CDP session, so the stack captures cost more there than in the table above: see the Chromium section) and in workerd (its inspector socket, Miniflare\'s `inspectorPort`), the package loaded unbundled so functions keep their files (`node bench/profile-runtimes.mjs chromium|workerd <scenario>`: the nested row, then every other row that missed the target in this run). Natives have no frames of their own in these profiles: time inside `AsyncLocalStorage.run` and `getStore` shows as self time of the edgetrace function that calls them (`runWith`, `startSpan`).',
  '',
  ...rtProfiles.flatMap((p) => [p.md, '']),
  ...(load
    ? ['## The ingest service under load', '', ...(loadReused ? [`**Not re-run in this run** (\`--skip-ingest\`): the table is from the last ingest run, at ${load.date ? `${load.date.slice(0, 16).replace('T', ' ')} UTC` : 'an earlier date'}, read from \`bench/out/ingest_load.json\`.`, ''] : []), `\`node bench/ingest_load.mjs --duration 60 --check\`: the ingest Worker in workerd on loopback, 8 connections posting OTLP/JSON requests of 20 fresh spans, 60 s per target. The pass-through Worker is the baseline: the same runtime and load with no checks or decoding. The MLflow rows run twice each, in the same run: first as the service did before session 15, then as it does now. In direct mode, each request relayed on its own, then requests in flight sharing relays to MLflow. The queue-mode rows send a fixed 1,000 requests instead (enqueueing outruns MLflow) and count until the consumer has relayed all of them, in batches of up to 100 queue messages: one request to MLflow per message, then each batch's payloads for the experiment as one request. "spans/s relayed" is the spans in MLflow over the time from the first request to the last relay.`, '',
      '| target | requests/s | spans/s accepted | spans/s relayed | spans relayed / accepted | p50 ms | p99 ms | answers | workerd RSS after 10 s → max | wasm memory |', '|---|---|---|---|---|---|---|---|---|---|',
      ...load.results.map((r) => `| ${r.target} | ${r.requestsPerS.toFixed(0)} | ${r.spansAcceptedPerS.toFixed(0)} | ${r.spansRelayedPerS?.toFixed(0) ?? '–'} | ${r.spansRelayed} / ${r.spansAccepted} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(' ')} | ${r.workerdRssMiB.afterWarmup?.toFixed(0) ?? '–'} → ${r.workerdRssMiB.max?.toFixed(0)} MiB | ${r.target.includes('baseline') ? '–' : `${r.wasmMemoryMiB.max.toFixed(2)} MiB`} |`), '']
    : []),
  '## What the numbers say',
  '',
  'See the note at the end of this file, written from this run.',
  '',
].join('\n');
if (!quick) writeFileSync(join(here, 'RESULTS.md'), md + readNote());
writeFileSync(join(here, 'out/RESULTS.md'), md);


function readNote() {
  try {
    return readFileSync(join(here, 'results-note.md'), 'utf8');
  } catch {
    return '';
  }
}

// ---- chart.svg ----
const svg = renderChart(RUNTIMES, facts.date);
writeFileSync(join(here, quick ? 'out/chart.svg' : 'chart.svg'), svg);
say(`done in ${Math.round((Date.now() - t0) / 1000)} s: ${quick ? 'bench/out/RESULTS.md, bench/out/chart.svg' : 'bench/RESULTS.md, bench/chart.svg'}${render ? '' : `, ${resultsFile.slice(root.length + 1)}`}`);
