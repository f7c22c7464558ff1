/**
 * edgetrace: trace LLM apps in browsers, Cloudflare Workers and Node; see the traces in MLflow.
 *
 * ```ts
 * import { init, trace, SpanType, flush } from 'edgetrace';
 * init({ endpoint: 'http://127.0.0.1:5000', experimentId: '0' }); // MLflow, or the ingest service with ingestKey
 * const answer = trace(async function answer(q: string) { return q.toUpperCase(); },
 *                      { spanType: SpanType.AGENT });
 * await answer('hi');
 * await flush();
 * ```
 * @packageDocumentation
 */

/** MLflow's span types (`mlflow.entities.SpanType`, MLflow 3.17). Any other string is accepted as a custom type. */
export declare const SpanType: {
  readonly LLM: 'LLM';
  readonly CHAT_MODEL: 'CHAT_MODEL';
  readonly CHAIN: 'CHAIN';
  readonly AGENT: 'AGENT';
  readonly TOOL: 'TOOL';
  readonly RETRIEVER: 'RETRIEVER';
  readonly EMBEDDING: 'EMBEDDING';
  readonly PARSER: 'PARSER';
  readonly RERANKER: 'RERANKER';
  readonly MEMORY: 'MEMORY';
  readonly WORKFLOW: 'WORKFLOW';
  readonly TASK: 'TASK';
  readonly GUARDRAIL: 'GUARDRAIL';
  readonly EVALUATOR: 'EVALUATOR';
  readonly UNKNOWN: 'UNKNOWN';
};

/** A span type: one of {@link SpanType} or any custom string. */
export type SpanTypeName = (typeof SpanType)[keyof typeof SpanType] | (string & {});

/** Span status codes, numbered as in OTLP. */
export declare const SpanStatusCode: { readonly UNSET: 0; readonly OK: 1; readonly ERROR: 2 };

/** A span status: a {@link SpanStatusCode} number or its name. */
export type SpanStatus = 0 | 1 | 2 | 'UNSET' | 'OK' | 'ERROR';

/** What the redaction hook is given. */
export interface RedactionInput {
  /** Which value this is. */
  kind: 'inputs' | 'outputs' | 'attribute';
  /** The value, before it is turned into JSON. */
  value: unknown;
  /** The span's name. */
  spanName?: string;
}

