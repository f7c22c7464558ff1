#!/usr/bin/env node
// The demo stack: MLflow (SQLite under .data/, or MLFLOW_URL), the mock model server, the ingest
// service and the demo Worker in local workerd (`wrangler dev`), and the demo page (www/, built by
// Vite from the edgetrace package) on a small static server that also serves /config.json.
// scripts/demo.sh runs it; tests/www imports startDemoStack() to run the same stack on free ports.
//   node scripts/demo-stack.mjs [MLFLOW_URL] [--no-build]    node scripts/demo-stack.mjs --build-only
// Every process it starts is in its own process group and is stopped by it; Ctrl-C or SIGTERM
// stops everything.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockLlm } from '../mock-llm/server.mjs';
import { freePorts, waitFor } from '../tests/node/helpers/util.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => console.error(`[demo] ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Links www/node_modules/edgetrace to pkg/ (what `npm install` of file:../pkg does) and builds the page. */
export function buildPage() {
  mkdirSync(join(root, 'www/node_modules'), { recursive: true });
  const link = join(root, 'www/node_modules/edgetrace');
  rmSync(link, { force: true, recursive: true });
  symlinkSync('../../pkg', link);
  say('bundling www/ with Vite (import from "edgetrace", as an app would)');
  return new Promise((resolve, reject) => {
    const p = spawn(join(root, 'node_modules/.bin/vite'), ['build', 'www'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited ${code}`))));
  });
}

function startProcess(name, cmd, args, opts) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...opts, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...opts?.env } });
  let tail = '';
  const keep = (d) => (tail = (tail + d).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return {
    child,
    name,
    tail: () => tail,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      // Its output pipes go with it: a process it started (wrangler's esbuild service) would
      // otherwise hold them open, and keep this process alive after it exited.
      const close = () => {
        child.stdout.destroy();
        child.stderr.destroy();
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        // It exited by itself (a port taken): what it started in its group may still run.
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* none left */
        }
        return close();
      }
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return close();
      }
      const done = new Promise((r) => child.once('exit', r));
      if (!(await Promise.race([done.then(() => true), sleep(5000).then(() => false)]))) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await done;
      }
      close();
    },
  };
}

function wranglerDev(name, dir, port, vars) {
  const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', '0', '--show-interactive-dev-session=false', '--log-level', 'warn'];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  return startProcess(name, join(root, 'node_modules/.bin/wrangler'), args, { cwd: join(root, dir) });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

function servePage(port, config) {
  const dist = join(root, 'www/dist');
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(config));
      return;
    }
    const file = normalize(join(dist, path === '/' ? 'index.html' : path.slice(1)));
    let ok = file.startsWith(dist + sep);
    try {
      ok = ok && statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server)));
}

async function experimentId(mlflowUrl, name) {
  const got = await fetch(`${mlflowUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
  if (got.ok) return (await got.json()).experiment.experiment_id;
  const made = await fetch(`${mlflowUrl}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  if (!made.ok) throw new Error(`cannot create experiment ${name}: ${made.status} ${await made.text()}`);
  return (await made.json()).experiment_id;
}

/**
 * Starts the stack. Ports default to the demo's fixed ones; pass 0 for free ports (tests).
 * @param {{mlflowUrl: string, experiment?: string, ports?: {page?: number, ingest?: number, worker?: number, model?: number}, build?: boolean}} o
 * @returns {Promise<{urls: object, experimentId: string, stop: () => Promise<void>}>}
 */
export async function startDemoStack(options) {
  // A free port is free when it is chosen, not always when wrangler binds it a few seconds later:
  // another process (a test running beside this one, an outgoing connection) may take it first.
  // With ports chosen free (0), the stack is started again on others, up to three times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDemoStackOnce(options);
    } catch (e) {
      const free = Object.values(options.ports || {}).includes(0);
      if (!free || attempt >= 3 || !/Address already in use/.test(e.message)) throw e;
      say(`a port chosen free was taken before wrangler bound it; starting the stack again (attempt ${attempt + 1} of 3)`);
    }
  }
}

async function startDemoStackOnce({ mlflowUrl, experiment = 'edgetrace-demo', ports = {}, build = true }) {
  // The demo's fixed ports; those given as 0 get free ones, distinct from each other.
  const fixed = { page: 5173, ingest: 8787, worker: 8788, model: 8790 };
  const free = await freePorts(Object.keys(fixed).filter((k) => ports[k] === 0).length);
  const port = Object.fromEntries(Object.entries(fixed).map(([k, p]) => [k, ports[k] === 0 ? free.shift() : ports[k] ?? p]));
  const stoppers = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
    stoppers.length = 0;
  };
  try {
    // --no-build reuses the page as built, or builds it when there is none yet (a fresh clone).
    if (build || !existsSync(join(root, 'www/dist/index.html'))) await buildPage();
    const expId = await experimentId(mlflowUrl, experiment);
    say(`MLflow ${mlflowUrl}, experiment "${experiment}" (id ${expId})`);

    const realModel = Boolean(process.env.OPENAI_API_KEY);
    let modelBase = 'https://api.openai.com';
    if (!realModel) {
      const mock = await startMockLlm({ port: port.model, host: '127.0.0.1' });
      stoppers.push(() => mock.close());
      modelBase = mock.url;
      say(`mock model server (OpenAI wire format) on ${mock.url}`);
    } else {
      writeFileSync(join(root, 'www/worker/.dev.vars'), `OPENAI_API_KEY=${process.env.OPENAI_API_KEY}\n`, { mode: 0o600 });
      say('OPENAI_API_KEY is set: the Worker proxies model calls to api.openai.com');
    }

    const pageOrigin = `http://127.0.0.1:${port.page}`;
    const ingestUrl = `http://127.0.0.1:${port.ingest}`;
    const workerUrl = `http://127.0.0.1:${port.worker}`;
    const keys = {
      pk_demo_page: { origins: [pageOrigin, `http://localhost:${port.page}`], experimentId: expId },
      pk_demo_worker: { origins: [], experimentId: expId },
    };
    say(`starting the ingest service in local workerd (wrangler dev) on ${ingestUrl}`);
    const ingest = wranglerDev('ingest service', 'ingest', port.ingest, { MLFLOW_TRACKING_URI: mlflowUrl, INGEST_KEYS: JSON.stringify(keys) });
    stoppers.push(() => ingest.stop());
    say(`starting the demo Worker (wrangler dev) on ${workerUrl}`);
    const worker = wranglerDev('demo Worker', 'www/worker', port.worker, {
      INGEST_URL: ingestUrl, INGEST_KEY: 'pk_demo_worker', EXPERIMENT_ID: expId, MODEL_BASE_URL: modelBase,
    });
    stoppers.push(() => worker.stop());
    for (const [p, url] of [[ingest, `${ingestUrl}/healthz`], [worker, `${workerUrl}/healthz`]]) {
      try {
        await waitFor(async () => (await fetch(url)).ok, {
          timeoutMs: 120_000, intervalMs: 250, what: p.name, alive: p.alive,
          progress: () => say(`waiting for ${p.name}`), progressEveryMs: 10_000,
        });
      } catch (e) {
        throw new Error(`${e.message}\n--- ${p.name} output ---\n${p.tail()}`);
      }
    }
    const config = { ingestUrl, ingestKey: 'pk_demo_page', experimentId: expId, workerUrl, mlflowUrl, model: realModel ? 'gpt-4o-mini' : 'gpt-4o-mini' };
    const server = await servePage(port.page, config);
    stoppers.push(() => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }));
    const urls = { page: pageOrigin, ingest: ingestUrl, worker: workerUrl, mlflow: mlflowUrl, mlflowTraces: `${mlflowUrl}/#/experiments/${expId}/traces` };
    return { urls, experimentId: expId, pids: [ingest.child.pid, worker.child.pid], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--build-only')) {
  await buildPage();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mlflowUrl = process.argv.slice(2).find((a) => !a.startsWith('--')) || process.env.MLFLOW_URL || 'http://127.0.0.1:5000';
  const stack = await startDemoStack({ mlflowUrl, build: !process.argv.includes('--no-build') });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping the demo stack');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  say('ready:');
  say(`  demo page          ${stack.urls.page}   ← open this and ask a question`);
  say(`  MLflow traces      ${stack.urls.mlflowTraces}`);
  say(`  ingest service     ${stack.urls.ingest}/healthz`);
  say(`  demo Worker        ${stack.urls.worker}`);
  say('press Ctrl-C to stop everything');
  setInterval(() => {}, 1 << 30);
}
