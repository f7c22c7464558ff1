// Small shared test utilities.
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns something truthy, and returns that; throws with `what` after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 10_000, intervalMs = 100, what = 'condition', progress, progressEveryMs = 10_000, alive } = {}) {
  const start = Date.now();
  let lastProgress = start;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {
      /* not yet */
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