/** Options of {@link init}. Every option is optional; defaults are given with each. */
export interface InitOptions {
  /** Tracing on or off. Default: `true`. When off, every API is a cheap no-op. */
  enabled?: boolean;
  /**
   * Where to send traces: the ingest service's base URL, or an MLflow server (`/v1/traces` is
   * appended unless present). Default: none; spans are kept in the queue (up to its limits) until
   * an endpoint is set, and in Node, Bun, Deno, Workers and Next.js's Edge runtime `init()` warns
   * of it. There, MLflow's own environment variables give the defaults where `process.env` holds
   * them (in Workers, with nodejs_compat from compatibility date 2025-04-01), as its SDKs read them: `MLFLOW_TRACKING_URI` (an
   * http(s) URL) the endpoint, `MLFLOW_EXPERIMENT_ID` the experiment, `MLFLOW_TRACKING_TOKEN` an
   * `authorization: Bearer` header (unless `headers` are given), when `endpoint` is left out or is
   * that URI; an endpoint of another server (the ingest service) takes none of them.
   */
  endpoint?: string;
  /**
   * MLflow experiment id, sent as `x-mlflow-experiment-id`. MLflow's OTLP endpoint requires it (it
   * answers 422 without it, 404 for an experiment that does not exist; `'0'` is the Default
   * experiment every MLflow server has). The ingest service may set it instead. Default: none.
   */
  experimentId?: string | number;
  /** Public ingest key for the ingest service, sent as `x-edgetrace-key`. Default: none. */
  ingestKey?: string;
  /**
   * Extra headers on export requests (for example MLflow auth on a server). Default: none. In a
   * page, a header the collector's CORS preflight does not allow makes the browser refuse every
   * export ("Failed to fetch"); the ingest service allows any.
   */
  headers?: Record<string, string>;
  /**
   * Body encoding: OTLP `'protobuf'` or `'json'`. Default: `'protobuf'`. In browsers the entry's
   * core writes protobuf only; `'json'` loads the core with the JSON encoder instead (a chunk of its
   * own), so it takes effect when the first `init()` that sets it comes before the first span.
   * A span earlier than that has loaded the default core already, and the export stays protobuf
   * (with a warning).
   */
  format?: 'protobuf' | 'json';
  /** `service.name` of the resource. Default: `'edgetrace'`. */
  serviceName?: string;
  /** Other resource attributes. Default: none. */
  resourceAttributes?: Record<string, string | number | boolean>;
  /**
   * Fraction of traces kept, decided per trace id, 0 to 1. A trace continued from a caller
   * (`traceparent`) follows the caller's decision instead, as OpenTelemetry's default
   * (parent-based) sampler does. Default: `1`.
   */
  sampleRatio?: number;
  /**
   * Most spans waiting for export; more are dropped, counted (`getStats().dropped.queueFull`) and
   * warned about once. In Node and Workers no trace starts while three quarters of it wait: such a
   * trace is dropped whole, and the last quarter is kept for traces under way. Up to
   * `maxConcurrentExports` batches in flight are out of the queue. Default: `2048`.
   */
  maxQueueSpans?: number;
  /**
   * Most bytes waiting for export. Default: 8 MiB. Spans recorded since the core last applied
   * what was recorded (it does when a batch may be due) take up to half as many bytes again.
   */
  maxQueueBytes?: number;
  /**
   * Most spans per export request. Default: `512`. While spans end, a request goes out as soon as
   * this many are queued (in a task of its own, right after the span end that made them so: no
   * `end()` waits for it; and once half of `maxQueueSpans` have ended unsent, in a microtask, so a
   * loop that awaits traced calls, which runs no task until it ends, sends batches as it goes);
   * fewer wait for `flushIntervalMs` or `flush()`.
   */
  maxBatchSpans?: number;
  /**
   * Most bytes per export request body. Default: `60000` in browsers, `1000000` in Node and
   * Workers (under the 1 MiB the ingest service and nginx take by default). In browsers, batches
   * go out with `keepalive` while their total stays under the browser's 64 KiB budget for all
   * keepalive requests in flight, so a request under way as the page navigates away is not
   * cancelled. On page exit the rest stays queued for the next flush (lost if the page is
   * unloaded).
   */
  maxExportBytes?: number;
  /**
   * Longest value (inputs, outputs, attribute) before truncation with a marker. Default: 32 KiB.
   * A model call's request and response keep their structure when cut (their longest strings are
   * cut), so MLflow still shows their messages; other JSON over the limit becomes one cut string.
   */
  maxValueBytes?: number;
  /** Most attributes per span. Default: `128`. */
  maxAttributes?: number;
  /** Most events per span. Default: `128`. */
  maxEvents?: number;
  /**
   * How long ended spans short of a full batch wait before a timed export, in ms. Default: `1000`.
   * `0`: they go in the next task after they end.
   */
  flushIntervalMs?: number;
  /** Timeout of one export request, in ms. Default: `10000`; `4000` in Workers. */
  exportTimeoutMs?: number;
  /**
   * Retries of a failed export (network error, 5xx, 429). Default: `8`; `3` in Workers, where
   * with their `exportTimeoutMs` and `maxBackoffMs` a flush gives up (warning, and counting the
   * spans in `dropped.exportFailed`) within 28 s, inside the 30 s `ctx.waitUntil` keeps a Worker
   * alive after its response.
   */
  maxRetries?: number;
  /** First retry delay (exponential, full jitter), in ms. Default: `500`. */
  initialBackoffMs?: number;
  /** Longest retry delay, also the cap on `Retry-After`, in ms. Default: `30000`; `4000` in Workers. */
  maxBackoffMs?: number;
  /** In browsers, send queued spans with `keepalive` on `pagehide`/hidden. Default: `true`. */
  flushOnPageHide?: boolean;
  /**
   * Sees every input, output and attribute value before it is kept (model calls' included);
   * returns what to keep. Not shown to it: event attributes, exception messages and stacks,
   * status messages and `updateCurrentTrace` fields; keep secrets out of those, or redact them at
   * the ingest service. Default: none.
   */
  redact?: (input: RedactionInput) => unknown;
  /** The fetch used for exports. Default: the global `fetch` at init. */
  fetch?: typeof fetch;
  /** Where warnings go. Default: `console`. */
  logger?: { warn(message: string): void };
  /**
   * The `AsyncLocalStorage` class, for Workers with only the `nodejs_als` flag
   * (`import { AsyncLocalStorage } from 'node:async_hooks'`). Default: found by itself in Node and
   * in Workers with `nodejs_compat`; none in browsers.
   */
  asyncLocalStorage?: new () => { run<R>(store: unknown, fn: () => R): R; getStore(): unknown };
  /**
   * Called after each recording span ends (and is queued for export), with a summary of it; for
   * live views such as a panel of a turn's spans. Its exceptions are warned, never thrown.
   * Default: none.
   */
  onSpanEnd?: (span: EndedSpan) => void;
  /** Export requests in flight at once; the rest wait in the bounded queue. Default: `4`. */
  maxConcurrentExports?: number;
  /**
   * Model prices for `mlflow.llm.cost`, USD per million tokens, by model-name prefix (longest
   * prefix wins); extends and overrides the shipped table. Default: the shipped table.
   */
  prices?: Record<string, { input: number; output: number; cachedInput?: number }>;
}

