//! The JS boundary: the only module that knows about wasm-bindgen.
//!
//! Node and Workers get [`Core`] through wasm-bindgen. The browser's cores (cargo feature
//! `c-abi`) export the same methods as plain wasm functions instead ([`crate::abi`]): wasm-bindgen's
//! generated glue and shims were 2.4 KB of the browser entry's gzip size, for six calls.
//!
//! [`Core`] wraps a [`Tracer`] behind calls that take and return numbers and strings, so starting
//! and ending a span costs a few cheap boundary crossings. No method throws: failures return `0`,
//! `false` or `undefined`, and the error is kept once, as a string, for [`Core::last_error`], so
//! the JS layer can warn without a try/catch on the hot path.

// With the spike in its place (cargo feature `bench-spike`), the tracer's apply goes unused.
#![cfg_attr(feature = "bench-spike", allow(dead_code))]

#[cfg(not(feature = "c-abi"))]
use wasm_bindgen::prelude::*;

use crate::attribute::AttrValue;
use crate::clock::Clock;
use crate::commands::{ms_to_ns, number, Recorded};
use crate::config::Config;
use crate::error::Error;
use crate::id::SeededIds;
use crate::otlp::Format;
use crate::span::SpanType;
use crate::tracer::{Parent, Tracer};

// Benchmarks only (cargo feature `bench-spike`): the fused spike in place of the tracer.
#[cfg(feature = "bench-spike")]
#[allow(missing_docs, dead_code)]
#[path = "../examples/common/spike.rs"]
mod spike;

#[cfg(not(feature = "c-abi"))]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

// The browser's cores import the two clocks as plain functions of module `et`
// (pkg-templates/core-abi.js).
#[cfg(feature = "c-abi")]
#[link(wasm_import_module = "et")]
extern "C" {
    #[link_name = "date_now"]
    fn et_date_now() -> f64;
    #[link_name = "performance_now"]
    fn et_performance_now() -> f64;
}

#[cfg(feature = "c-abi")]
fn date_now() -> f64 {
    // SAFETY: an import that takes nothing and returns a number.
    unsafe { et_date_now() }
}

#[cfg(feature = "c-abi")]
fn performance_now() -> f64 {
    // SAFETY: an import that takes nothing and returns a number.
    unsafe { et_performance_now() }
}

/// Wall-clock time in ns: `performance.timeOrigin + performance.now()` (sub-millisecond, and the
/// clock the JS layer stamps recorded spans with) when the JS layer gave the origin, else
/// `Date.now()`.
struct JsClock {
    /// `performance.timeOrigin` in ms, or 0 when unknown.
    origin: f64,
}

impl Clock for JsClock {
    fn now_ns(&self) -> u64 {
        let ms = if self.origin > 0.0 {
            self.origin + performance_now()
        } else {
            date_now()
        };
        ms_to_ns(ms)
    }
}

/// The names of [`Core::write_stats`]'s numbers, in order (`dropped.*` are the drops by reason).
pub const STATS: [&str; 15] = [
    "started",
    "ended",
    "exported",
    "queued",
    "open",
    "dropped.queueFull",
    "dropped.queueBytes",
    "dropped.sampledOut",
    "dropped.exportFailed",
    "dropped.total",
    "unknownHandles",
    "outOfOrderEnds",
    "truncatedValues",
    "droppedAttributes",
    "droppedEvents",
];

/// The names of the numbers [`Core::write_stats`] writes after [`STATS`], for the exporter: whether a
/// full batch waits (1 or 0), and the spans in the body `take_batch` last returned and whether it
/// holds one span bigger than `maxExportBytes` (1 or 0).
pub const STATE: [&str; 3] = ["batchReady", "lastBatchSpans", "lastBatchOversize"];

/// How many numbers [`Core::write_stats`] writes.
pub const STATS_LEN: usize = STATS.len() + STATE.len();

