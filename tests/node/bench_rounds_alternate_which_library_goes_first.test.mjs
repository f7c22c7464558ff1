// The benchmark's rounds (bench/lib/scenarios.mjs `alternateRounds`, issue 7): each library in
// turn, every other round in reverse, so that of any two libraries each goes first in half of the
// counted rounds, with two (edgetrace and OpenTelemetry) and with the bounds' three more
// (bench/node-spans.mjs --bounds). The warm-up round is run and not counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alternateRounds, opsFor, SCENARIOS } from '../../bench/lib/scenarios.mjs';

const nested = SCENARIOS.find((sc) => sc.id === 'nested');

// Runs alternateRounds with a fake round that records the order and answers `ms[who]`.
async function recorded(libraries, rounds, ms) {
  const order = [];
  const res = await alternateRounds(nested, rounds, 100, async (who, n) => {
    assert.equal(n, opsFor(nested, 100));
    order.push(who);
    return ms[who];
  }, libraries);
  const perRound = [];
  for (let i = 0; i < order.length; i += libraries.length) perRound.push(order.slice(i, i + libraries.length));
  return { res, perRound };
}

test('two libraries alternate which goes first, from edgetrace in the warm-up round', async () => {
  const { res, perRound } = await recorded(['edgetrace', 'otel'], 4, { edgetrace: 1, otel: 4 });
  assert.deepEqual(perRound, [
    ['edgetrace', 'otel'],
    ['otel', 'edgetrace'],
    ['edgetrace', 'otel'],
    ['otel', 'edgetrace'],
    ['edgetrace', 'otel'],
  ]);
  // Four counted rounds each, in ns per span: ms * 1e6 over the round's spans.
  const spans = opsFor(nested, 100) * nested.spans;
  assert.deepEqual(res.edgetrace, Array(4).fill(1e6 / spans));
  assert.deepEqual(res.otel, Array(4).fill(4e6 / spans));
  assert.equal(res.ratio, 0.25);
});

test('with the bounds, each library runs once a round and of any two each goes first in half the counted rounds', async () => {
  const libraries = ['edgetrace', 'otel', 'floor', 'no-core', 'spike-core'];
  const ms = { edgetrace: 2, otel: 8, floor: 1, 'no-core': 1.5, 'spike-core': 1.8 };
  const rounds = 6;
  const { res, perRound } = await recorded(libraries, rounds, ms);
  assert.equal(perRound.length, rounds + 1);
  for (const order of perRound) assert.deepEqual([...order].sort(), [...libraries].sort());
  const counted = perRound.slice(1);
  for (const a of libraries) {
    for (const b of libraries) {
      if (a === b) continue;
      const aFirst = counted.filter((order) => order.indexOf(a) < order.indexOf(b)).length;
      assert.equal(aFirst, rounds / 2, `${a} before ${b} in ${aFirst} of ${rounds} rounds`);
    }
    assert.equal(res[a].length, rounds);
  }
  assert.equal(res.ratio, 0.25);
});