/** Options of a span. */
export interface SpanOptions {
  /**
   * The span's name. Default: for `trace()`, the function's name (or `'anonymous'`); for
   * `withSpan` and `startSpan`, `'span'`.
   */
  name?: string;
  /** The span's type. Default: `UNKNOWN`. */
  spanType?: SpanTypeName;
  /** Attributes set at start. */
  attributes?: Record<string, unknown>;
  /** Inputs set at start. */
  inputs?: unknown;
  /**
   * The parent span. Default: the active span; `null` starts a new trace. A parent that has ended
   * (or whose trace's root has: work it left running, such as a Worker's `waitUntil`) still takes
   * the span in its trace, under it.
   */
  parent?: Span | null;
  /** A W3C `traceparent` to continue (used when there is no parent span). */
  traceparent?: string;
  /**
   * Start time, ms since 1970 (as `Date.now()`). Default: now. A value that is not one (text,
   * seconds, `performance.now()`) would put the span decades back, and is replaced by now.
   */
  startTimeMs?: number;
  /**
   * Do not record the return value as outputs. Default: `false`. (A return value that is the
   * span itself, as from `(s) => s.setAttribute(…)`, is never recorded, nor one of a body that set
   * the span's outputs itself with `setOutputs`: those are kept.)
   */
  skipOutputs?: boolean;
}

/** Options of {@link Span.end}. */
export interface EndOptions {
  /** Outputs to record. */
  outputs?: unknown;
  /** Attributes to set. */
  attributes?: Record<string, unknown>;
  /** Status to set. */
  status?: SpanStatus;
  /** End time, ms since 1970, as `startTimeMs`. Default: now. */
  endTimeMs?: number;
}

/** What `onSpanEnd` receives about a span that ended. */
export interface EndedSpan {
  name: string;
  /** The MLflow span type it ended with. */
  spanType: string;
  traceId: string;
  spanId: string;
  /** `tr-<traceId>`, MLflow's trace id. */
  mlflowTraceId: string;
}

/** A span. Misuse (calls after end, ending twice) warns once and never throws. */
export declare class Span {
  private constructor();
  /** The span's name. */
  readonly name: string;
  /**
   * False once ended, or when tracing is off or the trace was sampled out, or (Node and Workers)
   * shed because the queue was three quarters full when it began.
   */
  readonly isRecording: boolean;
  /** The trace id, 32 hex digits (`''` when not recording). */
  readonly traceId: string;
  /** The span id, 16 hex digits. */
  readonly spanId: string;
  /** MLflow's id for this span's trace: `tr-<32 hex>`. */
  readonly mlflowTraceId: string;
  /** The span as a JSON value (e.g. inside another span's outputs): name and ids. */
  toJSON(): { name: string; traceId: string; spanId: string };
  /**
   * Records inputs (any value; cycles, BigInt, functions and DOM nodes are made JSON safely, and
   * a part that throws when read is recorded as a string saying so). A bare number or boolean is
   * sent as such, and `null` as no inputs, so MLflow reads them back as its Python SDK logs them.
   * The span itself is never its own inputs or outputs.
   */
  setInputs(inputs: unknown): this;
  /** Records outputs (as `setInputs` records inputs). */
  setOutputs(outputs: unknown): this;
  /**
   * Sets an attribute: strings, numbers, booleans as themselves, others as JSON; `null` and
   * `undefined` set nothing (as in OpenTelemetry).
   */
  setAttribute(key: string, value: unknown): this;
  /** Sets several attributes. */
  setAttributes(attributes: Record<string, unknown>): this;
  /** Adds a timed event, timed now. */
  addEvent(name: string, attributes?: Record<string, unknown>): this;
  /**
   * Adds a timed event given as one object, as mlflow-tracing's `addEvent(new SpanEvent({…}))`
   * does; timed now (a `timestamp` in it is not read).
   */
  addEvent(event: { name: string; attributes?: Record<string, unknown> }): this;
  /** Records an exception event and sets ERROR status. */
  recordException(error: unknown): this;
  /** Sets the status. */
  setStatus(status: SpanStatus, message?: string): this;
  /** Changes the span type. */
  setSpanType(spanType: SpanTypeName): this;
  /** The W3C `traceparent` for a request made inside this span. */
  traceparent(): string | undefined;
  /** Ends the span; a status still unset becomes OK. */
  end(options?: EndOptions): void;
}

