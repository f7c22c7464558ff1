// The browser entry ships two size-built cores (scripts/build.mjs): the default one writes
// OTLP/protobuf only (cargo feature `protobuf-only`, without the JSON encoder), the other, loaded
// instead for init({ format: 'json' }), writes both. The same recorded spans must come out of the
// two byte for byte in protobuf, and as the same JSON from the JSON core as from the Node core;
// asked for JSON, the protobuf-only core gives nothing and says why.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { Recorder, STATS_LEN, configBytes, eventCommand, OP, textsCommand } from '../../pkg/recorder.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = (f) => join(root, 'pkg', f);
const deflated = async (f) => inflateRawSync(Buffer.from((await import(pathToFileURL(pkg(f)).href)).default, 'base64'));

// The browser's cores export plain functions, loaded by core-abi.js; the Node core goes through
// wasm-bindgen's glue (a module of its own for each core: the glue keeps its instance in module
// state).
let loaded = 0;
async function coreFrom(wasm, browser) {
  if (browser) {
    const { instantiateCore } = await import(pathToFileURL(pkg('core-abi.js')).href);
    const { Core, memory } = instantiateCore(new WebAssembly.Module(wasm));
    return { Core, memory: memory() };
  }
  const glue = await import(`${pathToFileURL(pkg('core/edgetrace.js')).href}?core=${loaded++}`);
  const exports = glue.initSync({ module: wasm });
  return { Core: glue.Core, memory: exports.memory };
}

// The same spans into `glue`'s core, with ids drawn from a counter rather than at random and the
// core's own clock (it stamps events) stopped, so two cores given them must write the same
// bytes. Returns the core, its buffer applied.
function record(glue) {
  const now = performance.now;
  performance.now = () => 12.5;
  try {
    return recordSpans(glue);
  } finally {
    performance.now = now;
  }
}

function recordSpans(glue) {
  const core = new glue.Core(configBytes({ serviceName: 'cores', resourceAttributes: { 'deployment.environment': 'test', n: 3 } },
    ['serviceName', 'resourceAttributes'], JSON.stringify), 1_700_000_000_000, 0, 1);
  const failures = [];
  const rec = new Recorder(core, glue.memory, (flags) => failures.push(flags));
  let next = 1;
  rec.rand = () => next++;
  const ctx = rec.newContext();
  const span = (name, type, parent, t) => {
    const s = {};
    return { s, h: rec.start(s, ctx, parent, name, type, t) };
  };
  const a = span('root ✓ "quoted"', 'CHAIN', 0, 1_700_000_000_001.25);
  rec.str(a.h, 'text', 'line\nbreak and ünïcode');
  rec.num(a.h, 'whole', 42);
  rec.num(a.h, 'fraction', 0.1);
  rec.bool(a.h, 'flag', true);
  rec.write(textsCommand(OP.INPUTS, a.h, ['{"q":"hi","n":[1,2.5,null]}']));
  const b = span('child', 'LLM', a.h, 1_700_000_000_002.5);
  rec.write(eventCommand(b.h, 'chunk', [['index', 1], ['ok', false], ['piece', 'a'], ['ratio', 1.5]]));
  rec.write(textsCommand(OP.STATUS, b.h, ['model refused'], 2));
  rec.end(b.h, 1_700_000_000_010);
  rec.write(textsCommand(OP.OUTPUTS, a.h, ['"done"']));
  rec.end(a.h, 1_700_000_000_020.75, ctx);
  rec.drain();
  assert.deepEqual(failures, [], 'every command applied');
  return core;
}

