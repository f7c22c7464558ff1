/**
 * `edgetrace/openai-agents`: runs of the OpenAI Agents SDK (`@openai/agents`) as MLflow trees.
 * Each agent is an AGENT span, each function tool a TOOL span (its arguments and result), each
 * handoff a CHAIN span, each guardrail a GUARDRAIL span, under the SDK span they ran in; the
 * model calls are the traced fetch's CHAT_MODEL spans, under the agent that made them.
 *
 * ```ts
 * import OpenAI from 'openai';
 * import { getCurrentSpan, setDefaultOpenAIClient, setTraceProcessors } from '@openai/agents';
 * import { traceFetch } from 'edgetrace';
 * import { openAIAgentsProcessor } from 'edgetrace/openai-agents';
 * const processor = openAIAgentsProcessor({ getCurrentSpan });
 * setTraceProcessors([processor]); // only edgetrace's: nothing goes to OpenAI's trace ingest
 * setDefaultOpenAIClient(new OpenAI({ fetch: traceFetch(fetch, { parent: processor.parent }) }));
 * ```
 */
import type { Span } from 'edgetrace';

/** What `@openai/agents` hands a tracing processor (its `TracingProcessor`). */
export interface OpenAIAgentsProcessor {
  onTraceStart(trace: any): Promise<void>;
  onTraceEnd(trace: any): Promise<void>;
  onSpanStart(span: any): Promise<void>;
  onSpanEnd(span: any): Promise<void>;
  shutdown(timeout?: number): Promise<void>;
  forceFlush(): Promise<void>;
  /** The span of the SDK span active where it is called: pass it as `traceFetch`'s `parent`. */
  parent(): Span | undefined;
}

/**
 * A tracing processor for `setTraceProcessors([...])` or `addTraceProcessor(...)`.
 * A run started inside a traced function goes under it; else its trace gets a root span named as
 * the SDK names the run (`workflowName`, "Agent workflow" by default).
 * @param options `getCurrentSpan` from `@openai/agents`, so that `parent()` can find the SDK span
 *   a model call runs in
 */
export declare function openAIAgentsProcessor(options?: { getCurrentSpan?: () => any }): OpenAIAgentsProcessor;
