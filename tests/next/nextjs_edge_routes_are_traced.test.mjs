// Next.js routes on the Edge runtime (`export const runtime = 'edge'`), built and served as an app
// is: `next build` then `next start`, with Next.js 15 (webpack) and Next.js 16 (Turbopack). Next.js
// resolves the package with the `edge-light` condition, whose entry imports the two wasm modules
// with `?module`; the browser entry, which that condition took before, cannot load its core there
// (no DecompressionStream, no wasm compiled from bytes), so these routes ran untraced. The fixture
// app (tests/next/app) traces a function with a retrieval step and a model call, and a streamed
// answer; the traces must arrive whole in a real MLflow, and the server must print no warning. The
// same function in a route on the Node runtime checks the README's set-up for that runtime.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { answerText, countTokens, startMockLlm } from '../../mock-llm/server.mjs';
import { createExperiment, readSpans, startMlflow, waitForTrace } from '../node/helpers/mlflow.mjs';
import { freePort, root, waitFor } from '../node/helpers/util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KEY = 'sk-next-edge-SECRET-7c7c7c7c7c7c';

let mlflow;
let experimentId;
let envExperimentId; // MLFLOW_EXPERIMENT_ID's, for the route that calls init() with no options
let llm;

before(async () => {
  mlflow = await startMlflow();
  experimentId = await createExperiment(mlflow.url, `next-edge-${process.pid}-${Date.now()}`);
  envExperimentId = await createExperiment(mlflow.url, `next-edge-env-${process.pid}-${Date.now()}`);
  llm = await startMockLlm();
});
after(async () => {
  await llm?.close();
  await mlflow?.stop();
});

