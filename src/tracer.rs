//! The tracer: live spans, their contexts and traces, and the queue they end into.
//!
//! Spans are addressed by `u32` handles so the bindings pass only numbers and strings. Handle `0`
//! is never issued. Every operation on a handle that is not open (never issued, or already ended)
//! returns [`Error::UnknownSpan`] and changes nothing else.
//!
//! ```
//! use edgetrace::{clock::ManualClock, id::SequentialIds, span::SpanType,
//!                 tracer::{Config, Parent, Tracer}, otlp::Format};
//! let clock = ManualClock::new(1_000);
//! let mut t = Tracer::new(Config::default(), Box::new(clock.clone()), Box::new(SequentialIds::default()));
//! let root = t.start_span(0, Parent::Current, "agent", SpanType::Agent).unwrap();
//! let tool = t.start_span(0, Parent::Current, "search", SpanType::Tool).unwrap();
//! clock.advance(500);
//! t.end_span(tool).unwrap();
//! t.end_span(root).unwrap();
//! let batch = t.take_batch(Format::Json).unwrap();
//! assert_eq!(batch.spans, 2);
//! ```

use crate::attribute::{AttrValue, Limits};
use crate::batch::{BatchQueue, DropCounts, DropReason};
use crate::clock::Clock;
pub use crate::config::Config;
use crate::context::{ContextTable, Removal};
use crate::error::Error;
use crate::id::{IdGenerator, SpanId, TraceId};
use crate::keymap::KeyMap;
use crate::otlp::{Encoder, Format, Payload};
use crate::propagation::{format_traceparent, RemoteParent};
use crate::span::{Event, Key, SpanData, SpanType, Status, StatusCode};
use crate::trace::{TraceInfo, TraceUpdate};

/// What a new span nests under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// The span on top of the context's stack; a new trace when the stack is empty.
    Current,
    /// An open span, by handle (any context).
    Span(u32),
    /// A span in another process (from `traceparent`).
    Remote(RemoteParent),
    /// None: start a new trace.
    Root,
}

/// Counters of the tracer's life, for `getStats()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Spans started.
    pub started: u64,
    /// Spans ended.
    pub ended: u64,
    /// Spans handed to the exporter in batches.
    pub exported: u64,
    /// Spans dropped, by reason.
    pub dropped: DropCounts,
    /// Calls with a handle that was not open (unknown, or ended twice).
    pub unknown_handles: u64,
    /// Spans ended while spans started after them on the same stack were still open.
    pub out_of_order_ends: u64,
    /// Values cut to `max_value_bytes` (or names to `max_name_bytes`).
    pub truncated_values: u64,
    /// Attributes dropped past `max_attributes`.
    pub dropped_attributes: u64,
    /// Events dropped past `max_events`.
    pub dropped_events: u64,
}

/// Handles (and context ids) from here up are the caller's to choose; the tracer issues its own
/// below, so the two never meet. 2^29: the JS recorder chooses them below 2^30, so in V8 each is a
/// small integer (a Smi, 31 bits with pointer compression) on the span that holds it, not a heap
/// number allocated per span.
pub const GIVEN_HANDLES: u32 = 0x2000_0000;

/// Ids the caller drew for a span it starts (see [`Tracer::start_span_given`]).
#[derive(Debug, Clone, Copy)]
pub struct GivenIds {
    /// The span's id.
    pub span_id: SpanId,
    /// The trace id, for a root.
    pub trace_id: Option<TraceId>,
}

#[derive(Debug)]
struct Live {
    /// Boxed, so that starting, ending and queueing the span move a pointer, not the span: in
    /// wasm each move of a value this large is a `memory.copy`, which V8 runs as a call out of
    /// the module (see examples/commands_cost.rs).
    data: Box<SpanData>,
    ctx: u32,
    /// Whether the span will be exported, decided for its whole trace when the trace starts.
    keep: Keep,
    dropped_attributes: u32,
    dropped_events: u32,
}

