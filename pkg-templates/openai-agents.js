// `edgetrace/openai-agents`: runs of the OpenAI Agents SDK (`@openai/agents`) as MLflow trees.
//
// The SDK keeps spans of its own (agents, tools, handoffs, guardrails, model calls) in its own
// async context, where edgetrace's does not follow. A tracing processor hears of each as it
// starts and ends, and makes it an edgetrace span under its SDK parent: agents AGENT, function
// tools TOOL, handoffs CHAIN, guardrails GUARDRAIL, as MLflow's Python autolog of the SDK types
// them. The model calls themselves are the traced fetch's (traceFetch parses them: messages,
// usage, cost); `parent` tells it the SDK span it runs in. The SDK's task, turn, response and
// generation spans add no span of their own: what starts in them goes under their parent.
//
//   const processor = openAIAgentsProcessor({ getCurrentSpan });   // from '@openai/agents'
//   setTraceProcessors([processor]);
//   setDefaultOpenAIClient(new OpenAI({ fetch: traceFetch(fetch, { parent: processor.parent }) }));
//
// A run started inside a traced function goes under it; else its trace gets a root of its own,
// named as the SDK names the run. Nothing here throws into the SDK.

import { _internal, flush, getCurrentActiveSpan, startSpan } from './edgetrace.js';

const TYPES = { agent: 'AGENT', function: 'TOOL', mcp_tools: 'TOOL', handoff: 'CHAIN', guardrail: 'GUARDRAIL', custom: 'UNKNOWN', transcription: 'LLM', speech: 'LLM', speech_group: 'CHAIN' };
/** SDK spans that are no span here: their children go under their parent. */
const FOLDED = new Set(['task', 'turn', 'response', 'generation']);