/// The tracer, as JS sees it.
#[cfg_attr(not(feature = "c-abi"), wasm_bindgen)]
pub struct Core {
    t: Tracer,
    rec: Recorded,
    cmd: Vec<u8>,
    /// Full command buffers kept by [`Core::cmd_buffer`], in order, for the next [`Core::run`].
    kept: Vec<Vec<u8>>,
    last_error: Option<String>,
    last_spans: u32,
    last_oversize: bool,
    /// What [`Core::write_stats`] wrote.
    counts: [f64; STATS_LEN],
    #[cfg(feature = "bench-spike")]
    spike: spike::Spike,
}

impl Core {
    fn fail(&mut self, e: Error) {
        self.last_error = Some(e.message());
    }

    fn ok(&mut self, r: Result<(), Error>) -> bool {
        match r {
            Ok(()) => true,
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn handle(&mut self, r: Result<u32, Error>) -> u32 {
        r.unwrap_or_else(|e| {
            self.fail(e);
            0
        })
    }

    fn text(&mut self, r: Result<String, Error>) -> Option<String> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }
}

#[cfg_attr(not(feature = "c-abi"), wasm_bindgen)]
impl Core {
    /// A tracer configured by `init()`'s options in the core's binary form
    /// ([`crate::commands::config_fields`]), stamping what it times itself (events) by
    /// `performance.timeOrigin` (`origin_ms`) plus `performance.now()`, the JS layer's clock
    /// (by `Date.now()` when `origin_ms` is not a positive number). The JS layer draws every
    /// span's ids; `seed_hi` and `seed_lo`, two random words from it, seed the ids of a start
    /// that carries none ([`SeededIds`]). An invalid configuration does not throw (a JS
    /// exception across the boundary would need wasm-bindgen's table of JS values, which nothing
    /// else in the core uses): the core is made with the defaults and says why in
    /// [`Core::last_error`], which the JS layer reads at once and throws (`init()`).
    #[cfg_attr(not(feature = "c-abi"), wasm_bindgen(constructor))]
    pub fn new(config: &[u8], origin_ms: f64, seed_hi: u32, seed_lo: u32) -> Core {
        let seed = u64::from(seed_hi) << 32 | u64::from(seed_lo);
        match crate::commands::config_fields(config).and_then(Config::from_fields) {
            Ok(c) => Core::with(c, origin_ms, seed),
            Err(e) => {
                let mut core = Core::with(Config::default(), origin_ms, seed);
                core.fail(e);
                core
            }
        }
    }

    /// Makes a new command buffer (see [`crate::commands`]) `cap` bytes long and returns where it
    /// is in wasm memory. It does not move until the next call of this method. With `keep` not 0,
    /// the first `keep` bytes of the buffer before it are kept, unapplied, for the next
    /// [`Core::run`] to apply first: the JS layer goes on recording spans without waiting for the
    /// core, and the spans applied from a kept buffer take its memory once it is freed.
    pub fn cmd_buffer(&mut self, cap: u32, keep: u32) -> u32 {
        let mut full = std::mem::replace(&mut self.cmd, vec![0; cap as usize]);
        if keep != 0 {
            full.truncate(keep as usize);
            self.kept.push(full);
        }
        self.cmd.as_ptr() as u32
    }

