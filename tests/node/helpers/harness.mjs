// The set-up most model-call tests share: the mock model APIs and a collector, started once for
// the file, and before each test an empty collector and `init` pointed at it (OTLP/JSON, warnings
// silenced). `init` is passed in because files test different entries of the package.
import { after, before, beforeEach } from 'node:test';
import { startMockLlm } from '../../../mock-llm/server.mjs';
import { startCollector } from './collector.mjs';

/**
 * @param {(options: object) => void} init the entry's `init`
 * @param {{ ready?: () => void }} [options] `ready` runs once both are up
 * @returns {{ mock: Awaited<ReturnType<typeof startMockLlm>>, col: Awaited<ReturnType<typeof startCollector>> }}
 */
export function mockAndCollector(init, { ready } = {}) {
  const servers = { mock: null, col: null };
  before(async () => {
    servers.mock = await startMockLlm();
    servers.col = await startCollector();
    ready?.();
  });
  after(async () => {
    await servers.mock?.close();
    await servers.col?.close();
  });
  beforeEach(() => {
    servers.col.requests.length = 0;
    init({ endpoint: servers.col.url, format: 'json', logger: { warn() {} } });
  });
  return servers;
}

/**
 * Every span the collector has, once what has ended is exported: a moment (`ms`) for spans that
 * end as their answer's body is read, then the entry's `flush`.
 * @param {{ col: { spans(): object[] } }} servers from {@link mockAndCollector}
 * @param {() => Promise<void>} flush the entry's `flush`
 */
export async function exportedSpans(servers, flush, ms = 20) {
  await new Promise((r) => setTimeout(r, ms));
  await flush();
  return servers.col.spans();
}
