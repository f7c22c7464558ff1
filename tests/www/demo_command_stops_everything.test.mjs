// scripts/demo.sh, the README's main command, run as a newcomer runs it (the build step skipped:
// the test command has just built the package): it prints the URLs, serves the page, and SIGTERM
// (what Ctrl-C becomes for a script run in the background) stops everything it started: no port
// still answers and no process of it is left.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, root } from '../node/helpers/util.mjs';

const STACK_PORTS = [5173, 8787, 8788, 8790];

async function answers(port) {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle`. */
function processesWith(needle) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(needle)) out.push(`${d} ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

test('the demo command serves the page and SIGTERM leaves nothing running', { timeout: 300_000 }, async () => {
  for (const p of STACK_PORTS) assert.equal(await answers(p), false, `port ${p} is free before the demo`);
  const data = mkdtempSync(join(tmpdir(), 'edgetrace-demo-'));
  const mlflowPort = await freePort();
  const demo = spawn('bash', [join(root, 'scripts/demo.sh')], {
    cwd: root,
    env: { ...process.env, MLFLOW_PORT: String(mlflowPort), DEMO_DATA_DIR: data, DEMO_SKIP_BUILD: '1', MLFLOW_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  demo.stdout.on('data', (d) => (out += d));
  demo.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => demo.on('exit', (code, signal) => r({ code, signal })));
  try {
    const t0 = Date.now();
    while (!out.includes('press Ctrl-C')) {
      assert.equal(demo.exitCode, null, `the demo exited early:\n${out}`);
      assert.ok(Date.now() - t0 < 240_000, `not ready after 240 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const line of ['demo page          http://127.0.0.1:5173', 'MLflow traces', 'ingest service', 'demo Worker', 'running examples/nested-agent.mjs']) {
      assert.ok(out.includes(line), `prints "${line}"`);
    }
    const page = await fetch('http://127.0.0.1:5173/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /edgetrace demo/);
    assert.equal((await (await fetch('http://127.0.0.1:8787/healthz')).json()).ok, true);
  } finally {
    demo.kill('SIGTERM');
    const how = await exited;
    assert.ok(out.includes('[demo] stopped'), `cleanup ran (${JSON.stringify(how)}):\n${out.slice(-1500)}`);
  }
  for (const p of [...STACK_PORTS, mlflowPort]) assert.equal(await answers(p), false, `port ${p} is closed after the demo`);
  assert.deepEqual(processesWith(data), [], 'no MLflow of the demo left');
  assert.deepEqual(processesWith('demo-stack.mjs'), [], 'no demo stack left');
  assert.deepEqual(processesWith('--port 8787').concat(processesWith('--port 8788'), processesWith('127.0.0.1:8787'), processesWith('127.0.0.1:8788')), [], 'no wrangler or workerd left');
  rmSync(data, { recursive: true, force: true });
});
