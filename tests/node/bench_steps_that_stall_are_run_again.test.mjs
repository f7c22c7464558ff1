// bench/run.mjs's steps (bench/lib/step.mjs): a step that stalls (as Node 20's CPU profiler can
// deadlock when it starts, with the process at 0 CPU) is killed after its time and run again, a
// bounded number of times; a step that fails says so; the last line of its output comes back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runStep } from '../../bench/lib/step.mjs';

// A child that hangs forever on its first `hangs` runs (counted in a file), then prints two lines.
const script = `
const fs = require('node:fs');
const f = process.argv[1];
const n = Number(fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : 0) + 1;
fs.writeFileSync(f, String(n));
if (n <= Number(process.argv[2])) setInterval(() => {}, 1000);
else console.log('first line\\nrun ' + n);
`;

test('a stalled step is killed and run again; its last output line comes back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'et-step-'));
  const said = [];
  try {
    const counter = join(dir, 'runs');
    const t0 = Date.now();
    const out = runStep(process.execPath, ['-e', script, counter, '2'], { cwd: dir, what: 'the step', say: (m) => said.push(m), stallMs: 1500 });
    assert.equal(out, 'run 3');
    assert.equal(readFileSync(counter, 'utf8'), '3');
    assert.ok(Date.now() - t0 >= 3000, 'two runs waited out their 1.5 s each');
    assert.deepEqual(said, ['the step: still running after 1.5 s, stopped; again (attempt 2 of 3)', 'the step: still running after 1.5 s, stopped; again (attempt 3 of 3)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a step that stalls every time, and one that fails, throw saying which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'et-step-'));
  try {
    assert.throws(() => runStep(process.execPath, ['-e', script, join(dir, 'runs'), '9'], { cwd: dir, what: 'the step', stallMs: 500, attempts: 2 }),
      /^Error: the step was still running after 0\.5 s, 2 times$/);
    assert.throws(() => runStep(process.execPath, ['-e', 'process.exit(3)'], { cwd: dir, what: 'the failing step' }), /^Error: the failing step failed with exit 3$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
