/**
 * `edgetrace/langchain`: LangChain.js runs as MLflow trees, as MLflow's Python autolog of
 * LangChain makes them. Each run is a span under its parent run's: chains and runnables CHAIN,
 * chat models CHAT_MODEL (messages in OpenAI's chat shape, the answer, token usage, model and
 * provider), LLMs LLM, tools TOOL, retrievers RETRIEVER (documents as MLflow's `page_content`,
 * `metadata`, `id`). Runs nest by their ids, so the tree holds in browsers too.
 *
 * ```ts
 * import { ChatOpenAI } from '@langchain/openai';
 * import { langChainHandler } from 'edgetrace/langchain';
 * const handler = langChainHandler();
 * const answer = await chain.invoke(input, { callbacks: [handler] });
 * // Optional: each model call's HTTP exchange too, under its model's span.
 * const model = new ChatOpenAI({ configuration: { fetch: traceFetch(fetch, { parent: handler.parent }) } });
 * ```
 */
import type { Span } from 'edgetrace';

/** A LangChain.js callback handler (what `callbacks: [...]` takes). */
export interface LangChainHandler {
  readonly name: string;
  /** True: LangChain calls the handler in the run's course, so spans start and end with runs. */
  readonly awaitHandlers: boolean;
  readonly raiseError: boolean;
  copy(): LangChainHandler;
  handleChainStart(...args: any[]): void;
  handleChainEnd(...args: any[]): void;
  handleChainError(...args: any[]): void;
  handleChatModelStart(...args: any[]): void;
  handleLLMStart(...args: any[]): void;
  handleLLMNewToken(...args: any[]): void;
  handleLLMEnd(...args: any[]): void;
  handleLLMError(...args: any[]): void;
  handleToolStart(...args: any[]): void;
  handleToolEnd(...args: any[]): void;
  handleToolError(...args: any[]): void;
  handleRetrieverStart(...args: any[]): void;
  handleRetrieverEnd(...args: any[]): void;
  handleRetrieverError(...args: any[]): void;
  handleAgentAction(...args: any[]): void;
  handleAgentEnd(...args: any[]): void;
  handleText(...args: any[]): void;
  /**
   * The span of the run that the calling code runs in: pass it as `traceFetch`'s or `withSpan`'s
   * `parent`. A model's fetch finds its model's span; code in a tool, the tool's.
   */
  parent: ((input?: RequestInfo | URL, init?: RequestInit) => Span | undefined) & {
    /** traceFetch tells it how each call it gave a parent to was answered. */
    settled(parent: Span | null | undefined, ok: boolean): void;
  };
}

/**
 * A callback handler that makes each LangChain run an edgetrace span. One handler may serve
 * every request: runs are told apart by their ids. A run with no parent run goes under the span
 * active where it started (a traced function), else starts a trace.
 */
export declare function langChainHandler(options?: {
  /**
   * LangChain ends no run whose stream its caller stopped reading (`break`, or its signal
   * aborted). A run with no news of it or of the runs under it (their starts and ends, a streamed
   * answer's tokens) for this long is taken for abandoned: its span ends as ERROR, at its last
   * news, when a later run starts. `Infinity`: never. Default: 30 minutes. Keep it above the
   * longest any step may take with no news (a model call answering with no token streamed, a
   * slow tool).
   */
  runTimeoutMs?: number;
}): LangChainHandler;
