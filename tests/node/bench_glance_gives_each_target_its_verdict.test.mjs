// "At a glance", the top of bench/RESULTS.md (bench/lib/glance.mjs, issue 7): each target's verdict
// from a run's numbers, with the rows whose interval reaches across the line marked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { glance, ratioText } from '../../bench/lib/glance.mjs';
import { SCENARIOS } from '../../bench/lib/scenarios.mjs';

// A runtime's results: every scenario at `ratio` with the interval `lo`–`hi`, but those in `at`.
const results = (ratio, lo, hi, at = {}) =>
  Object.fromEntries(SCENARIOS.map((sc) => [sc.id, at[sc.id] ?? { ratio, interval: { lo, hi } }]));
const row = (md, title) => md.split('\n').find((l) => l.startsWith(`| ${title} |`));
const size = { edgetrace: 32998, zone: 33043, noZone: 19867 };
const memRows = [
  { what: 'RSS (A)', e: 100, o: 400 },
  { what: 'RSS (B)', e: 180, o: 400 },
];

test('per-span rows: each cell its ratio and verdict, the counts per runtime and in all', () => {
  const [first, second] = SCENARIOS;
  const md = glance({
    runtimes: [
      ['Fast', results(0.1, 0.08, 0.12)],
      ['Mixed', results(0.4, 0.35, 0.45, { [first.id]: { ratio: 0.24, interval: { lo: 0.2, hi: 0.3 } }, [second.id]: { ratio: 0.2509, interval: { lo: 0.26, hi: 0.27 } } })],
    ],
    memRows,
    size,
    load: null,
  });
  assert.match(md, /^## At a glance/);
  assert.match(md, /\| scenario \| Fast \| Mixed \|/);
  assert.equal(row(md, first.title), `| ${first.title} | 0.10 **met** | 0.24 **met** ~ |`);
  // 0.2509 is over the target: shown to three decimals, not rounded onto it.
  assert.equal(row(md, second.title), `| ${second.title} | 0.10 **met** | 0.251 missed |`);
  assert.equal(row(md, SCENARIOS[2].title), `| ${SCENARIOS[2].title} | 0.10 **met** | 0.40 missed |`);
  assert.equal(row(md, 'rows met'), `| rows met | ${SCENARIOS.length} of ${SCENARIOS.length} | 1 of ${SCENARIOS.length} |`);
  assert.match(md, new RegExp(`met in ${SCENARIOS.length + 1} of ${2 * SCENARIOS.length} rows`));
  assert.match(md, new RegExp(`\\(1 of the ${2 * SCENARIOS.length}\\)`));
});

test('memory, size and the ingest load: their verdicts follow the numbers', () => {
  const rt = [['R', results(0.2, 0.1, 0.3)]];
  const met = glance({ runtimes: rt, memRows, size, load: null });
  assert.match(met, /Memory per buffered span, target ≤ 0\.5:\*\* met in all 2 measures, ratios 0\.25–0\.45 \(the highest: RSS \(B\)\)/);
  assert.doesNotMatch(met, /ingest service/);
  const missed = glance({ runtimes: rt, memRows: [...memRows, { what: 'heap (C)', e: 220, o: 400 }], size, load: null });
  assert.match(missed, /Memory per buffered span, target ≤ 0\.5:\*\* missed in 1 of 3 measures, ratios 0\.25–0\.55 \(the highest: heap \(C\)\)/);
  assert.match(met, /Zone\.js:\*\* met, 45 B under it/);
  assert.match(met, /not reached: 1\.66 times its size/);
  const over = glance({ runtimes: rt, memRows, size: { ...size, edgetrace: 33100 }, load: null });
  assert.match(over, /Zone\.js:\*\* missed, 57 B over it/);
  const load = {
    results: [
      { target: 'local sink', spansAcceptedPerS: 22604.4, spansRelayedPerS: 22604.4, latencyMs: { p50: 5, p99: 31 } },
      { target: 'MLflow 3 (SQLite), relays shared by requests in flight', spansAcceptedPerS: 1382, spansRelayedPerS: 1385, latencyMs: { p50: 104, p99: 308 } },
    ],
  };
  assert.match(glance({ runtimes: rt, memRows, size, load }), /local sink 22,604 spans\/s accepted, 22,604 relayed, p50 5 ms, p99 31 ms; to a real MLflow \(SQLite\), 1,382 spans\/s accepted, 1,385 relayed/);
});

test('a ratio on the line keeps the digit that decides its verdict', () => {
  assert.equal(ratioText(0.2504, 0.25), '0.250');
  assert.equal(ratioText(0.25, 0.25), '0.25');
  assert.equal(ratioText(0.31, 0.25), '0.31');
});