/** Trace-level information for {@link updateCurrentTrace}. */
export interface TraceUpdate {
  /**
   * Tags (become MLflow trace tags). MLflow reads them from the trace's root span only: in a trace
   * continued from a `traceparent` (a Worker called by a traced page), set them where the trace
   * starts; here they stay attributes of this service's first span. Session and user ids arrive
   * from any span.
   */
  tags?: Record<string, string>;
  /**
   * Metadata (kept on the root span as `mlflow.traceMetadata.<key>`). MLflow's OTLP endpoint (3.17)
   * does not make these trace metadata: they show as the root span's attributes. Session and user
   * ids do become trace metadata, and tags trace tags. The keys `mlflow.trace.session` and
   * `mlflow.trace.user` (as mlflow-tracing's docs set them) are taken as `sessionId` and `userId`.
   */
  metadata?: Record<string, string>;
  /** Session id (MLflow `mlflow.trace.session`). */
  sessionId?: string;
  /** User id (MLflow `mlflow.trace.user`). */
  userId?: string;
  /**
   * Your own id for this request (the root span's `mlflow.clientRequestId`: MLflow's OTLP endpoint
   * (3.17) sets no client request id of its own from it).
   */
  clientRequestId?: string;
  /**
   * Request preview override (the root span's `mlflow.requestPreview`: MLflow's OTLP endpoint (3.17)
   * computes the trace's previews from the root span's inputs and outputs instead).
   */
  requestPreview?: string;
  /** Response preview override (`mlflow.responsePreview`, as `requestPreview`). */
  responsePreview?: string;
}

/**
 * Configures edgetrace. Throws only on an invalid option, with a message saying which: a limit,
 * and in Node and Workers also `prices`, an `endpoint` that is not an http:// or https:// URL, a
 * `format` other than `'protobuf'` or `'json'`, and an option of the wrong kind (a number option
 * that is not a number of 0 or more, a flag that is not `true` or `false`, a hook that is not a
 * function). In browsers, where the core compiles asynchronously, the first call cannot check the
 * limits yet: a bad one is warned about and turns tracing off; bad `prices` are warned about when
 * the model API parsers load them. Each call with options other than the current ones starts again
 * from the defaults: options it does not give are reset, and `getStats()` counts from zero (the
 * core is made anew; spans queued before are carried over). In Node and Workers a call with the
 * same options as the current ones (compared by value; functions by identity) changes nothing,
 * so a Worker may call it in each request. In a Worker it may also be called at the module's top
 * level: the options are checked there, and the core is made on first use, inside a handler.
 * Resolves when the core is ready: at once in Node and Workers; in browsers once it has compiled
 * (or failed to, as under a Content-Security-Policy without `'wasm-unsafe-eval'`: tracing is then
 * off, with a warning).
 * Spans recorded before are kept and `flush()` waits for it; await it where the page may leave in
 * its first moments. Never rejects.
 */
export declare function init(options?: InitOptions): Promise<void>;

