// Small shared test utilities.
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return (await freePorts(1))[0];
}

/**
 * `n` distinct free ports on 127.0.0.1. Each is held until all are chosen: ports asked for one at
 * a time can come back the same, as a port is free again once its probe closes (two servers of
 * the demo stack were once given one port).
 */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      s.unref();
      servers.push(s);
      await new Promise((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}

/** Polls `check` until it returns something truthy, and returns that; throws with `what` after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 10_000, intervalMs = 100, what = 'condition', progress, progressEveryMs = 10_000, alive } = {}) {
  const start = Date.now();
  let lastProgress = start;
  for (;;) {
    // A check that hangs (a server that took the connection and never answers) counts as not yet
    // after 10 s, so the process's exit, the timeout and the progress are still looked at.
    const pending = Promise.resolve().then(check);
    pending.catch(() => {});
    let timer;
    try {
      const v = await Promise.race([pending, new Promise((r) => { timer = setTimeout(r, Math.min(10_000, Math.max(timeoutMs, 1))); })]);
      if (v) return v;
    } catch {
      /* not yet */
    } finally {
      clearTimeout(timer);
    }
    if (alive && !alive()) throw new Error(`${what}: the process exited`);
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    if (progress && Date.now() - lastProgress >= progressEveryMs) {
      lastProgress = Date.now();
      progress();
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
