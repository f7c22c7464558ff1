// Runs a benchmark page in headless Chromium with no DevTools session attached, as a user's
// browser runs it. Playwright drives pages through the DevTools protocol, and a page with the
// protocol's Runtime domain enabled makes V8 record a detailed stack trace at every Error it
// creates (measured here: an Error.captureStackTrace of no frames costs ~2 µs with it, ~0.3 µs
// without), which would charge edgetrace's browser async path for the harness. So the page is
// opened by a plain `chromium --headless`, runs its own plan, and reports to this server:
// POST /progress (a line to show) and POST /result (the result, as JSON). A page driven from
// here instead (`handle`) asks for its next job by POSTing to another path and gets it as the
// answer, whenever `handle` has one.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TYPES = { '.js': 'text/javascript', '.html': 'text/html; charset=utf-8', '.wasm': 'application/wasm' };

/**
 * Serves `dir` on 127.0.0.1 (a free port), opens `/${page}` in a fresh headless Chromium
 * and resolves with what the page POSTs to /result. `say` gets each /progress line; `handle(path,
 * body)` gets any other POST (its body parsed as JSON) and answers it with what its promise
 * resolves to, as JSON. Chromium is stopped by its process group's id, whatever happens; it fails
 * after `timeoutMs` with no result. `args` are more Chromium flags; `onSpawn(pid)` is told the id
 * of Chromium's process group (see `rendererRss`).
 */
export async function runPage(dir, page, { say = () => {}, handle = null, timeoutMs = 600_000, args = [], onSpawn = () => {} } = {}) {
  let settle;
  const done = new Promise((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (handle && path !== '/progress' && path !== '/result') {
          let answer;
          try {
            answer = handle(path, body ? JSON.parse(body) : null);
          } catch (e) {
            answer = Promise.reject(e);
          }
          Promise.resolve(answer).then(
            (v) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v ?? null)),
            (e) => {
              res.writeHead(500).end();
              settle.reject(e);
            },
          );
          return;
        }
        res.writeHead(204).end();
        if (path === '/progress') say(body);
        else if (path === '/result') {
          try {
            const r = JSON.parse(body);
            if (r && r.error) settle.reject(new Error(`the page failed: ${r.error}`));
            else settle.resolve(r);
          } catch (e) {
            settle.reject(e);
          }
        }
      });
      return;
    }
    try {
      const file = path === '/' ? 'index.html' : path.slice(1).split('?')[0];
      const body = await readFile(join(dir, file));
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] || 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'edgetrace-bench-chromium-'));
  const url = `http://127.0.0.1:${server.address().port}/${page}`;
  const child = spawn('/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions', `--user-data-dir=${profile}`, ...args, url,
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  onSpawn(child.pid);
  // Chromium and its renderers are a process group of their own (detached), stopped together by
  // the group's id, also when this process exits or is interrupted first.
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  const onSignal = (sig) => {
    stop();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', stop).on('SIGINT', onSignal).on('SIGTERM', onSignal);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  child.on('exit', (code) => settle.reject(new Error(`Chromium exited (${code}) before the page reported: ${stderr.trim().slice(-800)}`)));
  const timer = setTimeout(() => settle.reject(new Error(`no result from ${url} in ${timeoutMs} ms`)), timeoutMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    process.off('exit', stop).off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (child.exitCode === null) {
      stop();
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
    }
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* a renderer still closing its files: the OS's temp dir keeps it */
    }
  }
}

// A driven page's job queue: the page POSTs /next with its last job's result and waits for the
// answer, its next job; `job(msg)` hands it one and resolves with its result.
export function pageChannel() {
  let giveJob = null;
  let takeResult = null;
  let ready;
  const readyP = new Promise((r) => (ready = r));
  return {
    ready: readyP,
    handle(path, body) {
      if (path !== '/next') throw new Error(`unexpected POST ${path}`);
      if (takeResult) {
        const t = takeResult;
        takeResult = null;
        t(body);
      } else ready();
      return new Promise((r) => (giveJob = r));
    },
    job(msg) {
      return new Promise((r) => {
        takeResult = r;
        const g = giveJob;
        giveJob = null;
        g(msg);
      });
    },
    done() {
      giveJob({ done: true });
    },
  };
}

/** Chromium's version, from `chromium --version`. */
export async function chromiumVersion() {
  const child = spawn('/usr/bin/chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('exit', r));
  return (out.match(/[\d.]+/) || ['?'])[0];
}

/** Resident bytes of the renderer processes in Chromium's process group `pgid` (Linux /proc). */
export function rendererRss(pgid) {
  let bytes = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // The fields after the command's name (which may hold spaces): state, ppid, pgrp, …
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      bytes += processRss(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return bytes;
}

/** Resident bytes of process `pid` (Linux /proc). */
export function processRss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}
