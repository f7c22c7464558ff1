// `edgetrace/langchain`: LangChain.js runs as MLflow trees, as MLflow's Python autolog of
// LangChain makes them.
//
// A callback handler hears of each run LangChain makes (chains and runnables, chat models and
// LLMs, tools, retrievers) as it starts and ends, with its id and its parent's id, and makes it an
// edgetrace span under its parent's span: chains CHAIN, chat models CHAT_MODEL (the messages in
// OpenAI's chat shape, the answer, token usage, model and provider), LLMs LLM, tools TOOL,
// retrievers RETRIEVER (their documents as MLflow's). Runs nest by their ids, not by async
// context, so the tree holds in browsers and under LangChain's own concurrency limits, where
// async context does not.
//
//   const handler = langChainHandler();
//   await chain.invoke(input, { callbacks: [handler] });
//
// A run with no parent run goes under the span active where it started (a traced function), else
// it is a trace's root. `handler.parent` is for `traceFetch(fetch, { parent })` and
// `withSpan(fn, { parent })`: the span of the run that code runs in. Nothing here throws into
// LangChain.

import { _internal, getCurrentActiveSpan, startSpan, updateCurrentTrace } from './edgetrace.js';

// Where LangChain keeps the config of the run that code runs in (@langchain/core's singletons,
// shared by every copy of it through the global symbol registry).
const ALS = Symbol.for('ls:tracing_async_local_storage');
const CHILD_CONFIG = Symbol.for('lc:child_config');
const ROLES = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool', function: 'function', developer: 'developer' };

// A run with no news of it or of the runs under it for this long is taken for abandoned.
const RUN_TIMEOUT_MS = 30 * 60 * 1000;

const isMessage = (v) => typeof v?.type === 'string' && 'content' in v && typeof v.getType === 'function';
const isDocument = (v) => typeof v?.pageContent === 'string' && typeof v.metadata === 'object';

/** A LangChain message as an OpenAI chat message, as MLflow's autolog shows it. */
function chatMessage(m) {
  const role = m.type === 'generic' ? m.role : ROLES[m.type] || m.type;
  const out = { role, content: m.content };
  if (m.type === 'ai' && m.tool_calls?.length) {
    out.content = m.content === '' || (Array.isArray(m.content) && !m.content.length) ? null : m.content;
    out.tool_calls = m.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args ?? {}) } }));
  }
  if (m.type === 'tool' && m.tool_call_id) out.tool_call_id = m.tool_call_id;
  if (m.name) out.name = m.name;
  return out;
}

/** A retrieved document as MLflow's (`page_content`, `metadata`, `id`). */
const document = (d) => ({ page_content: d.pageContent, metadata: d.metadata, id: d.id ?? null });

/**
 * `v` with LangChain's messages and documents in the shapes MLflow shows, and LangChain's other
 * classes (a prompt's value, LangGraph's `Command` and `Send`) as the values they were made of:
 * their own JSON is LangChain's serialization (class ids and constructor arguments). To a depth of
 * 6 and 5,000 values; a value inside itself (a cycle) is left as it is, for the recorder to cut.
 */
function plain(v, depth = 0, walk = { path: new Set(), n: 0 }) {
  if (v === null || typeof v !== 'object' || depth > 6 || ++walk.n > 5000 || walk.path.has(v)) return v;
  if (isMessage(v)) return chatMessage(v);
  if (isDocument(v)) return document(v);
  walk.path.add(v);
  try {
    // (A value whose getters or conversions throw goes as it is: the recorder copes.)
    if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1, walk));
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      if (typeof v.toChatMessages === 'function') return { messages: v.toChatMessages().map(chatMessage) };
      if (v.lc_kwargs && typeof v.lc_kwargs === 'object') return plain(v.lc_kwargs, depth + 1, walk);
      // LangGraph's Command and Send give their fields so.
      if (typeof v.toJSON === 'function' && !(v instanceof Date)) return plain(v.toJSON(), depth + 1, walk);
      return v;
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = plain(v[k], depth + 1, walk);
    return out;
  } catch {
    return v;
  } finally {
    walk.path.delete(v);
  }
}

