// Where edgetrace's time goes in headless Chromium and in workerd: the same CPU profile as
// bench/profile.mjs, taken through each runtime's DevTools protocol (Chromium's through
// Playwright's CDP session, workerd's inspector socket through Miniflare's `inspectorPort`).
// The package is the named copy (bench/lib/named-pkg.mjs: the size build, deflated, for Chromium,
// the speed build as workerd's module), loaded unbundled so functions keep their names and files.
// Only the timed part of a round is profiled; the buffer-only scenarios' queue is drained after.
//   node bench/profile-runtimes.mjs chromium|workerd [SCENARIO] [OPS] [ROUNDS] [--no-build]
// Writes bench/out/profile-<runtime>-<scenario>.md and .json; prints the markdown.
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { launchChromium } from '../tests/browser/helpers.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { buildNamedPkg } from './lib/named-pkg.mjs';
import { profileSummer } from './lib/cpu-profile.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** A port free on 127.0.0.1 between 20000 and 32767, which no listen on port 0 is given. */
async function freePortBelowEphemeral() {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    const server = createServer();
    const free = await new Promise((resolve) => server.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
    await new Promise((resolve) => (free ? server.close(resolve) : resolve()));
    if (free) return port;
  }
  throw new Error('bench/profile-runtimes.mjs: no free port between 20000 and 32767');
}
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [runtime, scenario = 'nested', opsArg = '1000', roundsArg = '8'] = args;
if (runtime !== 'chromium' && runtime !== 'workerd') throw new Error('usage: node bench/profile-runtimes.mjs chromium|workerd [SCENARIO] [OPS] [ROUNDS]');
const sc = SCENARIOS.find((s) => s.id === scenario);
if (!sc) throw new Error(`unknown scenario ${scenario}; one of ${SCENARIOS.map((s) => s.id).join(', ')}`);
const ops = Number(opsArg);
const rounds = Number(roundsArg);
const say = (m) => process.stderr.write(`[bench:profile-${runtime}] ${m}\n`);

const named = buildNamedPkg({ reuse: process.argv.includes('--no-build'), say });
const dir = join(here, 'out', 'prof');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
cpSync(named, join(dir, 'pkg'), { recursive: true });
copyFileSync(join(here, 'lib', 'scenarios.mjs'), join(dir, 'scenarios.mjs'));
copyFileSync(join(here, 'entries', 'profile-page.js'), join(dir, 'page.js'));
copyFileSync(join(here, 'entries', 'profile-worker.js'), join(dir, 'worker.js'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');

let summer;
let ms = 0;
if (runtime === 'chromium') {
  summer = profileSummer('Chromium and V8 (builtins, crypto, stack capture)');
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const file = path === '/' ? 'index.html' : path.slice(1);
    try {
      const body = readFileSync(join(dir, file));
      res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.profReady === true, null, { timeout: 30_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    say(`warm-up round (${sc.id}, ${ops} ops)`);
    await page.evaluate(([s, n]) => window.runRound(s, n).then(() => window.drain()), [sc.id, ops]);
    for (let r = 0; r < rounds; r++) {
      await cdp.send('Profiler.start');
      ms += await page.evaluate(([s, n]) => window.runRound(s, n), [sc.id, ops]);
      const { profile } = await cdp.send('Profiler.stop');
      await page.evaluate(() => window.drain());
      summer.add(profile);
      say(`round ${r + 1}/${rounds}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
} else {
  summer = profileSummer('workerd and V8 (AsyncLocalStorage, crypto, builtins)');
  // Below the kernel's ephemeral range (32768 and up): a port probed free there could be handed
  // straight back to Miniflare's own loopback server, which listens on port 0 before workerd
  // starts, and workerd's inspector then never listened (a CI run hung at this step, its
  // workerd given one port for both).
  const inspectorPort = await freePortBelowEphemeral();
  const mf = new Miniflare({
    name: 'prof', modules: true, scriptPath: join(dir, 'worker.js'), modulesRoot: dir,
    modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01', compatibilityFlags: ['nodejs_compat'], cf: false, inspectorPort,
  });
  try {
    await mf.ready;
    const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/core:user:prof`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let nextId = 1;
    const waiting = new Map();
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`${msg.error.message} (${JSON.stringify(msg.error)})`));
      else w.resolve(msg.result);
    });
    const send = (method, params = {}) => new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
    const call = async (path) => {
      const t0 = performance.now();
      const res = await mf.dispatchFetch(`http://bench.test${path}`);
      await res.text();
      if (!res.ok) throw new Error(`workerd answered ${res.status}`);
      return performance.now() - t0;
    };
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 50 });
    say(`warm-up round (${sc.id}, ${ops} ops)`);
    await call(`/?scenario=${sc.id}&ops=${ops}`);
    await call('/drain');
    for (let r = 0; r < rounds; r++) {
      await send('Profiler.start');
      ms += await call(`/?scenario=${sc.id}&ops=${ops}`);
      const { profile } = await send('Profiler.stop');
      await call('/drain');
      summer.add(profile);
      say(`round ${r + 1}/${rounds}`);
    }
    ws.close();
  } finally {
    await mf.dispose();
  }
}

const nsPerSpan = (ms * 1e6) / (rounds * ops * sc.spans);
const timing = runtime === 'workerd' ? 'timed by the caller, request included' : 'while profiled';
const { md, data } = summer.render(
  `Scenario \`${scenario}\` (${sc.title}) in ${runtime === 'chromium' ? 'headless Chromium (the size-built core, as the browser entry ships it)' : 'workerd (the speed-built core, as the Workers entry ships it)'}, ${rounds} round${rounds === 1 ? '' : 's'} of ${ops} ops, ${nsPerSpan.toFixed(0)} ns per span ${timing} (\`node bench/profile-runtimes.mjs ${runtime} ${scenario} ${ops} ${rounds}\`).`,
);
writeFileSync(join(here, 'out', `profile-${runtime}-${scenario}.md`), md + '\n');
writeFileSync(join(here, 'out', `profile-${runtime}-${scenario}.json`), JSON.stringify({ runtime, scenario, ops, rounds, nsPerSpan, ...data }));
console.log(md);
