// The scripts and tests wait for their servers with `waitFor` (tests/node/helpers/util.mjs), a
// health check polled until it answers. A server that takes the connection and never answers
// made a check that never settled, and the wait with it: `waitFor` must still time out, and say
// what it waited for.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { waitFor } from './helpers/util.mjs';

test('a health check that never answers times out instead of hanging', { timeout: 20_000 }, async (t) => {
  const sockets = new Set();
  // Takes every connection, reads the request, answers nothing.
  const server = createServer((s) => sockets.add(s.on('data', () => {})));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const url = `http://127.0.0.1:${server.address().port}/healthz`;
  const started = Date.now();
  await assert.rejects(
    waitFor(async () => (await fetch(url)).ok, { timeoutMs: 1_500, intervalMs: 100, what: 'a silent server' }),
    /timed out after 1500 ms waiting for a silent server/,
  );
  const took = Date.now() - started;
  assert.ok(took < 8_000, `gave up after ${took} ms`);
  assert.ok(sockets.size >= 1, 'the check did connect');
});
