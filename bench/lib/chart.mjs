// chart.svg: the per-span CPU ratio of each scenario in each runtime, with the target and parity
// lines, and a whisker for the ratio's 95 % interval over the rounds (bench/lib/interval.mjs).
// `groups` is [[runtime name, { scenario id: { ratio, interval: { lo, hi } } }], …]; `date` goes in
// the title.
import { SCENARIOS } from './scenarios.mjs';

export function renderChart(groups, date) {
  // Wide enough for each runtime's six bars and their labels (six runtimes: 1,140 px).
  const W = Math.max(860, 150 + groups.length * 165);
  const H = 372;
  const left = 60;
  const top = 40;
  const plotH = 230;
  const maxR = Math.max(2, ...groups.flatMap(([, g]) => SCENARIOS.flatMap((s) => [g[s.id].ratio, g[s.id].interval.hi])));
  const y = (r) => top + plotH - (Math.min(r, maxR) / maxR) * plotH;
  const colors = ['#0b6bcb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#1b1f24'];
  // The plot ends short of the right edge: the target and parity labels sit in the margin, clear of the bars.
  const plotRight = W - 90;
  const groupW = (plotRight - left) / groups.length;
  const barW = (groupW - 40) / SCENARIOS.length;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
  svg += `<rect width="${W}" height="${H}" fill="#fff"/><text x="${left}" y="22" font-size="15" font-weight="600">Per-span CPU, edgetrace ÷ OpenTelemetry JS (lower is better; ${date})</text>`;
  svg += `<text x="${W - 10}" y="22" text-anchor="end" font-size="10" fill="#57606a">whiskers: 95 % interval over the rounds</text>`;
  for (const r of [0, 0.25, 0.5, 1, 1.5, 2, 3, 4].filter((v) => v <= maxR)) {
    svg += `<line x1="${left}" x2="${plotRight}" y1="${y(r)}" y2="${y(r)}" stroke="${r === 1 ? '#57606a' : r === 0.25 ? '#cf222e' : '#eaeef2'}" ${r === 0.25 ? 'stroke-dasharray="5,4"' : ''}/>`;
    svg += `<text x="${left - 8}" y="${y(r) + 4}" text-anchor="end" fill="#57606a">${r}</text>`;
  }
  svg += `<text x="${plotRight + 6}" y="${y(0.25) + 4}" fill="#cf222e">target 0.25</text><text x="${plotRight + 6}" y="${y(1) + 4}" fill="#57606a">parity</text>`;
  groups.forEach(([name, g], gi) => {
    const gx = left + gi * groupW + 20;
    SCENARIOS.forEach((s, si) => {
      const r = g[s.id].ratio;
      const { lo, hi } = g[s.id].interval;
      const x = gx + si * barW;
      const mid = x + (barW - 4) / 2;
      svg += `<rect x="${x}" y="${y(r)}" width="${barW - 4}" height="${top + plotH - y(r)}" fill="${colors[si]}" fill-opacity="0.8"><title>${s.title}: ${r.toFixed(2)} (95 % interval ${lo.toFixed(2)}–${hi.toFixed(2)})</title></rect>`;
      svg += `<path d="M${mid} ${y(lo)}V${y(hi)}M${mid - 3} ${y(lo)}h6M${mid - 3} ${y(hi)}h6" stroke="#1b1f24" stroke-width="1.2" fill="none"/>`;
      svg += `<text x="${mid}" y="${Math.min(y(r), y(hi)) - 3}" text-anchor="middle" font-size="10">${r.toFixed(2)}</text>`;
    });
    svg += `<text x="${gx + (groupW - 40) / 2}" y="${top + plotH + 18}" text-anchor="middle" font-weight="600">${name}</text>`;
  });
  SCENARIOS.forEach((s, si) => {
    const lx = left + (si % 2) * ((W - left) / 2);
    const ly = top + plotH + 42 + Math.floor(si / 2) * 18;
    svg += `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colors[si]}"/><text x="${lx + 18}" y="${ly}">${s.title}</text>`;
  });
  svg += '</svg>\n';
  return svg;
}
