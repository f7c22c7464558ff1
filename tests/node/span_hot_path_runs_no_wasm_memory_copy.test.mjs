// In V8 every wasm `memory.copy` is a call out of the module into C, dearer than the short copies
// the span hot path makes (issue 7): a value's few bytes, a span moved into its slot. The Node
// core's copies are counted (bench/lib/wasm-copies.mjs: each becomes a counting import) while
// the benchmarks' buffering scenarios run, and the payload ones (the protobuf encoder copies each
// span's bytes into the body once, the JSON one writes in place); and the browser's default
// core's, given lone roots by the recorder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { browserCoreCopiesPerSpan, copiesPerSpan, countingPackage } from '../../bench/lib/wasm-copies.mjs';

const pkg = fileURLToPath(new URL('../../pkg', import.meta.url));

test('starting, attributing and ending spans runs no memory.copy; encoding one per span', async () => {
  const counting = countingPackage(pkg);
  try {
    assert.ok(counting.sites.length > 0, 'the core has memory.copy sites to count');
    const api = await counting.load();
    for (const id of ['root5', 'nested', 'nestedAsync', 'nestedAsyncParent']) {
      const r = await copiesPerSpan(counting, api, id, 200);
      assert.ok(r.perSpan < 0.1, `${id}: ${r.perSpan.toFixed(2)} memory.copy per span; the most: ${JSON.stringify(r.bySite.slice(0, 3))}`);
    }
    // With the OTLP protobuf payload built: each span's encoded bytes into the body (a span's
    // length comes before it), and little else.
    const proto = await copiesPerSpan(counting, api, 'nestedProto', 200);
    assert.ok(proto.perSpan >= 0.9, `nestedProto: the encoder's copies are counted (${proto.perSpan.toFixed(2)} per span)`);
    assert.ok(proto.perSpan < 2.5, `nestedProto: ${proto.perSpan.toFixed(2)} memory.copy per span; the most: ${JSON.stringify(proto.bySite.slice(0, 3))}`);
    // OTLP/JSON is written in place, ids and times by fixed-size moves: no copy per span.
    const json = await copiesPerSpan(counting, api, 'nestedJson', 200);
    assert.ok(json.perSpan < 0.1, `nestedJson: ${json.perSpan.toFixed(2)} memory.copy per span; the most: ${JSON.stringify(json.bySite.slice(0, 3))}`);
  } finally {
    counting.remove();
  }
});

test("the browser's default core makes about one memory.copy per lone root with 5 attributes", async () => {
  const r = await browserCoreCopiesPerSpan(pkg, 2000);
  // One 40 B move is left in the size build's command decoder (19 a span before the changes).
  assert.ok(r.perSpan < 1.5, `${r.perSpan.toFixed(2)} memory.copy per span; the most: ${JSON.stringify(r.bySite.slice(0, 3))}`);
});
