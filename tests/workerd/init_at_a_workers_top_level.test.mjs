// The README's quick start pasted into a Worker: init() at the module's top level. workerd refuses
// random numbers there ("Disallowed operation called within global scope"), and init() drew the
// core's seed, so the Worker failed to start. Now init() checks the options at once and makes the
// core on first use, inside a handler. And init() in each request with the same options (the way
// a plain handler reaches `env`) changes nothing: the counters go on, and nothing is warned.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerMiniflare } from './helpers.mjs';
import { startCollector } from '../node/helpers/collector.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
let col;
const instances = [];

// A Worker of `script`, named as a fixture so its relative import of the package resolves;
// `stderr` collects what workerd prints.
function worker(script, stderr = []) {
  const mf = workerMiniflare(join(repo, 'tests/workerd/fixtures/generated_worker.js'), {
    script,
    compatibilityFlags: ['nodejs_compat'],
    handleRuntimeStdio(out, err) {
      out.resume();
      err.on('data', (d) => stderr.push(String(d)));
    },
  });
  instances.push(mf);
  return mf;
}

before(async () => {
  col = await startCollector();
});
after(async () => {
  await Promise.allSettled(instances.map((mf) => mf.dispose()));
  await col?.close();
});

test("init() at a Worker's top level: the Worker starts, and its requests are traced with ids and times of their own", async () => {
  const mf = worker(`
    import { flush, getStats, init, trace } from '../../../pkg/workerd.js';
    const warnings = [];
    init({ endpoint: ${JSON.stringify(col.url)}, format: 'json', logger: { warn: (m) => warnings.push(m) } });
    const answer = trace(async function answer(question) {
      return 'about ' + question;
    });
    export default {
      async fetch(request, env, ctx) {
        const result = await answer(new URL(request.url).searchParams.get('q'));
        await flush();
        return Response.json({ result, stats: getStats(), warnings });
      },
    };
  `);
  const t0 = Date.now();
  const bodies = [];
  for (const q of ['one', 'two']) {
    const res = await mf.dispatchFetch(`http://worker.test/?q=${q}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    bodies.push(JSON.parse(text));
  }
  assert.deepEqual(bodies.map((b) => b.result), ['about one', 'about two']);
  assert.deepEqual(bodies[1].warnings, []);
  assert.equal(bodies[1].stats.exported, 2);
  const spans = col.spans().filter((s) => s.name === 'answer');
  assert.equal(spans.length, 2);
  const [a, b] = spans;
  assert.match(a.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(a.traceId, b.traceId);
  assert.notEqual(a.traceId, '0'.repeat(32));
  // Stamped by a clock read in the handler, not the top level's (Workers' clocks stand still there).
  for (const s of spans) {
    const startMs = Number(BigInt(s.startTimeUnixNano) / 1_000_000n);
    assert.ok(Math.abs(startMs - t0) < 60_000, `a span started at ${new Date(startMs).toISOString()}`);
  }
});

test("a bad option in init() at a Worker's top level stops the Worker with the reason", async () => {
  const stderr = [];
  const mf = worker(`
    import { init } from '../../../pkg/workerd.js';
    init({ endpoint: ${JSON.stringify(col.url)}, sampleRatio: 2 });
    export default { fetch: () => new Response('up') };
  `, stderr);
  await assert.rejects(mf.ready, /failed to start/);
  assert.match(stderr.join(''), /Uncaught Error: edgetrace: invalid configuration: sampleRatio must be between 0 and 1/);
});

test('init() in each request with the same options keeps the counters, and warns nothing with spans open', async () => {
  const mf = worker(`
    import { flush, getStats, init, startSpan, withSpan } from '../../../pkg/workerd.js';
    const warnings = [];
    const logger = { warn: (m) => warnings.push(m) };
    let open = null;
    export default {
      async fetch(request, env, ctx) {
        init({ endpoint: ${JSON.stringify(col.url)}, format: 'json', headers: { authorization: 'Bearer ' + 'k' }, logger });
        const path = new URL(request.url).pathname;
        if (path === '/open') open = startSpan({ name: 'left-open' });
        withSpan(() => 1, { name: 'per-request' });
        if (path === '/close') open.end();
        await flush();
        return Response.json({ stats: getStats(), warnings });
      },
    };
  `);
  const answers = [];
  for (const path of ['/open', '/', '/', '/close']) {
    const res = await mf.dispatchFetch(`http://worker.test${path}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    answers.push(JSON.parse(text));
  }
  assert.deepEqual(answers.map((a) => a.stats.started), [2, 3, 4, 5], 'the counters went on from request to request');
  assert.equal(answers.at(-1).stats.open, 0);
  assert.equal(answers.at(-1).stats.exported, 5);
  assert.deepEqual(answers.at(-1).warnings, []);
});
