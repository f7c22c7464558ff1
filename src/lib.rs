//! edgetrace: a tracing runtime for LLM applications in browsers, on Cloudflare Workers and in
//! Node, delivering traces to MLflow.
//!
//! This crate is the core that the npm package runs as WebAssembly. It is pure Rust with no JS
//! types, so it is tested and measured natively; [`bindings`] (wasm32 only) is the one module
//! that knows about JS.
//!
//! The primitives:
//! - [`id`]: 16-byte trace ids and 8-byte span ids, hex and MLflow (`tr-…`) forms.
//! - [`clock`]: the injected clock.
//! - [`config`]: the configuration and its JSON form.
//! - [`json`]: the core's small JSON reader and string writer (serde_json stays out of the core).
//! - [`span`]: MLflow's span model: types, status, events, finished [`span::SpanData`].
//! - [`attribute`]: attribute values and the limits that bound them.
//! - [`trace`]: trace-level info (tags, metadata, session, user).
//! - [`context`]: the context table, one stack of open spans per concurrent flow.
//! - [`tracer`]: live spans by handle, tying the rest together.
//! - [`commands`]: span operations recorded by the JS layer and applied in one call.
//! - [`batch`]: the bounded queue and its batches.
//! - [`otlp`]: OTLP/HTTP JSON and protobuf encoders, following MLflow's attribute conventions.
//! - [`propagation`]: W3C `traceparent`.
//! - [`llm`]: model API calls: request, response and SSE parsing, token usage, cost. In wasm
//!   they are a module of their own (`llm_bindings`, cargo feature `llm-module`), loaded on the
//!   first model call, so the core every page loads does not carry them.
//! - [`ingest`]: the ingest service's core: decode, validate, convert, redact, re-encode.
#![warn(missing_docs)]

// The fused spike (cargo feature `bench-spike`, benchmarks only) names this crate `edgetrace`,
// as the examples that share it do.
#[cfg(feature = "bench-spike")]
extern crate self as edgetrace;

pub mod attribute;
pub mod batch;
pub mod clock;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod id;
#[cfg(any(feature = "ingest", not(target_arch = "wasm32")))]
pub mod ingest;
pub mod json;
pub mod keymap;
pub mod llm;
pub mod otlp;
pub mod propagation;
pub mod span;
pub mod text;
pub mod trace;
pub mod tracer;

#[cfg(all(target_arch = "wasm32", not(feature = "llm-module")))]
pub mod bindings;

#[cfg(all(target_arch = "wasm32", feature = "c-abi", not(feature = "llm-module")))]
pub mod abi;

#[cfg(all(target_arch = "wasm32", feature = "llm-module"))]
pub mod llm_bindings;

#[cfg(all(target_arch = "wasm32", feature = "ingest"))]
pub mod ingest_bindings;

pub use error::Error;

/// The allocator in wasm: talc instead of Rust's default dlmalloc (a third of the size in the
/// module, and faster for the small, short-lived allocations of spans; measured in issue 7's
/// benchmarks, `bench/RESULTS.md`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::cell::TalcSyncCell<wasm_heap::GrowInSteps, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(wasm_heap::GrowInSteps::new());

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod wasm_heap;
