// Shared by the Chromium tests: a static server for the built package and the fixtures, and
// Chromium launched the way this machine needs it.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '../../pkg');
const fixtures = join(here, 'fixtures');
const repo = join(here, '../..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json' };

/**
 * Serves /pkg/* from pkg/ and everything else from tests/browser/fixtures/ (`/` is index.html),
 * on 127.0.0.1 and a free port, and each of `bundles` (path → script text, a page's app bundled
 * by {@link bundlePage}) at its path. `served` lists every path asked for.
 * @param {{ bundles?: Record<string, string> }} [options]
 */
export async function startStaticServer({ bundles = {} } = {}) {
  const served = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    served.push(path);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (Object.hasOwn(bundles, path)) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(bundles[path]);
      return;
    }
    const [base, rel] = path.startsWith('/pkg/') ? [pkgDir, path.slice(5)] : [fixtures, path === '/' ? 'index.html' : path.slice(1)];
    const file = normalize(join(base, rel));
    let ok = file.startsWith(base + sep);
    try {
      ok = ok && statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    served,
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Debian's headless Chromium with the flags this closed network needs (TOOLCHAIN.md), and `extra`. */
export function launchChromium(extra = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
  });
}

/**
 * tests/browser/fixtures/`fixture` bundled with the packages it imports (from the repository's
 * node_modules), as a page's app is bundled: the script's text. The package (`/pkg/*`) stays
 * imported, from the static server. `options` are more of esbuild's.
 */
export async function bundlePage(fixture, options = {}) {
  const out = await build({
    entryPoints: [join(fixtures, fixture)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    nodePaths: [join(repo, 'node_modules')],
    external: ['/pkg/*'],
    write: false,
    logLevel: 'error',
    ...options,
  });
  return out.outputFiles[0].text;
}
