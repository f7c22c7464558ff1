// A fault in the wasm core (a trap) while it applies a command built outside the recorder's
// buffer (a value too big for it, an event, a status message) must not reach the traced code:
// tracing turns off with a warning and the app's calls return as before. Such a command goes
// through the command buffer, made bigger for it; the trap is simulated by making the core's
// `run` throw for a command longer than the buffer's usual 128 KB, as a trapping wasm call does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Core } from '../../pkg/core/edgetrace.js';
import { flush, init, startSpan, withSpan } from '../../pkg/node.js';

test('a trap while applying a command of its own turns tracing off; the span calls return', async () => {
  const warnings = [];
  init({ logger: { warn: (m) => warnings.push(m) } });
  const run = Core.prototype.run;
  Core.prototype.run = function (len) {
    if (len > 1 << 17) throw new WebAssembly.RuntimeError('unreachable');
    return run.call(this, len);
  };
  try {
    const big = 'x'.repeat(200_000); // bigger than the 128 KB buffer: applied on its own
    const out = withSpan((s) => {
      assert.equal(s.setAttribute('big', { text: big }), s, 'setAttribute returns the span');
      assert.equal(s.setStatus('ERROR', big), s, 'setStatus returns the span');
      assert.equal(s.addEvent('e', { text: big }), s, 'addEvent returns the span');
      return 'done';
    }, { name: 'trapped' });
    assert.equal(out, 'done', 'the traced function returned its value');
    assert.deepEqual(warnings, ['edgetrace: tracing is off, the wasm core failed: unreachable']);
    assert.equal(startSpan({ name: 'after' }).isRecording, false, 'tracing is off');
  } finally {
    Core.prototype.run = run;
  }
  await flush();
});