/** `next build` the fixture app with the Next.js installed in `dir`, then `next start` it. */
async function serve(dir) {
  const base = join(here, dir);
  assert.ok(existsSync(join(base, 'node_modules/next/package.json')), `${dir}: scripts/setup.sh installs Next.js there`);
  const work = join(base, 'work');
  rmSync(work, { recursive: true, force: true });
  cpSync(join(here, 'app'), work, { recursive: true });
  // The package as npm installs it: files, not a link (Turbopack resolves nothing outside its root).
  rmSync(join(base, 'node_modules/edgetrace'), { recursive: true, force: true });
  cpSync(join(root, 'pkg'), join(base, 'node_modules/edgetrace'), { recursive: true });
  const next = join(base, 'node_modules/next/dist/bin/next');
  const env = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    EDGETRACE_ENDPOINT: mlflow.url,
    EDGETRACE_EXPERIMENT_ID: experimentId,
    MLFLOW_TRACKING_URI: mlflow.url,
    MLFLOW_EXPERIMENT_ID: envExperimentId,
    MODEL_URL: llm.url,
    MODEL_KEY: KEY,
  };
  const built = await promisify(execFile)(process.execPath, [next, 'build', work], { cwd: base, env, maxBuffer: 1 << 24, timeout: 240_000 }).catch((e) => {
    throw new Error(`${dir}: next build failed\n${e.stdout}\n${e.stderr}`);
  });
  const port = await freePort();
  const child = spawn(process.execPath, [next, 'start', work, '-p', String(port), '-H', '127.0.0.1'], { cwd: base, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/`)).status > 0, { timeoutMs: 60_000, intervalMs: 200, what: `${dir}: next start at ${url}`, alive: () => child.exitCode === null });
  return {
    url,
    work,
    build: `${built.stdout}${built.stderr}`,
    output: () => output,
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

for (const [dir, bundler] of [
  ['next15', 'webpack'],
  ['next16', 'Turbopack'],
]) {
  describe(`Next.js Edge routes, ${dir} (${bundler})`, { timeout: 360_000 }, () => {
    let app;
    before(async () => {
      app = await serve(dir);
    });
    after(async () => {
      await app?.stop();
    });

    test('the build takes the Edge entry and bundles both wasm modules as compiled modules', () => {
      assert.match(app.build, new RegExp(bundler === 'webpack' ? 'Next\\.js 15' : 'Next\\.js 16[^\\n]*Turbopack'), `built by ${bundler}`);
      const manifest = JSON.parse(readFileSync(join(app.work, '.next/server/middleware-manifest.json'), 'utf8'));
      for (const route of ['/api/chat/route', '/api/stream/route', '/api/env/route']) {
        const wasm = manifest.functions[route]?.wasm ?? [];
        assert.equal(wasm.length, 2, `${route} is an Edge function with the core and the parsers as its wasm: ${JSON.stringify(manifest.functions[route])}`);
      }
    });

    test('a traced function with a retrieval step and a model call arrives in MLflow as one tree', async () => {
      const res = await fetch(`${app.url}/api/chat?q=${encodeURIComponent('What is an Edge route?')}`);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.text, answerText('What is an Edge route?'));
      assert.match(body.traceId, /^tr-[0-9a-f]{32}$/);
      const trace = await waitForTrace(mlflow.url, body.traceId, 3);
      assert.equal(trace.trace_info.state, 'OK');
      const spans = readSpans(trace);
      const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
      assert.deepEqual(Object.keys(byName).sort(), ['answer', 'chat gpt-4o-mini', 'retrieve']);
      const rootSpan = byName.answer;
      assert.equal(rootSpan.parentId, null);
      assert.equal(rootSpan.type, 'AGENT');
      assert.equal(byName.retrieve.parentId, rootSpan.spanId, 'the retrieval step nests under its caller');
      assert.equal(byName.retrieve.type, 'RETRIEVER');
      const chat = byName['chat gpt-4o-mini'];
      assert.equal(chat.parentId, rootSpan.spanId, 'the model call, made after an await, nests under its caller');
      assert.equal(chat.type, 'CHAT_MODEL');
      assert.equal(chat.outputs.choices[0].message.content, body.text);
      const usage = chat.attributes['mlflow.chat.tokenUsage'];
      const input = countTokens('A document about What is an Edge route?.') + countTokens('What is an Edge route?');
      assert.equal(usage.input_tokens, input);
      assert.equal(usage.output_tokens, countTokens(body.text));
      assert.ok(!JSON.stringify(trace).includes('SECRET'), 'the API key is in no span');
    });

    test("the same traced function in a route on Next.js's Node runtime (serverExternalPackages) arrives as one tree", async () => {
      const res = await fetch(`${app.url}/api/node?q=${encodeURIComponent('And on Node?')}`);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.text, answerText('And on Node?'));
      const spans = readSpans(await waitForTrace(mlflow.url, body.traceId, 3));
      const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
      assert.deepEqual(Object.keys(byName).sort(), ['answer', 'chat gpt-4o-mini', 'retrieve']);
      assert.equal(byName.retrieve.parentId, byName.answer.spanId);
      assert.equal(byName['chat gpt-4o-mini'].parentId, byName.answer.spanId);
      assert.equal(byName['chat gpt-4o-mini'].attributes['mlflow.chat.tokenUsage'].output_tokens, countTokens(body.text));
    });

    test("a streamed answer's model span, ended after the route returned, holds the whole text and usage", async () => {
      const question = 'Stream me an answer';
      const res = await fetch(`${app.url}/api/stream?q=${encodeURIComponent(question)}`);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(text, answerText(question));
      const traceId = res.headers.get('x-trace-id');
      const trace = await waitForTrace(mlflow.url, traceId, 2);
      const spans = readSpans(trace);
      const chat = spans.find((s) => s.type === 'CHAT_MODEL');
      const rootSpan = spans.find((s) => s.parentId === null);
      assert.equal(rootSpan.name, 'chat');
      assert.equal(chat.parentId, rootSpan.spanId);
      assert.equal(chat.outputs.choices[0].message.content, text, 'the streamed text, reassembled');
      assert.equal(chat.attributes['edgetrace.llm.stream_end'], 'completed');
      const usage = chat.attributes['mlflow.chat.tokenUsage'];
      assert.deepEqual([usage.input_tokens, usage.output_tokens], [countTokens(question), countTokens(text)]);
    });

    test("init() with no options sends to MLFLOW_TRACKING_URI, into MLFLOW_EXPERIMENT_ID", async () => {
      const res = await fetch(`${app.url}/api/env`);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.text, 'hello env');
      const trace = await waitForTrace(mlflow.url, body.traceId, 1);
      assert.equal(trace.trace_info.trace_location.mlflow_experiment.experiment_id, envExperimentId);
    });

    test('the server printed no warning from edgetrace', () => {
      assert.doesNotMatch(app.output(), /edgetrace/, app.output());
    });
  });
}