/**
 * Wraps a function so each call is a span (sync, async, generator and async generator alike),
 * with the function's name and length. Its arguments are the span's inputs, named by parameter
 * (a destructured object parameter records the fields of the plain object it is given); arguments
 * past the declared parameters (a framework's own, such as an AI SDK tool's `{ toolCallId, messages }`)
 * are left out, and where the parameters cannot be read simply (a bound function, an array pattern),
 * every argument is kept, as `{ args: [...] }`. A returned promise ends the span when it settles; another
 * thenable (a query builder that runs when awaited) is returned untouched, not awaited, and its
 * span ends at once without outputs.
 */
export declare function trace<F extends (...args: any[]) => any>(fn: F, options?: SpanOptions): F;
/** With only options: a decorator for class methods (legacy and standard decorators). */
export declare function trace(options?: SpanOptions): any;

/**
 * Runs `callback` inside a new span that ends when it returns or its promise settles (a thenable
 * that is not a promise is returned untouched, as by `trace`).
 */
export declare function withSpan<T>(callback: (span: Span) => T, options?: SpanOptions): T;

/** Starts a span you end yourself. */
export declare function startSpan(options?: SpanOptions): Span;

/** The active span, if any. */
export declare function getCurrentActiveSpan(): Span | undefined;

/** Adds trace-level information to the active span's trace. */
export declare function updateCurrentTrace(update: TraceUpdate): void;

/** MLflow's id (`tr-…`) of the last trace started, if any. */
export declare function getLastActiveTraceId(): string | undefined;

/**
 * `{ traceparent }` for the active span (or `span`), to continue the trace in a service you call.
 * Its flags say not sampled for a trace that is not exported (sampled out, or in Node and Workers
 * shed by a nearly full queue), so the service does not record its part of it either. In a request
 * whose `traceparent` {@link instrumentWorker} continued, the caller's `tracestate` too (up to 512
 * characters), as W3C Trace Context has it passed on.
 */
export declare function getTraceHeaders(span?: Span): Record<string, string>;

/** Options of {@link flush}. */
export interface FlushOptions {
  /**
   * In Node, Bun, Deno and Workers: resolve after at most this many ms, with a warning when
   * the export has not finished then (it goes on while the process lives). For a shutdown
   * within a grace period: without it, a collector that is down keeps `flush()` waiting through
   * its retries (about 45 s; 2 minutes for one that accepts connections and never answers).
   */
  timeoutMs?: number;
}

/** Sends every queued span; resolves when done (or at `timeoutMs`). Never rejects. */
export declare function flush(options?: FlushOptions): Promise<void>;
/** `flush`, by the name MLflow's TypeScript SDK (`mlflow-tracing`) gives it. */
export declare function flushTraces(options?: FlushOptions): Promise<void>;

/** Counters of what edgetrace did. */
export interface Stats {
  /** Spans started. */
  started: number;
  /** Spans ended. */
  ended: number;
  /**
   * Spans handed to the exporter, less those of batches it gave up on (counted in
   * `dropped.exportFailed`): it goes down when a batch is given up on.
   */
  exported: number;
  /** Spans waiting. */
  queued: number;
  /** Spans open. */
  open: number;
  /** Spans dropped, by reason. */
  dropped: { queueFull: number; queueBytes: number; sampledOut: number; exportFailed: number; total: number };
  /** Calls with a span that was not open. */
  unknownHandles: number;
  /**
   * Spans ended while spans started after them in the same trace were still open: normal when
   * siblings run concurrently (`Promise.all`), otherwise a sign of a span not ended where it
   * should be. The spans are exported as they are either way.
   */
  outOfOrderEnds: number;
  /**
   * Values cut to their limit (`maxValueBytes`, names to 1 KiB), each counted once: a model
   * call's request or response cut with its structure kept counts as one.
   */
  truncatedValues: number;
  /** Attributes dropped past the limit. */
  droppedAttributes: number;
  /** Events dropped past the limit. */
  droppedEvents: number;
  /** Export requests made. */
  requests: number;
  /** Export retries. */
  retried: number;
  /** Export requests given up on. */
  failedRequests: number;
  /** The last export error, if any, after the URL it was sent to: `<url>: HTTP 404 <the answer's first 300 characters>`, or `<url>: <the fetch error>` (in Node and Workers with its cause, such as `connect ECONNREFUSED …`). */
  lastExportError: string | null;
  /** Bytes of the wasm core's memory (0 before it loads): the queue, open spans, the command buffer. It grows in steps of an eighth (1 MiB at the least) and never shrinks; pages never written to are not resident. */
  wasmMemoryBytes: number;
}

