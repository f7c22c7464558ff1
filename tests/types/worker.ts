// The README's Worker, typed as wrangler's templates type a Worker (@cloudflare/workers-types):
// the bindings named once, the instrumented handler checked against ExportedHandler<Env>.
import { instrumentWorker, traceFetch, SpanType } from 'edgetrace';
import { traceWorkersAi } from 'edgetrace/workers-ai';

interface Env {
  AI: Ai;
  MLFLOW_URL: string;
  MLFLOW_EXPERIMENT_ID: string;
  MLFLOW_TOKEN: string;
}

export default instrumentWorker<Env>({
  async fetch(request, env, ctx, span) {
    span.setAttribute('url', request.url);
    if (!env.MLFLOW_URL) ctx.passThroughOnException();
    const r = await traceFetch()('https://api.openai.com/v1/chat/completions', { method: 'POST' });
    if (request.url.endsWith('/ai')) {
      // The traced binding keeps the binding's own types: the model's inputs and answer.
      const ai: Ai = traceWorkersAi(env.AI, { name: 'answer' });
      const out = await ai.run('@cf/meta/llama-3.1-8b-instruct', { messages: [{ role: 'user', content: 'Hi' }] });
      return Response.json(out);
    }
    return new Response(r.body, r);
  },
  async scheduled(controller, env, ctx, span) {
    span.setAttribute('cron', controller.cron);
    ctx.waitUntil(Promise.resolve(env.MLFLOW_URL));
  },
  async queue(batch, _env, _ctx, span) {
    span.setAttribute('messages', batch.messages.length);
  },
}, (env) => ({
  endpoint: env.MLFLOW_URL,
  experimentId: env.MLFLOW_EXPERIMENT_ID,
  // As the README writes it (a `{}` in place of `undefined` did not type-check).
  headers: env.MLFLOW_TOKEN ? { authorization: `Bearer ${env.MLFLOW_TOKEN}` } : undefined,
  spanType: SpanType.AGENT,
})) satisfies ExportedHandler<Env>;

// A handler written the wrangler way first, then instrumented: still an ExportedHandler.
const plain = {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    ctx.waitUntil(Promise.resolve());
    return new Response(`${request.method} ${env.MLFLOW_URL}`);
  },
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    ctx.waitUntil(Promise.resolve(`${controller.cron} ${env.MLFLOW_URL}`));
  },
  async queue(batch: MessageBatch<string>, _env: Env, _ctx: ExecutionContext): Promise<void> {
    batch.ackAll();
  },
} satisfies ExportedHandler<Env, string>;
export const instrumented: ExportedHandler<Env, string> = instrumentWorker(plain);