/** `text` parsed as JSON where it is a JSON object or array (a tool's arguments), else as it is. */
function json(text) {
  if (typeof text !== 'string' || !/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A text as JSON writes it inside a string, as a request's body holds it. */
const escaped = (text) => JSON.stringify(text).slice(1, -1);

/**
 * What a model's request body holds of its conversation: each message's texts (a string
 * content, or its text blocks) as JSON writes them inside a string.
 */
function needlesOf(contents) {
  const out = [];
  for (const c of contents) {
    if (typeof c === 'string') {
      if (c) out.push(escaped(c));
    } else if (Array.isArray(c)) {
      for (const b of c) if (typeof b?.text === 'string' && b.text) out.push(escaped(b.text));
    }
  }
  return out;
}

/**
 * A request body as text where it can be had at once: a string, or bytes (decoded). A stream's,
 * a Blob's, a form's or a Request's body is undefined.
 */
function bodyText(b) {
  if (typeof b === 'string') return b;
  try {
    if (b instanceof ArrayBuffer || ArrayBuffer.isView(b)) return new TextDecoder().decode(b);
  } catch {}
  return undefined;
}

/** Whether `text` holds `name` as a whole (not `gpt-4o` in `gpt-4o-mini`). */
function holdsName(text, name) {
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
    const before = text[i - 1];
    const after = text[i + name.length];
    if (!/[\w.-]/.test(before ?? '') && !/[\w.-]/.test(after ?? '')) return true;
  }
  return false;
}

const nameOf = (serialized, runName, fallback) => runName || serialized?.name || (Array.isArray(serialized?.id) && serialized.id[serialized.id.length - 1]) || fallback;

/**
 * Token usage as `mlflow.chat.tokenUsage` (with MLflow's cache keys where the model reported
 * cached tokens): the generations' own, else the LLM output's.
 */
function usageOf(output) {
  const sum = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  let seen = false;
  const add = (k, n) => {
    if (typeof n === 'number') sum[k] = (sum[k] ?? 0) + n;
  };
  for (const list of output?.generations ?? []) {
    for (const g of list ?? []) {
      const u = g?.message?.usage_metadata;
      if (!u) continue;
      seen = true;
      add('input_tokens', u.input_tokens);
      add('output_tokens', u.output_tokens);
      add('total_tokens', u.total_tokens ?? (u.input_tokens ?? 0) + (u.output_tokens ?? 0));
      add('cache_read_input_tokens', u.input_token_details?.cache_read);
      add('cache_creation_input_tokens', u.input_token_details?.cache_creation);
    }
  }
  if (seen) return sum;
  const t = output?.llmOutput?.tokenUsage ?? output?.llmOutput?.estimatedTokenUsage;
  if (t && (t.promptTokens != null || t.completionTokens != null)) {
    return { input_tokens: t.promptTokens ?? 0, output_tokens: t.completionTokens ?? 0, total_tokens: t.totalTokens ?? (t.promptTokens ?? 0) + (t.completionTokens ?? 0) };
  }
  return undefined;
}

/** A model run's answer: OpenAI's `choices` for one prompt, LangChain's generations for several. */
function answerOf(output) {
  const gens = output?.generations;
  if (!Array.isArray(gens) || gens.length !== 1) return plain(gens ?? output);
  return {
    choices: gens[0].map((g) => ({
      message: g.message ? chatMessage(g.message) : { role: 'assistant', content: g.text },
      finish_reason: g.generationInfo?.finish_reason ?? g.message?.response_metadata?.finish_reason ?? null,
    })),
  };
}

/** A model run's attributes: model, provider, tools, the call's parameters, the run's metadata. */
function modelAttributes(extra, metadata) {
  const params = extra?.invocation_params ?? {};
  const a = { 'mlflow.message.format': 'langchain' };
  const model = metadata?.ls_model_name || params.model || params.model_name || params.modelName;
  if (typeof model === 'string') a['mlflow.llm.model'] = model;
  const provider = metadata?.ls_provider || (typeof params._type === 'string' && params._type.replace(/-chat$/, '').replace(/^chat-/, ''));
  if (provider) a['mlflow.llm.provider'] = provider;
  if (Array.isArray(params.tools) && params.tools.length) a['mlflow.chat.tools'] = params.tools.map((t) => (t?.type === 'function' ? t : { type: 'function', function: { name: t?.name, description: t?.description } }));
  a.invocation_params = params;
  return a;
}

function withMetadata(attributes, metadata) {
  if (metadata && typeof metadata === 'object' && Object.keys(metadata).length) attributes.metadata = metadata;
  return attributes;
}

/**
 * A LangChain.js callback handler (`callbacks: [handler]` in a run's config, a model's or chain's
 * constructor, or `withConfig`) that makes each run an edgetrace span. One handler serves every
 * request at once: runs are told apart by their ids.
 * @param {{ runTimeoutMs?: number }} [options] how long a run may go without news of it or of the
 *   runs under it before it is taken for abandoned and ended, failed (30 minutes)
 */
export function langChainHandler(options) {
  // (Infinity: never; a value that is no positive number: the default.)
  const timeout = Number(options?.runTimeoutMs) > 0 ? Number(options.runTimeoutMs) : RUN_TIMEOUT_MS;
  const sweepEvery = Math.min(60_000, timeout / 2);
  // run id → { span, parent (run id), kind ('chain', 'model', 'retriever'), active (the span
  // active where it started), needles (what its requests' bodies hold) and their size, model (its
  // model's name), called (a call of its has gone out), body (its first call's), inflight (its
  // calls not answered yet), failedAt (when its last answered call failed; 0: it did not), start,
  // at (its last news) }
  const runs = new Map();
  // Runs the sweep ended (the last 1,000): what starts under one later still goes under its span.
  const swept = new Map();
  let sweepAt = 0;
  const guard = (what, f) => {
    try {
      f();
    } catch (e) {
      _internal.warn(`langChainHandler ${what}: ${e?.message || e}`);
    }
  };
  // LangChain ends no run that its caller stops reading (a stream left with `break`): such runs
  // are ended after `runTimeoutMs` with no news of them or of the runs under them, as failed, at
  // their last news, so their traces end and the handler keeps nothing of them.
  const sweep = (now) => {
    if (now < sweepAt || timeout === Infinity) return;
    sweepAt = now + sweepEvery;
    for (const [id, r] of runs) {
      if (now - r.at < timeout) continue;
      runs.delete(id);
      swept.set(id, r);
      if (swept.size > 1000) swept.delete(swept.keys().next().value);
      r.span.setStatus('ERROR', `LangChain never ended this run (no news of it for ${timeout} ms: a stream left unread or aborted?)`);
      r.span.end({ endTimeMs: r.at });
    }
  };
  const touch = (r, now) => {
    for (let n = 0; r && n < 64; r = runs.get(r.parent), n++) r.at = now;
  };
  const start = (runId, parentRunId, options, kind = 'chain', needles = []) => {
    const now = Date.now();
    sweep(now);
    const up = parentRunId != null ? runs.get(parentRunId) ?? swept.get(parentRunId) : undefined;
    // A run under no run of this handler's goes under the span active where it started.
    const active = getCurrentActiveSpan();
    const span = startSpan({ ...options, parent: up?.span ?? active });
    const model = kind === 'model' ? options.attributes?.['mlflow.llm.model'] || '' : '';
    const size = needles.reduce((n, x) => n + x.length, 0);
    runs.set(runId, { span, parent: parentRunId, kind, active, called: false, inflight: 0, failedAt: 0, needles, size, model, body: undefined, start: now, at: now });
    touch(up, now);
    return span;
  };
  const end = (runId, f) => {
    const r = runs.get(runId);
    if (!r) {
      swept.delete(runId);
      return;
    }
    runs.delete(runId);
    touch(runs.get(r.parent), Date.now());
    f?.(r.span);
    r.span.end();
  };
  const fail = (runId, err) => end(runId, (span) => span.recordException(err));
  const event = (runId, name, attributes) => runs.get(runId)?.span.addEvent(name, attributes);

  const handler = {
    name: 'edgetrace',
    // Called in the run's own course, not queued for later (LangChain's default in Node): each
    // span starts and ends when its run does, in the async context the run started in.
    awaitHandlers: true,
    raiseError: false,
    ignoreLLM: false,
    ignoreChain: false,
    ignoreAgent: false,
    ignoreRetriever: false,
    ignoreCustomEvent: true,
    copy() {
      return this;
    },

    // (The order LangChain calls it with; its type declaration has another.)
    handleChainStart(chain, inputs, runId, parentRunId, tags, metadata, runType, runName, extra) {
      // A streamed run's inputs come with its end (`lc_defers_inputs`).
      guard('handleChainStart', () => {
        const span = start(runId, parentRunId, { name: nameOf(chain, runName, 'chain'), spanType: 'CHAIN', inputs: extra?.lc_defers_inputs ? undefined : plain(inputs), attributes: withMetadata({}, metadata) });
        // A LangGraph thread is the trace's MLflow session, as MLflow's autolog makes it.
        const thread = metadata?.thread_id;
        if (!runs.has(parentRunId) && (typeof thread === 'string' || typeof thread === 'number')) _internal.runWith(span, () => updateCurrentTrace({ sessionId: String(thread) }));
      });
    },
    handleChainEnd(outputs, runId, parentRunId, tags, kwargs) {
      guard('handleChainEnd', () =>
        end(runId, (span) => {
          if (kwargs?.inputs !== undefined) span.setInputs(plain(kwargs.inputs));
          span.setOutputs(plain(outputs));
        }),
      );
    },
    handleChainError(err, runId, parentRunId, tags, kwargs) {
      guard('handleChainError', () =>
        end(runId, (span) => {
          if (kwargs?.inputs !== undefined) span.setInputs(plain(kwargs.inputs));
          span.recordException(err);
        }),
      );
    },

    handleChatModelStart(llm, messages, runId, parentRunId, extra, tags, metadata, runName) {
      guard('handleChatModelStart', () => {
        const inputs = Array.isArray(messages) && messages.length === 1 ? { messages: plain(messages[0]) } : plain(messages);
        start(runId, parentRunId, { name: nameOf(llm, runName, 'chat model'), spanType: 'CHAT_MODEL', inputs, attributes: withMetadata(modelAttributes(extra, metadata), metadata) }, 'model', needlesOf(Array.isArray(messages?.[0]) ? messages[0].map((m) => m?.content) : []));
      });
    },
    handleLLMStart(llm, prompts, runId, parentRunId, extra, tags, metadata, runName) {
      guard('handleLLMStart', () => start(runId, parentRunId, { name: nameOf(llm, runName, 'llm'), spanType: 'LLM', inputs: prompts, attributes: withMetadata(modelAttributes(extra, metadata), metadata) }, 'model', needlesOf([prompts?.[0]])));
    },
    // A streamed answer's tokens are news of its run (no event each: MLflow's cap on events would
    // drop most of a long answer's).
    handleLLMNewToken(token, idx, runId) {
      const r = runs.get(runId);
      const now = Date.now();
      if (r && now - r.at > Math.min(1000, timeout / 4)) touch(r, now);
    },
    handleLLMEnd(output, runId) {
      guard('handleLLMEnd', () =>
        end(runId, (span) => {
          const usage = usageOf(output);
          if (usage) span.setAttribute('mlflow.chat.tokenUsage', usage);
          span.setOutputs(answerOf(output));
        }),
      );
    },
    handleLLMError(err, runId) {
      guard('handleLLMError', () => fail(runId, err));
    },

    handleToolStart(tool, input, runId, parentRunId, tags, metadata, runName, toolCallId) {
      guard('handleToolStart', () => {
        const attributes = withMetadata({}, metadata);
        if (toolCallId) attributes['gen_ai.tool.call.id'] = toolCallId;
        start(runId, parentRunId, { name: nameOf(tool, runName, 'tool'), spanType: 'TOOL', inputs: json(input), attributes });
      });
    },
    handleToolEnd(output, runId) {
      guard('handleToolEnd', () => end(runId, (span) => span.setOutputs(plain(output))));
    },
    handleToolError(err, runId) {
      guard('handleToolError', () => fail(runId, err));
    },

    handleRetrieverStart(retriever, query, runId, parentRunId, tags, metadata, name) {
      guard('handleRetrieverStart', () => start(runId, parentRunId, { name: nameOf(retriever, name, 'retriever'), spanType: 'RETRIEVER', inputs: query, attributes: withMetadata({}, metadata) }, 'retriever', needlesOf([query])));
    },
    handleRetrieverEnd(documents, runId) {
      guard('handleRetrieverEnd', () => end(runId, (span) => span.setOutputs(plain(documents))));
    },
    handleRetrieverError(err, runId) {
      guard('handleRetrieverError', () => fail(runId, err));
    },

    // An agent's steps make no run of their own: events on the run that took them, as MLflow's.
    handleAgentAction(action, runId) {
      guard('handleAgentAction', () => event(runId, 'agent_action', { tool: String(action?.tool), tool_input: JSON.stringify(action?.toolInput ?? null), log: String(action?.log ?? '') }));
    },
    handleAgentEnd(finish, runId) {
      guard('handleAgentEnd', () => event(runId, 'agent_finish', { return_values: JSON.stringify(finish?.returnValues ?? null), log: String(finish?.log ?? '') }));
    },
    handleText(text, runId) {
      guard('handleText', () => event(runId, 'text', { text: String(text) }));
    },

    /**
     * The span of the run that code calling this runs in, for `traceFetch`'s and `withSpan`'s
     * `parent`: a model call's fetch goes under its model's span, an embedding call under its
     * retriever's, code in a tool under the tool's.
     *
     * A model's request is known by its body, which holds the model's name and every text of the
     * run's conversation: of the model runs whose call has not gone out, the one whose
     * conversation the body holds most of (all of its texts, the most text); of equals, the one
     * started in this async context, else the oldest. That holds across async contexts, which
     * LangChain's concurrency slots mix (a call that waited for one goes out in the context of
     * the call that freed it), and where there is no async context to follow (a page). A body
     * the same as a call already made is that call's retry, under its model's span, unless a
     * model run waiting with the same conversation was not started here. Failing those (a body
     * that cannot be read at once: a Request's), the oldest model run started in this async
     * context whose call has not gone out. Another request whose body holds a retriever's query
     * (its embedding) goes under that retriever. Other code goes under the deeper of the span of
     * the run it runs in (where LangChain keeps its context: tools, lambdas) and the span active
     * here.
     */
    parent(input, init) {
      try {
        const active = getCurrentActiveSpan();
        const config = globalThis[ALS]?.getStore?.()?.extra?.[CHILD_CONFIG];
        const id = config?.callbacks?.getParentRunId?.() ?? config?.callbacks?._parentRunId;
        // Started in this async context: by the span active here (none is no context: every
        // request outside traced code, and a page, has none), or by LangChain's context, which
        // holds the run that called the model.
        const here = (r) => (active !== undefined && r.active === active) || (id != null && r.parent === id);
        const body = bodyText(init?.body);
        const url = typeof input === 'string' ? input : String(input?.url ?? input ?? '');
        // (A body that cannot be read, a Request's, names no model: no run is ruled out by it.)
        const names = (r) => !r.model || body === undefined || holdsName(body, r.model) || holdsName(url, r.model) || holdsName(url, encodeURIComponent(r.model));
        let best;
        let retry;
        let waiting;
        let retriever;
        for (const r of runs.values()) {
          if (r.kind === 'retriever') {
            if (body && r.needles.length && r.needles.every((n) => body.includes(n)) && (!retriever || here(r))) retriever = r;
            continue;
          }
          if (r.kind !== 'model' || !names(r)) continue;
          if (r.called) {
            // A retry: the same body as a call of this run's that was answered with a failure
            // and is not being made again already; the oldest, or the one made here.
            if (body && r.body === body && r.inflight === 0 && r.failedAt && (!retry || (here(r) && !here(retry)))) retry = r;
            continue;
          }
          if (body && r.needles.length && r.needles.every((n) => body.includes(n))) {
            if (!best || r.size > best.size || (r.size === best.size && here(r) && !here(best))) best = r;
          }
          if (here(r)) waiting ??= r;
        }
        // A retry, or the first call of a run waiting with the same conversation: told apart by
        // the async context where it can be; else a run that started after the call failed makes
        // its own call now, and one that was waiting before it waits for the failed call's
        // concurrency slot, which its retries keep.
        let model = retry || best || waiting;
        if (retry && best && best !== retry) {
          if (here(best) !== here(retry)) model = here(best) ? best : retry;
          else model = best.start > retry.failedAt ? best : retry;
        }
        if (model) {
          model.called = true;
          model.inflight++;
          model.body ??= body;
          touch(model, Date.now());
          return model.span;
        }
        if (retriever) return retriever.span;
        let own = id != null ? (runs.get(id) ?? swept.get(id))?.span : undefined;
        if (!own && active !== undefined) {
          // Without LangChain's context (it keeps one only once `@langchain/core/context` is
          // loaded), the one innermost run under way in this async context.
          const mine = [...runs].filter(([, r]) => r.active === active);
          const above = new Set(mine.map(([, r]) => r.parent));
          const innermost = mine.filter(([k]) => !above.has(k));
          if (innermost.length === 1) own = innermost[0][1].span;
        }
        if (!own) return active;
        // The deeper of the two: a span traced inside the run is under the run's span.
        for (let s = active; s; s = s._up) if (s === own) return active;
        return own;
      } catch {
        return undefined;
      }
    },
  };
  // How each call the handler gave a parent to was answered (traceFetch tells it).
  handler.parent.settled = (span, ok) => {
    for (const r of runs.values()) {
      if (r.span === span && r.inflight > 0) {
        r.inflight--;
        r.failedAt = ok ? 0 : Date.now();
        return;
      }
    }
  };
  return handler;
}