/** Counters of what edgetrace did. */
export declare function getStats(): Stats;

/** The context a Worker's handler is given (Cloudflare's `ExecutionContext`, as much as edgetrace needs of it). */
export interface WorkerContext {
  /** Keeps the Worker alive until the promise settles. */
  waitUntil(promise: Promise<unknown>): void;
  /** Lets a failing request go on to the origin. */
  passThroughOnException(): void;
}

/** A cron trigger's run (Cloudflare's `ScheduledController`, as much as edgetrace reads of it). */
export interface WorkerScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;
}

/** A batch of queue messages (Cloudflare's `MessageBatch`, as much as edgetrace reads of it). */
export interface WorkerMessageBatch {
  readonly queue: string;
  readonly messages: readonly unknown[];
}

/** A Worker's module handler object. */
export interface WorkerHandler<Env = unknown> {
  /** The fetch handler; edgetrace adds the request's span as a fourth argument. */
  fetch?(request: Request, env: Env, ctx: WorkerContext, span: Span): Response | Promise<Response>;
  /** The cron trigger's handler; edgetrace adds the run's span (`scheduled <cron>`) as a fourth argument. */
  scheduled?(controller: WorkerScheduledController, env: Env, ctx: WorkerContext, span: Span): void | Promise<void>;
  /** The queue consumer; edgetrace adds the batch's span (`queue <name>`) as a fourth argument. */
  queue?(batch: WorkerMessageBatch, env: Env, ctx: WorkerContext, span: Span): void | Promise<void>;
  [key: string]: unknown;
}

/**
 * What {@link instrumentWorker} returns: the handler, with a `fetch`, `scheduled` and `queue`
 * (those it has) that the platform calls with three arguments (so it
 * `satisfies ExportedHandler<Env>` of `@cloudflare/workers-types`).
 */
export type InstrumentedWorker<Env, H> = Omit<H, 'fetch' | 'scheduled' | 'queue'> &
  (H extends { fetch?: unknown } ? { fetch(request: Request, env: Env, ctx: WorkerContext): Promise<Response> } : {}) &
  (H extends { scheduled?: unknown } ? { scheduled(controller: WorkerScheduledController, env: Env, ctx: WorkerContext): Promise<void> } : {}) &
  (H extends { queue?: unknown } ? { queue(batch: WorkerMessageBatch, env: Env, ctx: WorkerContext): Promise<void> } : {});

/**
 * Options of {@link instrumentWorker}: {@link InitOptions} plus the root span's type, over what an
 * earlier `init()` of the app set: options left out keep their values from it. An `endpoint` of
 * another server than that init()'s takes none of its `experimentId`, `headers` or `ingestKey`
 * (nor MLflow's variables): name them here.
 */
export interface WorkerTracingOptions extends InitOptions {
  /** Type of each request's root span. Default: `CHAIN`. */
  spanType?: SpanTypeName;
}

/**
 * Wraps a Worker's handler: a root span per request (continuing `traceparent`), with the
 * request's method and path as its inputs and the response status as its outputs (MLflow's trace
 * list shows them as the request and response; the handler may set its own), and `ctx.waitUntil` until the export is done, also for streamed bodies (the
 * span ends when the stream ends, errors or is cancelled). A `scheduled` or `queue` handler runs
 * in a root span of its own per cron run or batch, exported the same way. Work the handler hands
 * to `ctx.waitUntil` itself is followed by a flush once it settles, so spans it ends go out with
 * it. `options` may be a function of `env`, called on the first invocation of any handler.
 * In TypeScript, name the bindings' type: `instrumentWorker<Env>({ … }, (env) => …)`.
 */
export declare function instrumentWorker<Env = unknown, H extends WorkerHandler<Env> = WorkerHandler<Env>>(
  handler: H,
  options?: WorkerTracingOptions | ((env: Env) => WorkerTracingOptions),
): InstrumentedWorker<Env, H>;

