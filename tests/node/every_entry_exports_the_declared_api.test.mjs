// Each runtime's entry (package.json "exports" ".": Node, Bun, Workers, Next.js's Edge runtime,
// browsers) exports the same names, and they are the names edgetrace.d.ts declares: an app moved
// from one runtime to another, or type-checked against the declarations, finds every function.
// The entries that load wasm as modules (workerd, edge-light) cannot be imported in Node, so their
// export lists are read from their text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const pkg = new URL('../../pkg/', import.meta.url);
const read = (f) => readFileSync(new URL(f, pkg), 'utf8');
const exported = (file) => {
  const lists = [...read(file).matchAll(/^export \{([^}]*)\}/gm)].map((m) => m[1]);
  assert.equal(lists.length, 1, `${file} has one export list`);
  return lists[0].split(',').map((s) => s.trim().split(/\s+as\s+/).at(-1)).filter(Boolean).sort();
};

test("every runtime entry exports the same names, those edgetrace.d.ts declares", async () => {
  const declared = [...new Set([...read('edgetrace.d.ts').matchAll(/^export declare (?:function|const|class) (\w+)/gm)].map((m) => m[1]))].sort();
  const conditions = JSON.parse(read('package.json')).exports['.'];
  const files = [...new Set(Object.entries(conditions).filter(([c]) => c !== 'types').map(([, f]) => f))];
  assert.ok(files.length >= 5, files.join());
  for (const f of files) {
    // bun.js re-exports the Node entry whole.
    if (/^export \* from '\.\/node\.js';$/m.test(read(f))) continue;
    assert.deepEqual(exported(f), declared, f);
  }
  assert.ok(declared.includes('flushTraces'));
  const node = await import(new URL('node.js', pkg));
  assert.deepEqual(Object.keys(node).sort(), declared, 'the Node entry, imported');
  assert.equal(node.flushTraces, node.flush, "mlflow-tracing's name for flush is flush");
});
