// Exercises every export of the package's types under `tsc --noEmit --strict`.
import {
  flush, getCurrentActiveSpan, instrumentGlobalFetch, registerModelApi, traceFetch, getLastActiveTraceId, getStats, getTraceHeaders, init, instrumentWorker,
  Span, SpanStatusCode, SpanType, startSpan, trace, updateCurrentTrace, withSpan,
} from 'edgetrace';
import type { InitOptions, SpanOptions, Stats, TraceUpdate, WorkerHandler } from 'edgetrace';
import { logFeedback, type FeedbackResult } from 'edgetrace/feedback';
import { openAIAgentsProcessor } from 'edgetrace/openai-agents';
import { traceMcpTool } from 'edgetrace/mcp';
import { langChainHandler, type LangChainHandler } from 'edgetrace/langchain';

const options: InitOptions = {
  endpoint: 'http://127.0.0.1:8787',
  experimentId: 1,
  format: 'json',
  serviceName: 'types',
  resourceAttributes: { region: 'eu', shard: 3, canary: false },
  sampleRatio: 0.5,
  maxExportBytes: 60000,
  redact: ({ kind, value }) => (kind === 'inputs' ? '[hidden]' : value),
  logger: console,
  prices: { 'my-model': { input: 1, output: 2, cachedInput: 0.5 } },
};
init(options);

const add = trace((a: number, b: number): number => a + b, { name: 'add', spanType: SpanType.TOOL });
const n: number = add(1, 2);

const fetchDocs = trace(async (q: string): Promise<string[]> => [q], { spanType: 'CUSTOM_RETRIEVER' });
const docs: Promise<string[]> = fetchDocs('x');

class Agent {
  @trace({ spanType: SpanType.AGENT })
  async answer(question: string): Promise<string> {
    return question;
  }
}

async function main(): Promise<void> {
  const d: string[] = await docs;
  const r: string = await withSpan(async (span: Span) => {
    span.setInputs({ d }).setOutputs('ok').setAttribute('k', 1).setAttributes({ a: 'b' });
    span.addEvent('e', { x: 1 }).setStatus('OK').setStatus(SpanStatusCode.ERROR, 'bad').setSpanType(SpanType.LLM);
    span.addEvent({ name: 'e', attributes: { x: 1 } }).addEvent({ name: 'bare' });
    // @ts-expect-error an event object needs a name
    span.addEvent({ attributes: { x: 1 } });
    span.recordException(new Error('x'));
    const tp: string | undefined = span.traceparent();
    const ids: string = span.traceId + span.spanId + span.mlflowTraceId;
    return `${tp}${ids}${span.isRecording}`;
  }, { name: 'w' });
  const opts: SpanOptions = { name: 's', parent: getCurrentActiveSpan() ?? null, inputs: r, startTimeMs: Date.now() };
  const s: Span = startSpan(opts);
  s.end({ outputs: n, status: 'OK', attributes: { z: true }, endTimeMs: Date.now() });
  const update: TraceUpdate = { tags: { a: 'b' }, metadata: { m: 'n' }, sessionId: 's', userId: 'u', clientRequestId: 'c', requestPreview: 'q', responsePreview: 'a' };
  updateCurrentTrace(update);
  const id: string | undefined = getLastActiveTraceId();
  const h: Record<string, string> = getTraceHeaders(s);
  await flush();
  const stats: Stats = getStats();
  const dropped: number = stats.dropped.queueFull + stats.retried;
  console.log(id, h, dropped, await new Agent().answer('q'));
}

interface Env {
  MLFLOW_URL: string;
}
const handler: WorkerHandler<Env> = {
  async fetch(request, env, ctx, span) {
    span.setAttribute('url', request.url);
    ctx.waitUntil(flush());
    return new Response(env.MLFLOW_URL);
  },
};
export default instrumentWorker(handler, (env: Env) => ({ endpoint: env.MLFLOW_URL, spanType: SpanType.AGENT }));
const tf: typeof fetch = traceFetch(fetch, { includeUsage: true, traceAll: false, name: 'llm' });
const restore: () => void = instrumentGlobalFetch();
registerModelApi({ baseUrl: 'http://127.0.0.1:8000/v1', format: 'openai', provider: 'vllm' });
void tf;
restore();
void main();

// edgetrace/feedback: a result is either an assessment id or an error, and the value is typed.
async function rate(traceId: string | undefined): Promise<string> {
  const r: FeedbackResult = await logFeedback({ traceId, name: 'thumbs', value: true, source: { type: 'HUMAN', id: 'u1' }, metadata: { page: 1 } });
  await logFeedback({ value: 4, source: 'LLM_JUDGE', spanId: '0123456789abcdef', rationale: 'ok' });
  // @ts-expect-error a value is required
  await logFeedback({ name: 'x' });
  // @ts-expect-error only MLflow's source types
  await logFeedback({ value: 1, source: { type: 'ROBOT' } });
  return 'assessmentId' in r ? r.assessmentId : r.error;
}
void rate(getLastActiveTraceId());

// edgetrace/openai-agents: a processor whose parent() feeds traceFetch.
const agentsProcessor = openAIAgentsProcessor({ getCurrentSpan: () => null });
const agentsFetch: typeof fetch = traceFetch(fetch, { parent: agentsProcessor.parent });
void agentsFetch;
void agentsProcessor.forceFlush();

// edgetrace/mcp: a tool handler keeps its own type; traceFetch takes mcpTraceContext.
const addTool = traceMcpTool('add', async ({ a, b }: { a: number; b: number }, _extra: { requestId: number }) => ({ content: [{ type: 'text' as const, text: String(a + b) }] }));
const added: Promise<{ content: { type: 'text'; text: string }[] }> = addTool({ a: 1, b: 2 }, { requestId: 1 });
void added;
const mcpFetch: typeof fetch = traceFetch(fetch, { mcpTraceContext: true });
void mcpFetch;
// @ts-expect-error the handler must be a function
traceMcpTool('x', 42);

// edgetrace/langchain: a callback handler; its parent goes to traceFetch and withSpan.
const lcHandler: LangChainHandler = langChainHandler();
const lcFetch: typeof fetch = traceFetch(fetch, { parent: lcHandler.parent });
void lcFetch;
const lcName: string = lcHandler.name;
void lcName;
void withSpan(() => 1, { parent: lcHandler.parent() ?? null });
void langChainHandler({ runTimeoutMs: 60_000 });
// @ts-expect-error a number of ms
langChainHandler({ runTimeoutMs: '1m' });
