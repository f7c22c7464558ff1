// The clock the Node per-span rounds are measured by (bench/lib/clocks.mjs, issue 7): the
// process's CPU time, which work advances and waiting does not, unlike the wall clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNow, wallNow } from '../../bench/lib/clocks.mjs';

// Works until the CPU clock has advanced by `ms`, or `limitMs` of wall time have passed: on a
// loaded host (the test suite runs files side by side) the thread may wait for a core, so the
// work is measured in CPU time reached, not in wall time spent.
const busyFor = (ms, limitMs) => {
  const c0 = cpuNow();
  const w0 = wallNow();
  let x = 0;
  while (cpuNow() - c0 < ms && wallNow() - w0 < limitMs) x++;
  return x;
};

test('CPU time advances with work and stands still while the process waits', async () => {
  const c0 = cpuNow();
  const w0 = wallNow();
  busyFor(60, 10_000);
  const busyCpu = cpuNow() - c0;
  const busyWall = wallNow() - w0;
  // CPU time is less than the wall time when the thread waits for a core, never much more (a
  // helper thread's few ms at most).
  assert.ok(busyCpu >= 60, `10 s of work read ${busyCpu.toFixed(1)} ms of CPU`);
  assert.ok(busyCpu < busyWall + 15, `work read ${busyCpu.toFixed(1)} ms of CPU in ${busyWall.toFixed(1)} ms`);

  const c1 = cpuNow();
  const w1 = wallNow();
  await sleep(120);
  const idleCpu = cpuNow() - c1;
  const idleWall = wallNow() - w1;
  assert.ok(idleWall >= 100, `a 120 ms sleep read ${idleWall.toFixed(1)} ms of wall time`);
  assert.ok(idleCpu < 40, `a 120 ms sleep read ${idleCpu.toFixed(1)} ms of CPU`);
});
