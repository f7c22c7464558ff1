// Sums V8 CPU profiles (the Profiler domain's `Profile`, from node:inspector, Chromium's or
// workerd's DevTools protocol) into self time per function and per layer, and renders the tables
// RESULTS.md shows.
import { demangle } from './demangle.mjs';

/**
 * @param {string} runtimeLayer what the rest is called (e.g. 'Node and V8 (…)')
 * @param {(callFrame: object) => boolean} [skip] frames whose subtree is not the scenario's
 */
export function profileSummer(runtimeLayer, skip = () => false) {
  const self = new Map();
  const layers = new Map();
  // JavaScriptCore (Bun) names a wasm function `<module>.wasm-function[<name>]`, with no url, and
  // its JS-to-wasm entries `wasm-stub`.
  const JSC_WASM = /^.*\.wasm-function\[(.*)\]$/;
  const layerOf = (f) => {
    const url = f.url || '';
    if (f.functionName === '(garbage collector)') return 'garbage collection';
    if (url.startsWith('wasm://') || (/wasm/.test(url) && !/\.m?js$/.test(url)) || JSC_WASM.test(f.functionName)) return 'wasm core';
    if (url.endsWith('/core/edgetrace.js')) return 'wasm-bindgen glue (JS)';
    if (/(^|\/)pkg(-names)?\/[a-z-]+\.js$/.test(url)) return 'edgetrace JS layer';
    if (url.endsWith('scenarios.mjs')) return 'the benchmark itself';
    return runtimeLayer;
  };
  const add = (profile) => {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
    const skipped = new Map();
    const underSkip = (id) => {
      if (skipped.has(id)) return skipped.get(id);
      const p = parent.get(id);
      const v = skip(byId.get(id).callFrame) || (p !== undefined && underSkip(p));
      skipped.set(id, v);
      return v;
    };
    profile.samples.forEach((id, i) => {
      const f = byId.get(id).callFrame;
      if (f.functionName === '(idle)' || f.functionName === '(program)' || underSkip(id)) return;
      const name = demangle((f.functionName || '(anonymous)').replace(JSC_WASM, '$1')).replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
      const file = JSC_WASM.test(f.functionName) ? 'wasm' : !f.url ? '' : f.url.endsWith('/core/edgetrace.js') ? 'glue' : /\.m?js$/.test(f.url) ? f.url.split('/').pop() : f.url.startsWith('node:') ? f.url : 'wasm';
      const caller = parent.has(id) ? byId.get(parent.get(id)).callFrame.functionName : '';
      const key = file ? `${name} (${file})` : caller && !name.startsWith('(') ? `${name} (native, from ${caller})` : name;
      const dt = profile.timeDeltas[i] || 0;
      self.set(key, (self.get(key) || 0) + dt);
      const layer = layerOf(f);
      layers.set(layer, (layers.get(layer) || 0) + dt);
    });
  };
  /** The two tables (layers, then the top functions) and the same as JSON-able data. */
  const render = (heading) => {
    const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
    const pct = (v) => ((100 * v) / total).toFixed(1);
    // PROFILE_TOP=60 lists more than the top 15 functions.
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP || 15));
    const md = [
      heading,
      '',
      '| layer | self time % |',
      '|---|---|',
      ...[...layers.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${pct(v)} |`),
      '',
      `| function (top ${top.length} by self time) | self % |`,
      '|---|---|',
      ...top.map(([k, v]) => `| \`${k.replace(/\|/g, '\\|').slice(0, 110)}\` | ${pct(v)} |`),
    ].join('\n');
    const data = { layers: Object.fromEntries([...layers].map(([k, v]) => [k, (100 * v) / total])), top: top.map(([k, v]) => [k, (100 * v) / total]) };
    return { md, data };
  };
  return { add, render };
}
