// The per-span scenarios inside a browser page or a Worker, both libraries in one bundle.
// `runBench({scenario, who, ops, otelSetup})` runs `ops` ops and returns elapsed ms (Chromium)
// — in workerd the caller times the request instead, as Workers' clocks stand still while code
// runs. The OpenTelemetry provider is made by the entry (web or base) through `otelSetup`.
import * as otelApi from '@opentelemetry/api';
import * as et from 'edgetrace';
import { edgetraceRound, otelOps, SCENARIOS, timeOps } from '../lib/scenarios.mjs';
import { BATCH, PayloadExporter } from '../lib/otel-setup.mjs';

export function makeRunner(makeProvider) {
  return async function run({ scenario, who, ops }) {
    const sc = SCENARIOS.find((s) => s.id === scenario);
    const now = () => performance.now();
    if (who === 'edgetrace') {
      const r = await edgetraceRound(et, scenario, ops, now);
      await r.drain();
      return r.ms;
    }
    const exporter = new PayloadExporter(sc.export || 'none');
    const bsp = { ...BATCH, maxExportBatchSize: sc.export ? 512 : BATCH.maxQueueSize };
    const { provider, tracer } = makeProvider(exporter, bsp);
    const t0 = now();
    await timeOps(otelOps(tracer, otelApi)[scenario], ops, sc.async, now);
    if (sc.export) await provider.forceFlush();
    const ms = now() - t0;
    if (!sc.export) await provider.forceFlush();
    await provider.shutdown();
    return ms;
  };
}
