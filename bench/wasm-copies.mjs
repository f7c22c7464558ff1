// `memory.copy` instructions the Node core runs per span in each scenario, and the browser's
// default core for lone roots, by call site (bench/lib/wasm-copies.mjs).
//   node bench/wasm-copies.mjs [SCENARIO,...] [OPS] [--pkg DIR]
// DIR defaults to bench/out/pkg-names, built here when missing (bench/lib/named-pkg.mjs), so the
// sites show by their Rust function; with pkg/ they show as numbers.
import { buildNamedPkg } from './lib/named-pkg.mjs';
import { browserCoreCopiesPerSpan, copiesPerSpan, countingPackage } from './lib/wasm-copies.mjs';

const argv = process.argv.slice(2);
const at = argv.indexOf('--pkg');
const pkgDir = at >= 0 ? argv.splice(at, 2)[1] : buildNamedPkg({ reuse: true, say: (m) => process.stderr.write(`[bench:copies] ${m}\n`) });
const [which = 'root5,nested,nestedAsync,nestedProto,nestedJson', ops = '300'] = argv;
const show = (what, r) => {
  console.log(`${what}: ${r.perSpan.toFixed(2)} memory.copy per span (${r.spans} spans)`);
  for (const [site, per, bytes] of r.bySite.slice(0, 8)) console.log(`  ${per.toFixed(2)} per span, ${bytes.toFixed(0)} B on average: ${site.slice(0, 120)}`);
};
const counting = countingPackage(pkgDir);
try {
  const api = await counting.load();
  for (const id of which.split(',')) {
    show(id, await copiesPerSpan(counting, api, id, Number(ops)));
  }
} finally {
  counting.remove();
}
show("the browser's default core, lone roots with 5 attributes", await browserCoreCopiesPerSpan(pkgDir, 3000));