test('the browser cores write the same protobuf, and only the JSON one writes JSON (as the Node core does)', async () => {
  const protobufOnly = await deflated('core/wasm-deflate.js');
  const withJson = await deflated('core/wasm-deflate-json.js');
  assert.ok(withJson.length > protobufOnly.length + 4000, `the JSON encoder is left out of the default core (${protobufOnly.length} against ${withJson.length} bytes)`);

  const bodies = {};
  for (const [name, wasm] of [['protobuf-only', protobufOnly], ['with JSON', withJson], ['Node', readFileSync(pkg('core/edgetrace_bg.wasm'))]]) {
    const glue = await coreFrom(wasm, name !== 'Node');
    const pb = record(glue).take_batch(true);
    const js = record(glue);
    const json = js.take_batch(false);
    bodies[name] = { pb: Buffer.from(pb), json: json && Buffer.from(json).toString('utf8'), error: json ? null : js.last_error(), left: new Float64Array(glue.memory.buffer, js.write_stats(), STATS_LEN)[3] };
  }
  const { 'protobuf-only': po, 'with JSON': wj, Node: node } = bodies;
  assert.ok(po.pb.length > 100, 'a protobuf body');
  if (!po.pb.equals(wj.pb)) console.log(po.pb.toString('hex'), '\n', wj.pb.toString('hex'), '\n', node.pb.toString('hex'));
  assert.ok(po.pb.equals(wj.pb), 'both browser cores write the same protobuf, byte for byte');
  // The Node core writes the same, and MLflow's log level on the spans that get one (src/tracer.rs
  // log_level; the browsers' size builds leave it to the ingest service): the JSON below holds
  // the rest equal.
  assert.ok(!po.pb.includes('mlflow.spanLogLevel') && node.pb.includes('mlflow.spanLogLevel'));

  assert.equal(po.json, undefined, 'the protobuf-only core gives no JSON body');
  assert.match(po.error, /without the OTLP\/JSON encoder/);
  assert.equal(po.left, 2, 'and keeps the spans queued');

  const nodeBody = JSON.parse(node.json);
  const nodeSpans = nodeBody.resourceSpans[0].scopeSpans[0].spans;
  const level = (sp) => sp.attributes.find((a) => a.key === 'mlflow.spanLogLevel')?.value.intValue;
  assert.deepEqual(nodeSpans.map(level), ['40', undefined], 'the Node core: ERROR for the failed LLM call, none (DEBUG) for the CHAIN');
  for (const sp of nodeSpans) sp.attributes = sp.attributes.filter((a) => a.key !== 'mlflow.spanLogLevel');
  assert.deepEqual(JSON.parse(wj.json), nodeBody, 'the JSON core writes the JSON the Node core writes, but for the level');
  const spans = JSON.parse(wj.json).resourceSpans[0].scopeSpans[0].spans;
  assert.deepEqual(spans.map((s) => s.name), ['child', 'root ✓ "quoted"']);
  assert.equal(spans[0].parentSpanId, spans[1].spanId);
  assert.equal(spans[0].events[0].name, 'chunk');
  assert.equal(spans[0].status.code, 2);
});

test("the browser cores' plain exports behave as the wasm-bindgen Core: errors, empty takes, several cores, free", async () => {
  for (const file of ['core/wasm-deflate.js', 'core/wasm-deflate-json.js']) {
    const wasm = await deflated(file);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`);
    assert.deepEqual(imports.sort(), ['et.date_now', 'et.performance_now'], `${file} imports only the two clocks, no wasm-bindgen`);
    const { Core, memory } = await coreFrom(wasm, true);
    const refused = new Core(configBytes({ maxQueueSpans: 0, serviceName: 'ünï' }, ['maxQueueSpans', 'serviceName'], JSON.stringify), 0, 1, 2);
    assert.match(refused.last_error() ?? '', /maxQueueSpans/, `${file}: a refused configuration says why`);
    assert.equal(refused.last_error(), undefined, 'and says it once');
    refused.free();
    refused.free(); // a second free does nothing
    assert.throws(() => refused.run(0), /this core was freed/, 'a freed core throws rather than run on address 0');
    assert.throws(() => refused.cmd_buffer(16), /this core was freed/);
    // Two cores in one instance keep their own spans.
    const a = new Core(configBytes({ serviceName: 'a ✓' }, ['serviceName'], JSON.stringify), 0, 1, 2);
    const b = new Core(configBytes({ serviceName: 'b' }, ['serviceName'], JSON.stringify), 0, 3, 4);
    assert.equal(a.last_error(), undefined);
    assert.equal(a.take_batch(true), undefined, 'nothing queued: no body');
    const rec = new Recorder(a, memory, () => assert.fail('a command failed'));
    const ctx = rec.newContext();
    rec.end(rec.start({}, ctx, 0, 'only in a', 'CHAIN', 1_700_000_000_000), 1_700_000_000_001, ctx);
    rec.drain();
    assert.equal(b.take_batch(true), undefined, 'the other core has nothing');
    const body = Buffer.from(a.take_batch(true));
    assert.ok(body.includes('only in a') && body.includes('a ✓'), 'the body holds the span and its service');
    assert.equal(new Float64Array(memory.buffer, a.write_stats(), STATS_LEN)[0], 1, 'one span started');
    assert.equal(a.take_batch(true), undefined, 'taken once');
    a.free();
    b.free();
  }
});