    /// Applies the buffers kept by [`Core::cmd_buffer`], in order, then the first `len` bytes of
    /// the command buffer. Returns flags: 1, a batch is ready; 2, some commands failed (see
    /// `last_error`); 4, a buffer was malformed (a bug).
    pub fn run(&mut self, len: u32) -> u32 {
        // Each kept buffer is freed once applied, for the spans applied from the next.
        let kept = std::mem::take(&mut self.kept)
            .into_iter()
            .fold(0, |flags, kept| flags | self.apply(&kept));
        let len = (len as usize).min(self.cmd.len());
        let cmd = std::mem::take(&mut self.cmd);
        let flags = self.apply(&cmd[..len]);
        self.cmd = cmd;
        flags | kept
    }
}

impl Core {
    fn apply(&mut self, commands: &[u8]) -> u32 {
        #[cfg(not(feature = "bench-spike"))]
        let flags = self.apply_commands(commands);
        // The spike encodes each span as it ends, then its bytes are dropped, as
        // bench/wasm-core.mjs runs it.
        #[cfg(feature = "bench-spike")]
        let flags = {
            self.spike.apply(commands);
            self.spike.out.clear();
            0
        };
        flags
    }
}

impl Core {
    fn apply_commands(&mut self, commands: &[u8]) -> u32 {
        let mut flags = 0;
        if let Err(e) = self.rec.apply(&mut self.t, commands) {
            self.fail(e);
            flags |= 4;
        }
        if self.rec.failed > 0 {
            if let Some(e) = self.rec.last_error.take() {
                if flags & 4 == 0 {
                    self.fail(e);
                }
            }
            flags |= 2;
        }
        if self.t.batch_ready() {
            flags |= 1;
        }
        flags
    }
}

#[cfg_attr(not(feature = "c-abi"), wasm_bindgen)]
impl Core {
    /// The next export body (protobuf when `protobuf`, else JSON), or undefined when nothing
    /// waits. `last_batch_spans` and `last_batch_oversize` describe it. A core built without the
    /// JSON encoder (the browser's default, cargo feature `protobuf-only`) gives undefined for
    /// JSON, with a `last_error` that says so.
    pub fn take_batch(&mut self, protobuf: bool) -> Option<Vec<u8>> {
        let f = if protobuf {
            Format::Protobuf
        } else if crate::otlp::encode::JSON {
            Format::Json
        } else {
            self.last_error = Some("this core was built without the OTLP/JSON encoder".into());
            return None;
        };
        let p = self.t.take_batch(f)?;
        self.last_spans = p.spans as u32;
        self.last_oversize = p.oversize;
        Some(p.body)
    }

    /// Writes the counters, in the order of [`STATS`], then the exporter's numbers, in the order
    /// of [`STATE`], as f64s into a table in wasm memory, and returns where it is (the JS layer
    /// names them and reads them before its next call into the core: no array crosses the
    /// boundary, which takes less code on both sides than an array, an object or a method per
    /// number).
    pub fn write_stats(&mut self) -> u32 {
        let s = self.t.stats();
        let d = &s.dropped;
        self.counts = [
            s.started,
            s.ended,
            s.exported,
            self.t.queued() as u64,
            self.t.open_spans() as u64,
            d.queue_full,
            d.queue_bytes,
            d.sampled_out,
            d.export_failed,
            d.total(),
            s.unknown_handles,
            s.out_of_order_ends,
            s.truncated_values,
            s.dropped_attributes,
            s.dropped_events,
            u64::from(self.t.batch_ready()),
            u64::from(self.last_spans),
            u64::from(self.last_oversize),
        ]
        .map(|v| v as f64);
        #[cfg(feature = "bench-spike")]
        {
            self.counts[1] = self.spike.spans as f64;
        }
        self.counts.as_ptr() as u32
    }

    /// The last error, taken (cleared) by this call.
    pub fn last_error(&mut self) -> Option<String> {
        self.last_error.take()
    }

    /// How many spans of the trace with id `trace_id` (32 hex digits) are open; 0 for an unknown
    /// trace or an id that is not one. Not in the browsers' size builds.
    #[cfg(not(feature = "size"))]
    pub fn trace_open(&self, trace_id: &str) -> u32 {
        crate::id::TraceId::from_hex(trace_id).map_or(0, |t| self.t.open_in_trace(&t))
    }

    /// Whether live span `h`'s trace was shed because the queue was three quarters full when it
    /// began (false for a span not live, and in a trace sampled out). Not in the browsers' size
    /// builds, which shed nothing.
    #[cfg(not(feature = "size"))]
    pub fn span_shed(&self, h: u32) -> bool {
        self.t.is_shed(h)
    }
}

/// Direct span calls for the wasm-bindgen tests (`tests/wasm_common`), left out of the wasm
/// exports, where each would cost a shim: the JS layer records every span operation as a
/// command (see [`crate::commands`]).
impl Core {
    fn with(config: Config, origin_ms: f64, seed: u64) -> Core {
        let origin = if origin_ms.is_finite() && origin_ms > 0.0 {
            origin_ms
        } else {
            0.0
        };
        Core {
            t: Tracer::new(
                config,
                Box::new(JsClock { origin }),
                Box::new(SeededIds::new(seed)),
            ),
            rec: Recorded::default(),
            cmd: Vec::new(),
            kept: Vec::new(),
            last_error: None,
            last_spans: 0,
            last_oversize: false,
            counts: [0.0; STATS_LEN],
            #[cfg(feature = "bench-spike")]
            spike: spike::Spike::default(),
        }
    }

