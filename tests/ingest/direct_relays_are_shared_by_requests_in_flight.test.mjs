// Direct mode's group commit (ingest/src/coalesce.js): payloads that arrive while a relay to MLflow
// is in flight go together in the next one, laid end to end; each caller gets the outcome of the
// relay that carried its payload; a refusal for good is sorted out payload by payload; a relay that
// never settles (its request gone) is taken over by a caller still waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer, join } from '../../ingest/src/coalesce.js';

const bytes = (tag, n = 4) => new Uint8Array(n).fill(tag);
const OK = { ok: true, status: 200, retryable: false };

// A fake MLflow: records each relay's bytes; each relay settles when the test says.
function fakeMlflow() {
  const posts = [];
  let answer = null; // once set (`settleAll`), every relay settles at once with it
  const post = (payload) => (answer ? Promise.resolve(answer) : new Promise((resolve) => posts.push({ payload, resolve })));
  const settleAll = (result) => {
    answer = result;
    for (const p of posts) p.resolve(result);
  };
  return { posts, post, settleAll };
}

// Runs `body(m)` with a fake MLflow, whose relays all settle when the body ends, however it ends:
// a test that fails half-way must not leave callers waiting on a relay that never settles, or
// the coalescer sends it again every `staleMs`, for ever, and the file never ends.
async function withMlflow(body) {
  const m = fakeMlflow();
  try {
    await body(m);
  } finally {
    m.settleAll(OK);
  }
}
const tick = () => new Promise((r) => setImmediate(r));

test('a payload with nothing in flight goes at once and alone', () => withMlflow(async (m) => {
  const c = new Coalescer(m.post, { maxBytes: 1000, staleMs: 60_000 });
  for (const tag of [1, 2]) {
    const p = c.relay(bytes(tag));
    await tick();
    assert.equal(m.posts.length, tag);
    assert.deepEqual([...m.posts.at(-1).payload], [...bytes(tag)]);
    m.posts.at(-1).resolve(OK);
    assert.equal(await p, OK);
  }
}));

test('payloads that arrive during a relay go together in the next, in order, up to maxBytes', () => withMlflow(async (m) => {
  const c = new Coalescer(m.post, { maxBytes: 10, staleMs: 60_000 });
  const first = c.relay(bytes(1));
  await tick();
  const later = [2, 3, 4].map((t) => c.relay(bytes(t)));
  await tick();
  assert.equal(m.posts.length, 1, 'the others wait for the relay in flight');
  m.posts[0].resolve(OK);
  assert.equal(await first, OK);
  await tick();
  // 4 + 4 bytes fit in 10; the third would not.
  assert.equal(m.posts.length, 2);
  assert.deepEqual([...m.posts[1].payload], [...join([bytes(2), bytes(3)])]);
  const second = { ...OK, status: 201 };
  m.posts[1].resolve(second);
  await tick();
  assert.equal(m.posts.length, 3);
  assert.deepEqual([...m.posts[2].payload], [...bytes(4)]);
  m.posts[2].resolve(OK);
  const results = await Promise.all(later);
  assert.deepEqual(results, [second, second, OK], 'each caller gets the outcome of the relay that carried it');
}));

test('maxBytes 0 sends one payload a relay; a payload bigger than maxBytes goes alone', async () => {
  for (const [maxBytes, sizes, expected] of [[0, [4, 4], [[4], [4]]], [6, [10, 4], [[10], [4]]]]) {
    await withMlflow(async (m) => {
      const c = new Coalescer(m.post, { maxBytes, staleMs: 60_000 });
      const first = c.relay(bytes(9));
      await tick();
      const rest = sizes.map((n, i) => c.relay(bytes(i + 1, n)));
      await tick();
      m.posts[0].resolve(OK);
      await first;
      for (let i = 0; i < expected.length; i++) {
        await tick();
        assert.equal(m.posts[i + 1].payload.length, expected[i][0]);
        m.posts[i + 1].resolve(OK);
      }
      await Promise.all(rest);
      assert.equal(m.posts.length, 1 + expected.length);
    });
  }
});

test('a relay MLflow refuses for good is sent again payload by payload; a retryable failure reaches every caller', () => withMlflow(async (m) => {
  const c = new Coalescer(m.post, { maxBytes: 1000, staleMs: 60_000 });
  const first = c.relay(bytes(1));
  await tick();
  const [a, bad, b] = [2, 3, 4].map((t) => c.relay(bytes(t)));
  await tick();
  m.posts[0].resolve(OK);
  await first;
  await tick();
  const refused = { ok: false, status: 400, retryable: false, error: 'MLflow answered 400' };
  m.posts[1].resolve(refused);
  for (const [i, r] of [[2, OK], [3, refused], [4, OK]]) {
    await tick();
    assert.deepEqual([...m.posts[i].payload], [...bytes(i)]);
    m.posts[i].resolve(r);
  }
  assert.deepEqual(await Promise.all([a, bad, b]), [OK, refused, OK]);

  const busy = c.relay(bytes(5));
  await tick();
  const [x, y] = [6, 7].map((t) => c.relay(bytes(t)));
  await tick();
  m.posts.at(-1).resolve(OK);
  await busy;
  await tick();
  const down = { ok: false, status: 503, retryable: true, error: 'MLflow answered 503' };
  m.posts.at(-1).resolve(down);
  assert.deepEqual(await Promise.all([x, y]), [down, down]);
}));

test('a relay that never settles is taken over after staleMs, its payloads sent again', { timeout: 10_000 }, () => withMlflow(async (m) => {
  const c = new Coalescer(m.post, { maxBytes: 1000, staleMs: 200 });
  // From when the lost relay was sent: its wait is what goes stale. (Timed from the second
  // caller's arrival instead, a host slow to run the tick between them failed the check.)
  const t0 = Date.now();
  const lost = c.relay(bytes(1)); // its relay is never answered, as when its request is gone
  await tick();
  const other = c.relay(bytes(2));
  while (m.posts.length < 2) await new Promise((r) => setTimeout(r, 5));
  // A timer may fire up to a millisecond early by Date.now().
  assert.ok(Date.now() - t0 >= 199, `not before staleMs (${Date.now() - t0} ms)`);
  // Both payloads, the lost one put back behind the one that was waiting.
  assert.deepEqual([...m.posts[1].payload], [...join([bytes(2), bytes(1)])], 'a waiting caller sent both again');
  // Answered now (and any relay a slow host let go stale meanwhile, which carries the same).
  for (const p of m.posts.slice(1)) p.resolve(OK);
  assert.deepEqual(await Promise.all([lost, other]), [OK, OK]);
}));
