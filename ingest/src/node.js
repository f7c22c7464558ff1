#!/usr/bin/env node
// The Node adapter: the same service on node:http, for the embedded local default and tests.
// Reads its configuration from the environment (the same names as the Worker's vars/secrets) and
// listens on HOST:PORT (default 127.0.0.1:4318, OTLP/HTTP's port). No queue here: direct relay,
// answering 503 + Retry-After when MLflow is unreachable.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { IngestCore, initSync } from '../build/edgetrace_ingest.js';
import { createService } from './service.js';

const wasm = initSync({ module: readFileSync(new URL('../build/edgetrace_ingest_bg.wasm', import.meta.url)) });

/**
 * Starts the service. Resolves to { url, server, close() }.
 * @param {{env?: object, host?: string, port?: number}} [o]
 */
export async function startNodeIngest({ env = process.env, host = '127.0.0.1', port = 4318 } = {}) {
  const service = createService(IngestCore, { memoryBytes: () => wasm.memory.buffer.byteLength });
  const server = createServer(async (req, res) => {
    const answer = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    // The request's URL from its path alone: the service routes by path, and a client's Host
    // header (`a b`, `user:pass@h`) must not make a URL that cannot be built.
    let url;
    try {
      // Its path and query only: an absolute-form target (`http://u:p@h/v1/traces`) keeps nothing
      // else, credentials included, which Request refuses.
      const base = `http://${host.includes(':') ? `[${host}]` : host}`;
      const target = new URL(req.url, base);
      url = new URL(target.pathname + target.search, base);
    } catch {
      answer(400, { error: 'bad_request', message: 'the request target is not a valid path' });
      return;
    }
    try {
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
      const request = new Request(url, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: 'half',
      });
      const response = await service.fetch(request, env);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
      // A refused body may be left unread: drop the connection rather than read it.
      if (!req.complete) req.destroy();
    } catch (e) {
      // Logged here; the sender is told no more than that it failed.
      console.error('[ingest] internal error:', e);
      if (!res.headersSent) answer(500, { error: 'internal', message: 'internal error' });
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const url = `http://${host}:${server.address().port}`;
  return { url, server, service, close: () => new Promise((r) => server.close(() => r())) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url, service } = await startNodeIngest({ port: Number(process.env.PORT || 4318), host: process.env.HOST || '127.0.0.1' });
  const { config, error } = service.configuration(process.env);
  if (error) {
    // It keeps listening, as the Worker does: /healthz answers 503 with the reason.
    console.error(`edgetrace ingest listening on ${url}, but its configuration is invalid: ${error}; every request is answered 500 misconfigured (and /healthz 503) until it is fixed`);
  } else {
    console.log(`edgetrace ingest listening on ${url} (POST /v1/traces, GET /healthz), relaying to ${config.mlflowUri}`); // (its credentials, if it had any, are in config.auth)
  }
}
