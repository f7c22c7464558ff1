/**
 * `edgetrace/workers-ai`: Cloudflare Workers AI's binding traced. Each `env.AI.run(model, inputs)`
 * is a model call span: CHAT_MODEL for `messages`, LLM for a `prompt` or another task, EMBEDDING
 * for an embedding model; with the model, the provider `cloudflare`, the inputs, the answer (a
 * stream reassembled as the app reads it), token usage and time to first token. A module of its
 * own, so that the up-front browser entry does not carry it.
 *
 * ```ts
 * import { instrumentWorker } from 'edgetrace';
 * import { traceWorkersAi } from 'edgetrace/workers-ai';
 * export default instrumentWorker({
 *   async fetch(req, env) {
 *     const ai = traceWorkersAi(env.AI);
 *     const { response } = await ai.run('@cf/meta/llama-3.1-8b-instruct', { messages: [{ role: 'user', content: 'Hi' }] });
 *     return new Response(response);
 *   },
 * });
 * ```
 *
 * Workers AI's REST API (`/ai/run/{model}`) and Cloudflare AI Gateway's `/workers-ai/{model}` go
 * through `fetch`, which `traceFetch` and `instrumentGlobalFetch` trace without this.
 */

/** Options of {@link traceWorkersAi}. */
export interface TraceWorkersAiOptions {
  /** The spans' name (default: the operation and the model, `chat @cf/meta/llama-3.1-8b-instruct`). */
  name?: string;
  /** The span each call goes under, where the active span is not it. */
  parent?: () => unknown;
}

/**
 * The binding with its `run` traced: what `run` returns and throws is unchanged, and every other
 * method and property (`gateway`, `models`, `toMarkdown`, `lastRequestId`, …) is the binding's.
 * Anything without a `run` method, or already traced, is returned as it is.
 */
export declare function traceWorkersAi<T>(binding: T, options?: TraceWorkersAiOptions): T;