/// Whether a trace is exported, and why not: `None`, or not sampled, or shed because the queue was
/// nearly full (see `Tracer::shed`).
#[cfg(not(feature = "size"))]
type Keep = Option<DropReason>;
/// The browsers' size builds do not shed: there a trace is exported when it is sampled, as a bool,
/// so that their wasm is as it was (the bytes a page loads up front have no room for shedding).
#[cfg(feature = "size")]
type Keep = bool;

/// `Keep` of a new trace: not sampled, else shed or kept.
#[cfg(not(feature = "size"))]
fn new_trace(sampled: bool, shed: impl FnOnce() -> Option<DropReason>) -> Keep {
    if sampled {
        shed()
    } else {
        Some(DropReason::SampledOut)
    }
}
#[cfg(feature = "size")]
fn new_trace(sampled: bool, _shed: impl FnOnce() -> Option<DropReason>) -> Keep {
    sampled
}

/// Why a span of a trace that is not kept was dropped; `None` when it is kept.
#[cfg(not(feature = "size"))]
fn dropped_for(k: Keep) -> Option<DropReason> {
    k
}
#[cfg(feature = "size")]
fn dropped_for(k: Keep) -> Option<DropReason> {
    (!k).then_some(DropReason::SampledOut)
}

/// MLflow's span log level attribute, which the MLflow UI's level filter reads.
#[cfg_attr(feature = "size", allow(dead_code))]
pub const LOG_LEVEL: &str = "mlflow.spanLogLevel";

/// A span's MLflow log level ([`crate::span::log_level`]); the app's own, if it set one, is kept.
#[cfg(not(feature = "size"))]
fn log_level(s: &SpanData) -> Option<i64> {
    let failed =
        s.status.code == StatusCode::Error || s.events.iter().any(|e| e.name == "exception");
    crate::span::log_level(failed, s.span_type.is_info())
}

#[derive(Debug)]
struct TraceState {
    /// What `update_trace` set, boxed and only once set: most traces have none, and the state
    /// stays small to insert (see `Live`).
    info: Option<Box<TraceInfo>>,
    open: u32,
    root: Option<u32>,
}

