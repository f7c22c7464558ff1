// Where edgetrace's time goes in one scenario: runs it under the V8 CPU profiler and prints the
// functions with the most self time (wasm functions show as their wasm-function index or name).
//   node bench/profile.mjs [SCENARIO] [OPS]        (writes bench/out/profile-<scenario>.md)
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const [scenario = 'root5', ops = '20000'] = process.argv.slice(2);
const dir = join(here, 'out', `prof-${scenario}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const script = `
import * as et from '${join(here, '../pkg/node.js')}';
import { edgetraceOps, SCENARIOS, timeOps } from '${join(here, 'lib/scenarios.mjs')}';
import { edgetraceInit } from '${join(here, 'lib/setups.mjs')}';
const sc = SCENARIOS.find((s) => s.id === '${scenario}');
for (let r = 0; r < 4; r++) {
  const h = edgetraceInit(et, sc.export);
  await timeOps(edgetraceOps(et)[sc.id], ${Number(ops)}, sc.async, () => performance.now());
  await h.drain();
}`;
writeFileSync(join(dir, 'run.mjs'), script);
spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, join(dir, 'run.mjs')], { stdio: 'inherit' });
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const self = new Map();
const dt = prof.timeDeltas;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
prof.samples.forEach((id, i) => {
  const n = byId.get(id);
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url ? f.url.split('/').slice(-2).join('/') : ''}`.trim();
  self.set(key, (self.get(key) || 0) + (dt[i] || 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
const md = [`Top self time, edgetrace, scenario \`${scenario}\` (${ops} ops × 4 rounds, \`node bench/profile.mjs ${scenario} ${ops}\`):`, '', '| function | self % |', '|---|---|',
  ...rows.map(([k, v]) => `| \`${k.replace(/\|/g, '\\|')}\` | ${((100 * v) / total).toFixed(1)} |`)].join('\n');
writeFileSync(join(here, 'out', `profile-${scenario}.md`), md + '\n');
console.log(md);
