// One step of bench/run.mjs: a child process (a Node, Bun or Deno running a benchmark script),
// its stdout's last line returned, its stderr passed through for progress.
import { spawnSync } from 'node:child_process';

/**
 * Runs `exec args` in `cwd`; throws if it fails. With `stallMs`, a run still going after that long
 * is killed and started again, up to `attempts` runs in all: the profiles' steps, since Node 20's
 * V8 can deadlock as its CPU profiler starts (its listener logs the functions already compiled,
 * allocates, and the collection that sets off waits on a lock the listener holds; seen in
 * sessions 35 and 36, the process at 0 CPU until stopped).
 */
export function runStep(exec, args, { cwd, what, say = () => {}, stallMs = 0, attempts = 3 }) {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(exec, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, timeout: stallMs || undefined, killSignal: 'SIGKILL' });
    if (stallMs && r.error?.code === 'ETIMEDOUT') {
      if (attempt >= attempts) throw new Error(`${what} was still running after ${stallMs / 1000} s, ${attempts} times`);
      say(`${what}: still running after ${stallMs / 1000} s, stopped; again (attempt ${attempt + 1} of ${attempts})`);
      continue;
    }
    if (r.status !== 0) throw new Error(`${what} failed with exit ${r.status}${r.error ? ` (${r.error.code || r.error.message})` : ''}`);
    return r.stdout.trim().split('\n').pop();
  }
}
