// The clock the Node per-span rounds are measured by (bench/lib/clocks.mjs, issue 7): the
// process's CPU time, which work advances and waiting does not, unlike the wall clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNow, wallNow } from '../../bench/lib/clocks.mjs';

const busy = (ms) => {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
};

test('CPU time advances with work and stands still while the process waits', async () => {
  const c0 = cpuNow();
  const w0 = wallNow();
  busy(60);
  const busyCpu = cpuNow() - c0;
  const busyWall = wallNow() - w0;
  // On a shared host the thread may wait for a core while busy: CPU time is then less than the
  // wall time, never much more (a helper thread's few ms at most).
  assert.ok(busyCpu > 20, `60 ms of work read ${busyCpu.toFixed(1)} ms of CPU`);
  assert.ok(busyCpu < busyWall + 15, `60 ms of work read ${busyCpu.toFixed(1)} ms of CPU in ${busyWall.toFixed(1)} ms`);

  const c1 = cpuNow();
  const w1 = wallNow();
  await sleep(120);
  const idleCpu = cpuNow() - c1;
  const idleWall = wallNow() - w1;
  assert.ok(idleWall >= 100, `a 120 ms sleep read ${idleWall.toFixed(1)} ms of wall time`);
  assert.ok(idleCpu < 40, `a 120 ms sleep read ${idleCpu.toFixed(1)} ms of CPU`);
});