/// The tracer. Single-threaded, like the JS event loop that drives it.
pub struct Tracer {
    config: Config,
    clock: Box<dyn Clock>,
    ids: Box<dyn IdGenerator>,
    contexts: ContextTable,
    live: KeyMap<u32, Live>,
    traces: KeyMap<TraceId, TraceState>,
    queue: BatchQueue,
    json: Encoder,
    proto: Encoder,
    next_handle: u32,
    stats: Stats,
    /// How many attributes the last queued span held: a span's first attribute reserves that
    /// many slots, so spans shaped alike (most are) are not trimmed again when they end.
    attr_slots: usize,
    /// `mlflow.spanLogLevel`, one allocation shared by every span that carries it.
    #[cfg(not(feature = "size"))]
    log_level_key: Key,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("open_spans", &self.live.len())
            .field("queued", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Tracer {
    /// A tracer with this configuration, clock and id source.
    pub fn new(config: Config, clock: Box<dyn Clock>, ids: Box<dyn IdGenerator>) -> Tracer {
        Tracer {
            queue: BatchQueue::new(config.batch.clone()),
            json: Encoder::new(Format::Json, &config.resource),
            proto: Encoder::new(Format::Protobuf, &config.resource),
            config,
            clock,
            ids,
            contexts: ContextTable::default(),
            live: KeyMap::default(),
            traces: KeyMap::default(),
            next_handle: 1,
            attr_slots: 8,
            stats: Stats::default(),
            #[cfg(not(feature = "size"))]
            log_level_key: LOG_LEVEL.into(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Now, by the injected clock.
    pub fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }

    /// Opens a new context (one concurrent flow) and returns its id.
    pub fn open_context(&mut self) -> u32 {
        self.contexts.open()
    }

    /// Opens a context under an id the caller chose (at least [`GIVEN_HANDLES`]).
    pub fn open_context_as(&mut self, ctx: u32) -> Result<(), Error> {
        if ctx < GIVEN_HANDLES {
            return Err(Error::UnknownContext(ctx));
        }
        self.contexts.open_as(ctx)
    }

    /// Closes a context; spans still open on it stay open and can still be ended by handle.
    pub fn close_context(&mut self, ctx: u32) -> Result<(), Error> {
        self.contexts.close(ctx).map(|_| ())
    }

    /// The span on top of `ctx`'s stack, if any.
    pub fn current_span(&self, ctx: u32) -> Result<Option<u32>, Error> {
        self.contexts.top(ctx)
    }

    fn sampled(&self, trace_id: &TraceId) -> bool {
        let r = self.config.sample_ratio;
        if r >= 1.0 {
            return true;
        }
        if r.is_nan() || r <= 0.0 {
            return false;
        }
        let b = trace_id.as_bytes();
        let mut low = [0u8; 8];
        low.copy_from_slice(&b[8..]);
        (u64::from_be_bytes(low) >> 11) < (r * (1u64 << 53) as f64) as u64
    }

    /// Whether a trace starting now is shed whole: while the queue is three quarters full, no
    /// new trace is let in, so that its last quarter is kept for the spans of traces already under
    /// way. An overflow then drops whole traces, where dropping each span that finds the queue full
    /// left traces in MLflow whose root was dropped (shown in progress, nameless) or that lacked a
    /// step (shown complete). The spans of a shed trace are counted as dropped by the limit that
    /// shed it when they end. Not in the browsers' size builds (feature `size`, see `Keep`): a
    /// page that fills its 2,048-span queue is rare, and there each span that finds the queue full
    /// is dropped.
    #[cfg_attr(feature = "size", allow(dead_code))]
    fn shed(&self) -> Option<DropReason> {
        let c = self.queue.config();
        if self.queue.len() >= c.max_queue_spans - c.max_queue_spans / 4 {
            Some(DropReason::QueueFull)
        } else if self.queue.bytes() >= c.max_queue_bytes - c.max_queue_bytes / 4 {
            Some(DropReason::QueueBytes)
        } else {
            None
        }
    }

    fn issue_handle(&mut self) -> u32 {
        loop {
            let h = self.next_handle;
            self.next_handle = (self.next_handle + 1) % GIVEN_HANDLES;
            self.next_handle = self.next_handle.max(1);
            if !self.live.contains_key(&h) {
                return h;
            }
        }
    }

    /// Starts a span now. See [`Tracer::start_span_at`].
    pub fn start_span(
        &mut self,
        ctx: u32,
        parent: Parent,
        name: &str,
        span_type: SpanType,
    ) -> Result<u32, Error> {
        let now = self.clock.now_ns();
        self.start_span_at(ctx, parent, name, span_type, now)
    }

    /// Starts a span at `start_ns` in context `ctx` under `parent`, pushes it on `ctx`'s stack and
    /// returns its handle. Fails, starting nothing, for an unknown context or parent handle.
    pub fn start_span_at(
        &mut self,
        ctx: u32,
        parent: Parent,
        name: &str,
        span_type: SpanType,
        start_ns: u64,
    ) -> Result<u32, Error> {
        self.start_inner(
            None,
            ctx,
            parent,
            Key::from(name),
            span_type,
            start_ns,
            None,
        )
    }

    /// Starts a span as [`Tracer::start_span_at`] does, under a handle and with ids the caller
    /// chose: the JS recorder numbers its spans and draws their ids itself, so starting one needs
    /// no answer from the core. Handles the caller picks must be at least [`GIVEN_HANDLES`] (the
    /// tracer issues its own below); `trace_id` is used for a root and ignored under a parent.
    #[allow(clippy::too_many_arguments)]
    pub fn start_span_given(
        &mut self,
        handle: u32,
        ctx: u32,
        parent: Parent,
        name: &Key,
        span_type: SpanType,
        start_ns: u64,
        ids: GivenIds,
    ) -> Result<u32, Error> {
        if handle < GIVEN_HANDLES || self.live.contains_key(&handle) {
            return Err(Error::HandleInUse(handle));
        }
        self.start_inner(
            Some(handle),
            ctx,
            parent,
            name.clone(),
            span_type,
            start_ns,
            Some(ids),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn start_inner(
        &mut self,
        handle: Option<u32>,
        ctx: u32,
        parent: Parent,
        mut name: Key,
        span_type: SpanType,
        start_ns: u64,
        given: Option<GivenIds>,
    ) -> Result<u32, Error> {
        let top = self.contexts.top(ctx)?;
        let parent = match parent {
            Parent::Current => top.map_or(Parent::Root, Parent::Span),
            p => p,
        };
        let (trace_id, parent_span_id, keep) = match parent {
            Parent::Span(h) => {
                let p = self.live.get(&h).ok_or_else(|| {
                    self.stats.unknown_handles += 1;
                    Error::UnknownSpan(h)
                })?;
                (p.data.trace_id, Some(p.data.span_id), p.keep)
            }
            Parent::Remote(r) => (
                r.trace_id,
                Some(r.span_id),
                // Parent-based, as OpenTelemetry's default sampler: a trace continued from a caller
                // follows the caller's decision, so a trace it keeps is not cut in half here.
                new_trace(r.sampled, || self.shed()),
            ),
            Parent::Root | Parent::Current => {
                let t = match given.as_ref().and_then(|g| g.trace_id) {
                    Some(t) => t,
                    None => self.ids.trace_id(),
                };
                let k = new_trace(self.sampled(&t), || self.shed());
                (t, None, k)
            }
        };
        let handle = match handle {
            Some(h) => h,
            None => self.issue_handle(),
        };
        let span_id = match given {
            Some(g) => g.span_id,
            None => self.ids.span_id(),
        };
        if self.config.limits.bound_key(&mut name) {
            self.stats.truncated_values += 1;
        }
        let data = Box::new(SpanData {
            trace_id,
            span_id,
            parent_span_id,
            name,
            span_type,
            start_ns,
            end_ns: 0,
            inputs: None,
            outputs: None,
            attributes: Vec::new(),
            events: Default::default(),
            status: Status::default(),
        });
        let state = self.traces.get_or_insert_with(trace_id, || TraceState {
            info: None,
            open: 0,
            root: None,
        });
        state.open += 1;
        // The trace's info is stamped onto its root; a trace continued from another process has
        // no root here, so its first local span (the one under the remote parent) stands in.
        if parent_span_id.is_none() || (matches!(parent, Parent::Remote(_)) && state.root.is_none())
        {
            state.root = Some(handle);
        }
        self.contexts.push(ctx, handle)?;
        // New: a given handle was checked, an issued one is free.
        self.live.get_or_insert_with(handle, || Live {
            data,
            ctx,
            keep,
            dropped_attributes: 0,
            dropped_events: 0,
        });
        self.stats.started += 1;
        Ok(handle)
    }

    fn live_mut(&mut self, h: u32) -> Result<&mut Live, Error> {
        match self.live.get_mut(&h) {
            Some(l) => Ok(l),
            None => {
                self.stats.unknown_handles += 1;
                Err(Error::UnknownSpan(h))
            }
        }
    }

    /// Ends a span now. See [`Tracer::end_span_at`].
    pub fn end_span(&mut self, h: u32) -> Result<(), Error> {
        let now = self.clock.now_ns();
        self.end_span_at(h, now)
    }

    /// Ends a span at `end_ns` (never before its start) and queues it for export; a status still
    /// unset becomes OK, as in MLflow. Ending a span
    /// that is not on top of its stack takes it out from where it is and counts it. When a trace's
    /// root ends, the trace's info is written onto the root (for a trace continued from a remote
    /// parent, onto its first local span, the one under the remote parent).
    pub fn end_span_at(&mut self, h: u32, end_ns: u64) -> Result<(), Error> {
        let mut live = match self.live.remove(&h) {
            Some(l) => l,
            None => {
                self.stats.unknown_handles += 1;
                return Err(Error::UnknownSpan(h));
            }
        };
        if let Removal::OutOfOrder { .. } = self.contexts.remove(live.ctx, h) {
            self.stats.out_of_order_ends += 1;
        }
        live.data.end_ns = end_ns.max(live.data.start_ns);
        if live.data.status.code == StatusCode::Unset {
            // As MLflow does: a span that ends without a status succeeded.
            live.data.status.code = StatusCode::Ok;
        }
        self.stats.ended += 1;
        if let Some(state) = self.traces.get_mut(&live.data.trace_id) {
            state.open = state.open.saturating_sub(1);
            if state.root == Some(h) {
                let extra = state.info.as_ref().map(|i| i.root_attributes());
                state.root = None;
                for (k, v) in extra.into_iter().flatten() {
                    set_attr(
                        &mut live,
                        &self.config.limits,
                        &mut self.stats,
                        self.attr_slots,
                        k.into(),
                        v,
                    );
                }
            }
            if state.open == 0 && state.root.is_none() {
                self.traces.delete(&live.data.trace_id);
            }
        }
        if live.dropped_attributes > 0 {
            let n = i64::from(live.dropped_attributes);
            live.data.attributes.push((
                "edgetrace.dropped_attributes".into(),
                AttrValue::Int(n.into()),
            ));
        }
        if live.dropped_events > 0 {
            let n = i64::from(live.dropped_events);
            live.data
                .attributes
                .push(("edgetrace.dropped_events".into(), AttrValue::Int(n.into())));
        }
        if let Some(r) = dropped_for(live.keep) {
            self.queue.count_dropped(r, 1);
            return Ok(());
        }
        // Not in the browsers' size builds (their bytes up front have no room for it): the ingest
        // service adds it to the spans it relays (src/ingest/convert.rs `log_level`).
        #[cfg(not(feature = "size"))]
        if let Some(level) = log_level(&live.data) {
            if !live.data.attributes.iter().any(|(k, _)| &**k == LOG_LEVEL) {
                let key = self.log_level_key.clone();
                live.data
                    .attributes
                    .push((key, AttrValue::Int(level.into())));
            }
        }
        // A queued span holds no spare attribute slots. The next span reserves as many as this
        // one held, so when it is shaped alike there is nothing to trim.
        self.attr_slots = live.data.attributes.len().max(1);
        live.data.attributes.shrink_to_fit();
        let _ = self.queue.push(live.data);
        Ok(())
    }

    /// Sets the span's inputs (JSON text; invalid JSON is kept as a JSON string).
    pub fn set_inputs(&mut self, h: u32, json: &str) -> Result<(), Error> {
        self.put_inputs(h, as_json(json))
    }

    /// Sets the span's outputs (JSON text; invalid JSON is kept as a JSON string).
    pub fn set_outputs(&mut self, h: u32, json: &str) -> Result<(), Error> {
        self.put_outputs(h, as_json(json))
    }

    /// Sets the span's inputs from JSON text the caller guarantees valid (the JS layer's
    /// `JSON.stringify`, the model API parsers' serde_json), so it is not read again.
    pub fn set_inputs_json(&mut self, h: u32, json: &str) -> Result<(), Error> {
        self.put_inputs(h, json.to_owned())
    }

    /// Sets the span's outputs from JSON text the caller guarantees valid.
    pub fn set_outputs_json(&mut self, h: u32, json: &str) -> Result<(), Error> {
        self.put_outputs(h, json.to_owned())
    }

    /// Stores inputs already known to be valid JSON, bounded.
    fn put_inputs(&mut self, h: u32, text: String) -> Result<(), Error> {
        self.put_io(h, text, false)
    }

    /// Stores outputs already known to be valid JSON, bounded.
    fn put_outputs(&mut self, h: u32, text: String) -> Result<(), Error> {
        self.put_io(h, text, true)
    }

    /// Inputs or outputs into span `h`, bounded, with one lookup of the span.
    fn put_io(&mut self, h: u32, mut text: String, outputs: bool) -> Result<(), Error> {
        let Some(live) = self.live.get_mut(&h) else {
            self.stats.unknown_handles += 1;
            return Err(Error::UnknownSpan(h));
        };
        if self.config.limits.bound_json(&mut text) {
            self.stats.truncated_values += 1;
        }
        let slot = if outputs {
            &mut live.data.outputs
        } else {
            &mut live.data.inputs
        };
        *slot = Some(text.into_boxed_str());
        Ok(())
    }

    /// Sets (or replaces) an attribute. Past `max_attributes`, new keys are dropped and counted.
    pub fn set_attribute(&mut self, h: u32, key: &str, value: AttrValue) -> Result<(), Error> {
        self.set_attribute_key(h, key.into(), value)
    }

    /// [`Tracer::set_attribute`] with a key that may be shared with other spans.
    pub fn set_attribute_key(&mut self, h: u32, key: Key, value: AttrValue) -> Result<(), Error> {
        let live = match self.live.get_mut(&h) {
            Some(l) => l,
            None => {
                self.stats.unknown_handles += 1;
                return Err(Error::UnknownSpan(h));
            }
        };
        set_attr(
            live,
            &self.config.limits,
            &mut self.stats,
            self.attr_slots,
            key,
            value,
        );
        Ok(())
    }

    /// Renames a span.
    pub fn set_name(&mut self, h: u32, name: &str) -> Result<(), Error> {
        self.live_mut(h)?;
        let mut name = Key::from(name);
        if self.config.limits.bound_key(&mut name) {
            self.stats.truncated_values += 1;
        }
        self.live_mut(h)?.data.name = name;
        Ok(())
    }

    /// The type of open span `h`.
    pub fn span_type(&self, h: u32) -> Option<&SpanType> {
        self.live.get(&h).map(|s| &s.data.span_type)
    }

    /// Changes the type of open span `h`.
    pub fn set_span_type(&mut self, h: u32, span_type: SpanType) -> Result<(), Error> {
        self.live_mut(h)?.data.span_type = span_type;
        Ok(())
    }

    /// Sets the status. An `Ok` or `Error` status is not overwritten by `Unset`.
    pub fn set_status(&mut self, h: u32, code: StatusCode, message: &str) -> Result<(), Error> {
        let live = self.live_mut(h)?;
        if code == StatusCode::Unset && live.data.status.code != StatusCode::Unset {
            return Ok(());
        }
        live.data.status = Status {
            code,
            message: message.into(),
        };
        Ok(())
    }

    /// Adds an event now. Past `max_events`, events are dropped and counted.
    pub fn add_event(
        &mut self,
        h: u32,
        name: &str,
        attributes: Vec<(String, AttrValue)>,
    ) -> Result<(), Error> {
        let now = self.clock.now_ns();
        let limits = self.config.limits.clone();
        let live = match self.live.get_mut(&h) {
            Some(l) => l,
            None => {
                self.stats.unknown_handles += 1;
                return Err(Error::UnknownSpan(h));
            }
        };
        if live.data.events.len() >= limits.max_events {
            live.dropped_events += 1;
            self.stats.dropped_events += 1;
            return Ok(());
        }
        let mut name = name.to_owned();
        let mut cut = u64::from(limits.bound_name(&mut name));
        let attributes = attributes
            .into_iter()
            .take(limits.max_attributes)
            .map(|(k, mut v)| {
                cut += u64::from(limits.bound(&mut v));
                (k, v)
            })
            .collect();
        self.stats.truncated_values += cut;
        live.data.events.push(Event {
            name,
            time_ns: now,
            attributes,
        });
        Ok(())
    }

    /// Records an exception: an `exception` event (type, message, stack) and ERROR status.
    pub fn record_exception(
        &mut self,
        h: u32,
        kind: &str,
        message: &str,
        stack: &str,
    ) -> Result<(), Error> {
        let mut attrs = vec![
            ("exception.type".to_owned(), AttrValue::Str(kind.into())),
            (
                "exception.message".to_owned(),
                AttrValue::Str(message.into()),
            ),
        ];
        if !stack.is_empty() {
            attrs.push((
                "exception.stacktrace".to_owned(),
                AttrValue::Str(stack.into()),
            ));
        }
        self.add_event(h, "exception", attrs)?;
        let status = if kind.is_empty() {
            message.to_owned()
        } else {
            crate::text::cat(&[kind, ": ", message])
        };
        self.set_status(h, StatusCode::Error, &status)
    }

    /// Merges `update` into the info of the trace that span `h` belongs to.
    pub fn update_trace(&mut self, h: u32, update: TraceUpdate) -> Result<(), Error> {
        let trace_id = self.live_mut(h)?.data.trace_id;
        if let Some(state) = self.traces.get_mut(&trace_id) {
            state.info.get_or_insert_with(Box::default).apply(update);
        }
        Ok(())
    }

    /// The trace id of an open span.
    pub fn trace_id(&mut self, h: u32) -> Result<TraceId, Error> {
        Ok(self.live_mut(h)?.data.trace_id)
    }

    /// The span id of an open span.
    pub fn span_id(&mut self, h: u32) -> Result<SpanId, Error> {
        Ok(self.live_mut(h)?.data.span_id)
    }

    /// The `traceparent` header that makes a request's handler continue this span's trace.
    pub fn traceparent(&mut self, h: u32) -> Result<String, Error> {
        let l = self.live_mut(h)?;
        Ok(format_traceparent(
            &l.data.trace_id,
            &l.data.span_id,
            dropped_for(l.keep).is_none(),
        ))
    }

    /// The outputs (JSON text) recorded on open span `h`, if any.
    pub fn outputs(&self, h: u32) -> Option<&str> {
        self.live.get(&h)?.data.outputs.as_deref()
    }

    /// Whether span `h` is open.
    pub fn is_open(&self, h: u32) -> bool {
        self.live.contains_key(&h)
    }

    /// Spans open now.
    pub fn open_spans(&self) -> usize {
        self.live.len()
    }

    /// Spans waiting for export.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether a full batch is waiting.
    pub fn batch_ready(&self) -> bool {
        self.queue.batch_ready()
    }

    /// The next export body, or `None` when nothing waits (and, in a build without the JSON
    /// encoder, [`crate::otlp::encode::JSON`], for JSON).
    pub fn take_batch(&mut self, format: Format) -> Option<Payload> {
        let enc = match format {
            Format::Json if !crate::otlp::encode::JSON => return None,
            Format::Json => &self.json,
            Format::Protobuf => &self.proto,
        };
        let p = self.queue.take_batch(enc)?;
        self.stats.exported += p.spans as u64;
        Some(p)
    }

    /// Counts values cut to the value limit before they reached the tracer (model calls' inputs
    /// and outputs, which the parsers cut with their JSON structure kept) in `truncated_values`.
    pub fn count_truncated(&mut self, values: u64) {
        self.stats.truncated_values += values;
    }

    /// Counts spans the transport gave up on.
    pub fn report_export_failed(&mut self, spans: u64) {
        self.queue.count_dropped(DropReason::ExportFailed, spans);
        self.stats.exported = self.stats.exported.saturating_sub(spans);
    }

    /// Whether live span `h`'s trace was shed (see [`Tracer::shed`]): false for a span not live
    /// (ended, or never started) and for a trace sampled out. The JS layer asks it for a trace's
    /// `traceparent` and `isRecording`, so services a shed trace calls do not record their part.
    #[cfg(not(feature = "size"))]
    pub fn is_shed(&self, h: u32) -> bool {
        self.live
            .get(&h)
            .is_some_and(|l| matches!(l.keep, Some(DropReason::QueueFull | DropReason::QueueBytes)))
    }

    /// How many spans of trace `trace_id` are open (0 for a trace not known here). The Workers
    /// entry waits for them after a request's span ends, before its last flush: once that flush
    /// settles, workerd stops the request's I/O, and a span still reading a stream never ends.
    #[cfg(not(feature = "size"))]
    pub fn open_in_trace(&self, trace_id: &TraceId) -> u32 {
        self.traces.get(trace_id).map_or(0, |s| s.open)
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.dropped = self.queue.dropped().clone();
        s
    }
}

/// `json` if it is valid JSON, else `json` as a JSON string.
fn as_json(json: &str) -> String {
    if crate::json::is_valid(json) {
        json.to_owned()
    } else {
        crate::json::quote(json)
    }
}

/// Whether two keys hold the same text. A span's keys are often of one length (`app.a`,
/// `app.b`), and such keys mostly differ in their last byte: comparing it first settles most
/// pairs without `memcmp`, which in wasm is a function call of its own.
#[inline]
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.last() == b.last() && a == b
}

fn set_attr(
    live: &mut Live,
    limits: &Limits,
    stats: &mut Stats,
    slots: usize,
    key: Key,
    mut value: AttrValue,
) {
    if limits.bound(&mut value) {
        stats.truncated_values += 1;
    }
    let attrs = &mut live.data.attributes;
    if let Some(slot) = attrs
        .iter_mut()
        .find(|(k, _)| Key::ptr_eq(k, &key) || same_text(k, &key))
    {
        slot.1 = value;
    } else if attrs.len() >= limits.max_attributes {
        live.dropped_attributes += 1;
        stats.dropped_attributes += 1;
    } else {
        if attrs.capacity() == 0 {
            // Room for as many as the last queued span held, at once; trimmed when the span ends.
            attrs.reserve_exact(slots);
        }
        attrs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::id::SequentialIds;

    #[test]
    fn queued_spans_hold_every_attribute_and_no_spare_slot_whatever_came_before() {
        let mut t = Tracer::new(
            Config::default(),
            Box::new(ManualClock::new(1)),
            Box::new(SequentialIds::default()),
        );
        let ctx = t.open_context();
        // Each span reserves as many slots as the one before it held: fewer, as many and more.
        let shapes = [5, 5, 2, 9, 0, 1, 3];
        for n in shapes {
            let h = t
                .start_span(ctx, Parent::Root, "s", SpanType::Unknown)
                .unwrap();
            for i in 0..n {
                let key = crate::text::cat(&["k", &crate::text::dec(i)]);
                t.set_attribute(h, &key, AttrValue::Int((i as i64).into()))
                    .unwrap();
            }
            t.end_span(h).unwrap();
        }
        // Setting a key again replaces its value, whichever of its bytes differ from the others'.
        let h = t
            .start_span(ctx, Parent::Root, "s", SpanType::Unknown)
            .unwrap();
        let keys = ["ab", "ba", "abc", "abd", "xbc", "ab"];
        for (i, key) in keys.iter().enumerate() {
            t.set_attribute(h, key, AttrValue::Int((i as i64).into()))
                .unwrap();
        }
        t.end_span(h).unwrap();
        let queued: Vec<_> = t.queue.spans().collect();
        let last = queued.last().unwrap();
        let got: Vec<_> = last
            .attributes
            .iter()
            .map(|(k, v)| (&**k, v.clone()))
            .collect();
        let want: Vec<_> = [("ab", 5), ("ba", 1), ("abc", 2), ("abd", 3), ("xbc", 4)]
            .into_iter()
            .map(|(k, v)| (k, AttrValue::Int(v.into())))
            .collect();
        assert_eq!(got, want);
        let queued = &queued[..queued.len() - 1];
        assert_eq!(queued.len(), shapes.len());
        for (span, n) in queued.iter().zip(shapes) {
            let attrs = &span.attributes;
            assert_eq!(attrs.len(), n);
            assert_eq!(attrs.capacity(), n, "no spare slot");
            for (i, (k, v)) in attrs.iter().enumerate() {
                assert_eq!(&**k, crate::text::cat(&["k", &crate::text::dec(i)]));
                assert_eq!(*v, AttrValue::Int((i as i64).into()));
            }
        }
    }
}