    /// The numbers [`Core::write_stats`] writes, as an array.
    pub fn counts(&mut self) -> [f64; STATS_LEN] {
        self.write_stats();
        self.counts
    }

    /// A core configured from JSON ([`Config::from_json`]), on `Date.now()`, its ids seeded by
    /// `seed`.
    pub fn from_json_config(config_json: &str, seed: u64) -> Result<Core, Error> {
        Config::from_json(config_json).map(|c| Core::with(c, 0.0, seed))
    }

    /// The span's trace id as 32 hex digits (the JS layer draws the ids, and knows them).
    pub fn trace_id(&mut self, h: u32) -> Option<String> {
        let r = self.t.trace_id(h).map(|id| id.to_hex());
        self.text(r)
    }

    /// The `traceparent` header for a request made inside span `h` (the JS layer writes it from
    /// the ids it drew and the core's sampling rule).
    pub fn traceparent(&mut self, h: u32) -> Option<String> {
        let r = self.t.traceparent(h);
        self.text(r)
    }

    /// Starts a span continuing the trace of an incoming `traceparent`; 0 when the header is
    /// invalid. (The JS layer reads the header itself and records a `START` with the remote
    /// parent's ids.)
    pub fn start_remote(
        &mut self,
        ctx: u32,
        traceparent: &str,
        name: &str,
        span_type: &str,
    ) -> u32 {
        let r = crate::propagation::parse_traceparent(traceparent).and_then(|p| {
            self.t
                .start_span(ctx, Parent::Remote(p), name, SpanType::parse(span_type))
        });
        self.handle(r)
    }

    /// Sets inputs (JSON text).
    pub fn set_inputs(&mut self, h: u32, json: &str) -> bool {
        let r = self.t.set_inputs(h, json);
        self.ok(r)
    }

    /// Merges a trace update (JSON: tags, metadata, sessionId, userId, clientRequestId,
    /// requestPreview, responsePreview) into span `h`'s trace.
    pub fn update_trace(&mut self, h: u32, json: &str) -> bool {
        let r = crate::trace::TraceUpdate::from_json(json)
            .map_err(|e| Error::Decode(crate::text::cat(&["trace update: ", &e])))
            .and_then(|u| self.t.update_trace(h, u));
        self.ok(r)
    }

    /// Sets a string attribute.
    pub fn set_str(&mut self, h: u32, key: &str, value: &str) -> bool {
        let r = self.t.set_attribute(h, key, AttrValue::Str(value.into()));
        self.ok(r)
    }

    /// Sets a number attribute (integral values within ±2^53 are written as integers).
    pub fn set_num(&mut self, h: u32, key: &str, value: f64) -> bool {
        let r = self.t.set_attribute(h, key, number(value));
        self.ok(r)
    }

    /// Starts a span in context `ctx` under open span `parent`, or under the top of `ctx`'s stack
    /// when `parent` is 0. Returns its handle, or 0 on failure.
    pub fn start(&mut self, ctx: u32, parent: u32, name: &str, span_type: &str) -> u32 {
        let p = if parent == 0 {
            Parent::Current
        } else {
            Parent::Span(parent)
        };
        let r = self.t.start_span(ctx, p, name, SpanType::parse(span_type));
        self.handle(r)
    }

    /// Starts a new trace's root span. 0 on failure.
    pub fn start_root(&mut self, ctx: u32, name: &str, span_type: &str) -> u32 {
        let r = self
            .t
            .start_span(ctx, Parent::Root, name, SpanType::parse(span_type));
        self.handle(r)
    }

    /// Ends a span now; false if it was not open.
    pub fn end(&mut self, h: u32) -> bool {
        let r = self.t.end_span(h);
        self.ok(r)
    }
}
