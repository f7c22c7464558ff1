// With tracing off (`enabled: false`, or a configuration the core refused), no span is active, so
// updateCurrentTrace() inside a traced function found none and warned "outside any span", a
// wrong account of the app's code. It now says nothing then; with tracing on it still warns when
// really called outside any span. Checked on the browsers' path (no AsyncLocalStorage), where a
// user found it; the function is the same in Node and Workers. A configuration a browser's core
// refuses is checked in Chromium (tests/browser/package_runs_in_chromium.test.mjs, "tracing off").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as api from './helpers/entry-without-als.mjs';

test('updateCurrentTrace() in a traced function with tracing off warns nothing; outside any span with tracing on, it warns', async () => {
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m) };
  api.init({ enabled: false, logger });
  const turn = api.trace(async function turn(x) {
    await null;
    api.updateCurrentTrace({ sessionId: 's-1', tags: { a: 'b' } });
    return x * 2;
  });
  assert.equal(await turn(2), 4);
  api.withSpan(() => api.updateCurrentTrace({ userId: 'u' }), { name: 'sync' });
  assert.deepEqual(warnings, []);

  api.init({ logger });
  api.updateCurrentTrace({ userId: 'u' });
  assert.deepEqual(warnings, ['edgetrace: updateCurrentTrace() outside any span is ignored']);
  api.init({ enabled: false, logger });
});