/** `text` parsed as JSON where it is JSON (a tool's arguments and result), else as it is. */
function json(text) {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function nameOf(d) {
  // (A handoff's target is known only at its end, after the span has its name.)
  if (d.type === 'mcp_tools') return d.server ? `list tools ${d.server}` : 'list tools';
  return d.name || d.type || 'span';
}

function inputsOf(d) {
  if (d.type === 'function') return json(d.input);
  if (d.type === 'handoff') return { from_agent: d.from_agent };
  if (d.type === 'custom') return d.data;
  return d.input;
}

function outputsOf(d) {
  if (d.type === 'function') return json(d.output);
  if (d.type === 'handoff') return { to_agent: d.to_agent };
  if (d.type === 'guardrail') return { triggered: d.triggered };
  if (d.type === 'mcp_tools') return d.result;
  return d.output;
}

/** An SDK span's error as one line: its message, and the error in its data (a tool's own). */
function errorText(e) {
  const detail = e.data?.error;
  return `${e.message ?? 'error'}${detail ? `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`;
}

function attributesOf(d) {
  const a = { 'openai_agents.span_type': d.type };
  for (const k of ['tools', 'handoffs', 'output_type']) if (d[k] != null) a[`openai_agents.${k}`] = Array.isArray(d[k]) ? d[k].join(', ') : String(d[k]);
  return a;
}

/**
 * A `TracingProcessor` for `setTraceProcessors([...])` (or `addTraceProcessor`) of
 * `@openai/agents`. Its `parent` is for `traceFetch(fetch, { parent })`: the span of the SDK's
 * span that a model call runs in (its agent's).
 * @param {{ getCurrentSpan?: () => any }} [options] `getCurrentSpan` from `@openai/agents`
 */
export function openAIAgentsProcessor({ getCurrentSpan } = {}) {
  const traces = new Map(); // SDK trace id → { parent, root, open, error, hasInputs }
  const spans = new Map(); // SDK span id → edgetrace span its children go under (null: none)
  // A run's own root ends with its trace; the SDK does not end a trace whose run threw (a
  // tripped guardrail, max turns, a failed model call), so the root also ends, failed if a span
  // under it failed, once the last of its spans has ended and none starts in the next task.
  const endTrace = (id) => {
    const t = traces.get(id);
    if (!t) return;
    traces.delete(id);
    if (t.root) {
      if (t.error) t.root.setStatus('ERROR', t.error);
      t.root.end();
    }
  };
  const guard = (f) => {
    try {
      f();
    } catch (e) {
      _internal.warn(`openAIAgentsProcessor: ${e?.message || e}`);
    }
  };
  return {
    async onTraceStart(t) {
      guard(() => {
        const active = getCurrentActiveSpan();
        const root = active ? null : startSpan({ name: t.name || 'Agent workflow', spanType: 'AGENT', parent: null, attributes: { 'openai_agents.trace_id': String(t.traceId) } });
        traces.set(t.traceId, { parent: active ?? root, root, open: 0, error: null, hasInputs: false });
      });
    },
    async onTraceEnd(t) {
      guard(() => endTrace(t.traceId));
    },
    async onSpanStart(s) {
      guard(() => {
        const d = s.spanData || {};
        const t = traces.get(s.traceId);
        if (t) t.open++;
        const parent = (s.parentId && spans.get(s.parentId)) || t?.parent || undefined;
        if (FOLDED.has(d.type)) {
          spans.set(s.spanId, parent ?? null);
          return;
        }
        const inputs = inputsOf(d);
        const span = startSpan({ name: nameOf(d), spanType: TYPES[d.type] || 'UNKNOWN', parent, inputs: inputs === '' ? undefined : inputs, attributes: attributesOf(d) });
        spans.set(s.spanId, span);
        // A function tool runs in a context of the SDK's own making (withFunctionSpan: a new
        // AsyncLocalStorage scope), which its span starts in: the tool's own traced code then
        // finds its TOOL span active, as the SDK finds its own.
        if (d.type === 'function') _internal.state().als?.enterWith?.(span);
      });
    },
    async onSpanEnd(s) {
      guard(() => {
        const d = s.spanData || {};
        const span = spans.get(s.spanId);
        spans.delete(s.spanId);
        const t = traces.get(s.traceId);
        if (t) {
          if (s.error && !t.error) t.error = errorText(s.error);
          if (--t.open === 0 && t.root) setTimeout(() => t.open === 0 && endTrace(s.traceId), 0);
        }
        // A run's own root shows the run's input and its last answer, as MLflow's Request and
        // Response: from its model calls, where the SDK hands them over (`tracing: true`, its
        // default of including data in traces).
        if (t?.root && (d.type === 'response' || d.type === 'generation')) {
          const input = d.type === 'response' ? d._input : d.input;
          const output = d.type === 'response' ? d._response?.output_text ?? d._response?.output : d.output;
          if (!t.hasInputs && input !== undefined) {
            t.hasInputs = true;
            t.root.setInputs(input);
          }
          if (output !== undefined) t.root.setOutputs(output);
        }
        if (FOLDED.has(d.type) || !span) return;
        // A tool's arguments are filled in after its span starts.
        const inputs = inputsOf(d);
        if (inputs !== undefined && inputs !== '') span.setInputs(inputs);
        const out = outputsOf(d);
        if (out !== undefined) span.setOutputs(out);
        // Attributes known only at the end (an agent's tools once listed).
        span.setAttributes(attributesOf(d));
        // The SDK's error says what failed ("Error running tool"); its data, the tool's own error.
        if (s.error) {
          const e = new Error(errorText(s.error));
          e.name = 'AgentsError';
          e.stack = `${e.name}: ${e.message}`; // not this processor's frames
          span.recordException(e);
        }
        span.end();
      });
    },
    async shutdown() {
      await flush();
    },
    async forceFlush() {
      await flush();
    },
    /** The span of the SDK span active here (for `traceFetch`'s `parent`), or undefined. */
    parent() {
      try {
        const s = getCurrentSpan?.();
        return (s && spans.get(s.spanId)) || undefined;
      } catch {
        return undefined;
      }
    },
  };
}
