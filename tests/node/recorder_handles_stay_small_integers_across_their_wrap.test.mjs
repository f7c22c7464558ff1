// The JS recorder chooses span handles and context ids (src/tracer.rs GIVEN_HANDLES and up) below
// 2^30, so V8 keeps each as a small integer on its span instead of allocating a heap number per
// span. They wrap around before 2^30; across the wrap the core must still take every one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Recorder, STATS_LEN, configBytes } from '../../pkg/recorder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SMI_MAX = 2 ** 30 - 1; // V8's small integers with pointer compression, as on x64 and in Chromium

test('handles and context ids stay small integers and the core takes them across their wrap', async () => {
  const glue = await import(pathToFileURL(join(root, 'pkg', 'core', 'edgetrace.js')).href);
  const { memory } = glue.initSync({ module: readFileSync(join(root, 'pkg', 'core', 'edgetrace_bg.wasm')) });
  const core = new glue.Core(configBytes({ serviceName: 'wrap' }, ['serviceName'], JSON.stringify), Date.now(), 0, 1);
  const failures = [];
  const rec = new Recorder(core, memory, (flags) => failures.push(flags));
  // Just before the wrap: the next few handles and ids are the highest, then the lowest again.
  rec.nextHandle = 2 ** 29 - 6;
  rec.nextCtx = 2 ** 29 - 4;
  const seen = { handles: [], contexts: [] };
  for (let trace = 0; trace < 4; trace++) {
    const ctx = rec.newContext();
    seen.contexts.push(ctx);
    const rootSpan = rec.start({}, ctx, 0, 'root', 'CHAIN', 1000 + trace);
    const child = rec.start({}, ctx, rootSpan, 'child', 'LLM', 1000.5 + trace);
    seen.handles.push(rootSpan, child);
    rec.str(child, 'k', 'v');
    rec.end(child, 1001 + trace);
    rec.end(rootSpan, 1002 + trace, ctx);
  }
  rec.drain();
  for (const x of [...seen.handles, ...seen.contexts]) {
    assert.ok(Number.isInteger(x) && x > 2 ** 29 && x <= SMI_MAX, `${x} is a given handle below 2^30`);
  }
  assert.ok(seen.handles.some((h) => h > 2 ** 30 - 8) && seen.handles.some((h) => h < 2 ** 29 + 8), `the handles wrapped: ${seen.handles}`);
  assert.ok(seen.contexts.some((c) => c > 2 ** 30 - 8) && seen.contexts.some((c) => c < 2 ** 29 + 8), `the ids wrapped: ${seen.contexts}`);
  assert.equal(new Set(seen.handles).size, seen.handles.length, 'no handle twice');
  assert.deepEqual(failures, [], 'the core took every command');
  const stats = new Float64Array(memory.buffer, core.write_stats(), STATS_LEN);
  assert.equal(stats[0], 8, 'eight spans started');
  assert.equal(stats[3], 8, 'and queued');
  assert.ok(core.take_batch(true).length > 0, 'and exported');
});
