// "At a glance", the top of bench/RESULTS.md: each of the issue's targets and this run's verdict
// on it, in a few lines, before the sections with the numbers behind them (bench/run.mjs).
import { SCENARIOS } from './scenarios.mjs';
import { against } from './interval.mjs';

/** A ratio to two decimals, or three where two would round it onto the target and hide the verdict. */
export const ratioText = (ratio, target) => (ratio.toFixed(2) === target.toFixed(2) && ratio !== target ? ratio.toFixed(3) : ratio.toFixed(2));

/**
 * The section's markdown.
 * @param {object} o
 * @param {[string, Record<string, { ratio: number, interval: { lo: number, hi: number } }>][]} o.runtimes
 *   each runtime's label and its per-span results by scenario id
 * @param {{ what: string, e: number, o: number }[]} o.memRows memory measures: edgetrace's and
 *   OpenTelemetry's bytes per span
 * @param {{ edgetrace: number, zone: number, noZone: number }} o.size gzip -9 bytes of the
 *   up-front entries
 * @param {{ results: object[] } | null} o.load the ingest load run, if any
 */
export function glance({ runtimes, memRows, size, load }) {
  const cell = (r) => {
    const noise = against(r.interval, 0.25) === 'across';
    return `${ratioText(r.ratio, 0.25)} ${r.ratio <= 0.25 ? '**met**' : 'missed'}${noise ? ' ~' : ''}`;
  };
  const metIn = (rs) => SCENARIOS.filter((sc) => rs[sc.id].ratio <= 0.25).length;
  const met = runtimes.reduce((n, [, rs]) => n + metIn(rs), 0);
  const rows = runtimes.length * SCENARIOS.length;
  const across = runtimes.reduce((n, [, rs]) => n + SCENARIOS.filter((sc) => against(rs[sc.id].interval, 0.25) === 'across').length, 0);
  const memRatios = memRows.map((r) => r.e / r.o);
  const memMet = memRatios.filter((x) => x <= 0.5).length;
  const worst = memRows[memRatios.indexOf(Math.max(...memRatios))];
  const b = (x) => x.toLocaleString('en');
  const sizeText = size.edgetrace < size.zone ? `met, ${b(size.zone - size.edgetrace)} B under it` : `missed, ${b(size.edgetrace - size.zone)} B over it`;
  const aimText = size.edgetrace < size.noZone ? 'reached' : `not reached: ${(size.edgetrace / size.noZone).toFixed(2)} times its size`;
  const loadRow = (pick) => load?.results.find(pick);
  const sink = loadRow((r) => r.target === 'local sink');
  const shared = loadRow((r) => r.target.includes('relays shared'));
  const loadText = (r) => `${b(Math.round(r.spansAcceptedPerS))} spans/s accepted, ${b(Math.round(r.spansRelayedPerS))} relayed, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`;
  return [
    '## At a glance',
    '',
    'What this run says of each target. The sections below give the numbers behind every cell; [What the numbers say](#what-the-numbers-say), at the end, says what bounds each missed row and what the next step is.',
    '',
    `**Per-span CPU, edgetrace ÷ OpenTelemetry JS, target ≤ 0.25 in every scenario:** met in ${met} of ${rows} rows. A \`~\` marks a ratio whose 95 % interval reaches across 0.25: this run cannot tell that row's verdict from the host's noise (${across} of the ${rows}).`,
    '',
    `| scenario | ${runtimes.map(([label]) => label).join(' | ')} |`,
    `|---|${runtimes.map(() => '---|').join('')}`,
    ...SCENARIOS.map((sc) => `| ${sc.title} | ${runtimes.map(([, rs]) => cell(rs[sc.id])).join(' | ')} |`),
    `| rows met | ${runtimes.map(([, rs]) => `${metIn(rs)} of ${SCENARIOS.length}`).join(' | ')} |`,
    '',
    `**Memory per buffered span, target ≤ 0.5:** ${memMet === memRows.length ? `met in all ${memRows.length} measures` : `missed in ${memRows.length - memMet} of ${memRows.length} measures`}, ratios ${Math.min(...memRatios).toFixed(2)}–${ratioText(Math.max(...memRatios), 0.5)} (the highest: ${worst.what}).`,
    '',
    `**Shipped size, target below OpenTelemetry web with Zone.js:** ${sizeText}. edgetrace's up-front browser entry is ${b(size.edgetrace)} B (minified, gzip -9), OpenTelemetry web's ${b(size.zone)} B with Zone.js and ${b(size.noZone)} B without it; the aim of coming in below the latter is ${aimText}.`,
    '',
    ...(sink && shared ? [`**The ingest service in workerd, 60 s of load (no target set):** to a local sink ${loadText(sink)}; to a real MLflow (SQLite), ${loadText(shared)}.`, ''] : []),
  ].join('\n');
}
