// The bench Worker (bench/entries/workerd-bench.js) served by the workerd binary from a config of
// its own, without Miniflare, which gives no way to set V8's flags: bench/workerd-direct.mjs (the
// workerd rows cross-checked, V8 traces) and bench/memory-runtimes.mjs (`--expose-gc`).
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import workerd from 'workerd';
import { freePort } from '../../tests/node/helpers/util.mjs';
import { bundleBenchWorker } from './worker-bundle.mjs';

export const workerdVersion = workerd.version ?? '';

/** Bundles the bench Worker with the package in `pkg` into `dir`, with a workerd config beside it
 * that starts V8 with `v8Flags`. */
export async function bundleDirect(pkg, dir, v8Flags = []) {
  await bundleBenchWorker(pkg, dir);
  // The same compatibility date and flags as bench/runtimes.mjs gives Miniflare.
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .bench) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
  v8Flags = [ ${v8Flags.map((f) => JSON.stringify(f)).join(', ')} ],
);
const bench :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "core/edgetrace_bg.wasm", wasm = embed "core/edgetrace_bg.wasm"),
    (name = "llm/edgetrace_llm_bg.wasm", wasm = embed "llm/edgetrace_llm_bg.wasm"),
  ],
  compatibilityDate = "2026-04-01",
  compatibilityFlags = ["nodejs_compat"],
);
`);
}

/** Starts workerd on the config in `dir`, on a free loopback port (what it prints goes to
 * `dir`/workerd.log: V8's traces, with V8 flags); resolves once it answers, with its URL, process
 * id and child process. The caller stops it by its id. */
export async function serveDirect(dir) {
  const port = await freePort();
  const log = openSync(join(dir, 'workerd.log'), 'w');
  const child = spawn(workerd.default ?? workerd, ['serve', join(dir, 'config.capnp'), `--socket-addr=http=127.0.0.1:${port}`], { stdio: ['ignore', log, 'pipe'] });
  closeSync(log);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      await (await fetch(`${url}?ops=0`)).text();
      return { url, pid: child.pid, child };
    } catch {
      if (child.exitCode !== null || i > 100) {
        try {
          process.kill(child.pid);
        } catch {}
        throw new Error(`workerd did not start: ${err.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