/** Options of {@link traceFetch} and {@link instrumentGlobalFetch}. */
export interface TraceFetchOptions {
  /** Also trace requests that are not model API calls, as generic spans. Default: `false`. */
  traceAll?: boolean;
  /**
   * For streamed OpenAI Chat Completions without `stream_options`, add
   * `stream_options: { include_usage: true }` so the stream reports token usage. This changes the
   * request (one extra final chunk with `choices: []`). Default: `false`.
   */
  includeUsage?: boolean;
  /** Span name. Default: `"<operation> <model>"`, e.g. `"chat gpt-4o-mini"`. */
  name?: string;
  /**
   * The parent of each call, asked as the call starts (with the call's arguments); where it gives
   * none, the active span. For a framework that keeps its own spans, such as the OpenAI Agents SDK
   * (`edgetrace/openai-agents`: `traceFetch(fetch, { parent: processor.parent })`) or LangChain
   * (`edgetrace/langchain`: `traceFetch(fetch, { parent: handler.parent })`).
   */
  parent?: ((input: RequestInfo | URL, init?: RequestInit) => Span | null | undefined) & {
    /** Called when a call it gave a parent to is answered: `ok` for a 2xx, false for another status or a failure. */
    settled?: (parent: Span | null | undefined, ok: boolean) => void;
  };
  /**
   * Send each MCP tool call's trace context to the MCP server: its span's `traceparent` is added
   * to the request's `params._meta`, as OpenTelemetry's MCP conventions put it, so a server that
   * continues it (`withSpan(fn, { traceparent: extra._meta?.traceparent, parent: null })` in an
   * MCP SDK tool handler) joins the caller's trace. This changes the request. Default: `false`.
   */
  mcpTraceContext?: boolean;
}

/**
 * A fetch that records calls to model APIs (OpenAI Chat Completions, Responses and embeddings,
 * Anthropic Messages, Gemini generateContent, and OpenAI-compatible services) as CHAT_MODEL or
 * EMBEDDING spans with messages, tools, token usage, cost, finish reason, latency and time to first
 * token; and MCP tool calls (a JSON-RPC `tools/call` POSTed by MCP's Streamable HTTP transport, as
 * `@modelcontextprotocol/sdk`'s and `@ai-sdk/mcp`'s clients send it) as TOOL spans named
 * `tools/call <tool>`, the tool's arguments in and its result out.
 * The caller receives exactly the bytes the API sent. Authorization, API-key and cookie
 * headers and URL query strings are never recorded. Use with the SDKs:
 * `new OpenAI({ fetch: traceFetch() })`, `new Anthropic({ fetch: traceFetch() })`.
 * A call's parent is the active span. Without AsyncLocalStorage (browsers), where V8's async stack
 * does not lead back to a traced function (the Anthropic SDK's fetch middleware returns its inner
 * call's promise unawaited), the call goes under the one trace whose traced async functions are in
 * flight, marked `edgetrace.parent_inferred = true`; with several traces in flight it starts its
 * own.
 * @param fetchImpl the fetch to wrap. Default: the global fetch (always called with the global
 *   object as `this`, so Workers never throw "Illegal invocation").
 */
export declare function traceFetch(fetchImpl?: typeof fetch, options?: TraceFetchOptions): typeof fetch;

/** Replaces the global fetch with a traced one; returns a function that restores the original. */
export declare function instrumentGlobalFetch(options?: TraceFetchOptions): () => void;

/** A model API at a custom base URL (for example a self-hosted vLLM or a gateway). */
export interface ModelApi {
  /** Requests whose URL starts with this are model API calls. */
  baseUrl: string;
  /**
   * Their wire format. Default: `'openai'`. `'ollama'` is Ollama's own API (`/api/chat` and
   * `/api/generate` under the base URL), for an Ollama server on a port other than its 11434.
   * Amazon Bedrock's paths (`/model/{modelId}/converse`, …) are known on any host; its formats
   * are `'bedrock-converse'` and `'bedrock-invoke'` for a gateway that serves them elsewhere.
   */
  format?: 'openai' | 'openai-responses' | 'openai-embeddings' | 'anthropic' | 'gemini' | 'ollama' | 'bedrock-converse' | 'bedrock-invoke';
  /** The provider name MLflow shows (`mlflow.llm.provider`). Default: from the host. */
  provider?: string;
}

/**
 * Registers a model API at a custom base URL for {@link traceFetch}: calls under it carry the
 * provider given. A known model API path there (`/chat/completions`, `/responses`, `/embeddings`,
 * …) keeps its own format; another POST under it is a call in `format`; a GET is no model call.
 */
export declare function registerModelApi(api: ModelApi): void;
