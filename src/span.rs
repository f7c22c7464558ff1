//! The data model of a span, as MLflow tracing defines it.
//!
//! [`SpanData`] is a finished span: plain data handed to the batch queue and the encoders, which
//! know nothing about contexts or handles. Live spans live in [`crate::context`].

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use crate::attribute::AttrValue;
use crate::id::{SpanId, TraceId};

/// What kind of work a span stands for. MLflow's eleven named types, or any custom string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpanType {
    /// A call to a completion-style language model.
    Llm,
    /// A call to a chat model.
    ChatModel,
    /// A chain of steps.
    Chain,
    /// An agent's turn.
    Agent,
    /// A tool call.
    Tool,
    /// A retrieval step.
    Retriever,
    /// An embedding call.
    Embedding,
    /// A parser.
    Parser,
    /// A reranker.
    Reranker,
    /// A memory read or write.
    Memory,
    /// Not known (MLflow's default).
    Unknown,
    /// Any other type, kept as given.
    Custom(String),
}

impl SpanType {
    /// The eleven named types, in MLflow's spelling.
    pub const NAMED: [&'static str; 11] = [
        "LLM",
        "CHAT_MODEL",
        "CHAIN",
        "AGENT",
        "TOOL",
        "RETRIEVER",
        "EMBEDDING",
        "PARSER",
        "RERANKER",
        "MEMORY",
        "UNKNOWN",
    ];

    /// Parses MLflow's spelling; an empty string is `UNKNOWN`, anything else unnamed is custom.
    ///
    /// ```
    /// use edgetrace::span::SpanType;
    /// assert_eq!(SpanType::parse("CHAT_MODEL"), SpanType::ChatModel);
    /// assert_eq!(SpanType::parse("GUARDRAIL").as_str(), "GUARDRAIL");
    /// ```
    pub fn parse(s: &str) -> SpanType {
        match s {
            "LLM" => SpanType::Llm,
            "CHAT_MODEL" => SpanType::ChatModel,
            "CHAIN" => SpanType::Chain,
            "AGENT" => SpanType::Agent,
            "TOOL" => SpanType::Tool,
            "RETRIEVER" => SpanType::Retriever,
            "EMBEDDING" => SpanType::Embedding,
            "PARSER" => SpanType::Parser,
            "RERANKER" => SpanType::Reranker,
            "MEMORY" => SpanType::Memory,
            "UNKNOWN" | "" => SpanType::Unknown,
            other => SpanType::Custom(other.to_owned()),
        }
    }

    /// Whether MLflow gives spans of this type the INFO log level ([`log_level`]): model calls,
    /// tools, retrievals, agent turns and embeddings.
    pub fn is_info(&self) -> bool {
        matches!(
            self,
            SpanType::Llm
                | SpanType::ChatModel
                | SpanType::Tool
                | SpanType::Retriever
                | SpanType::Agent
                | SpanType::Embedding
        )
    }

    /// MLflow's spelling, written as the plain string value of `mlflow.spanType`.
    pub fn as_str(&self) -> &str {
        match self {
            SpanType::Llm => "LLM",
            SpanType::ChatModel => "CHAT_MODEL",
            SpanType::Chain => "CHAIN",
            SpanType::Agent => "AGENT",
            SpanType::Tool => "TOOL",
            SpanType::Retriever => "RETRIEVER",
            SpanType::Embedding => "EMBEDDING",
            SpanType::Parser => "PARSER",
            SpanType::Reranker => "RERANKER",
            SpanType::Memory => "MEMORY",
            SpanType::Unknown => "UNKNOWN",
            SpanType::Custom(s) => s,
        }
    }
}

/// A span's MLflow log level (`mlflow.spanLogLevel`), as MLflow gives its own spans when they end
/// (mlflow/tracing/utils/default_log_level.py): ERROR (40) when it `failed` (ERROR status, or an
/// `exception` event), INFO (20) for the kinds a user looks for (`info`: [`SpanType::is_info`]),
/// which the UI shows at its default filter. The others are DEBUG (10), which MLflow's UI reads
/// for a span that has none, so they get none (the bytes of an attribute on most spans). The server
/// cores and the ingest service both set it by this.
pub fn log_level(failed: bool, info: bool) -> Option<i64> {
    if failed {
        Some(40)
    } else if info {
        Some(20)
    } else {
        None
    }
}

impl fmt::Display for SpanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status code of a span, numbered as in OTLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusCode {
    /// Not set (OTLP 0).
    #[default]
    Unset = 0,
    /// Succeeded (OTLP 1).
    Ok = 1,
    /// Failed (OTLP 2).
    Error = 2,
}

impl StatusCode {
    /// From the OTLP number; unknown numbers are `Unset`.
    pub fn from_i32(n: i32) -> StatusCode {
        match n {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }
}

/// A span's status: a code and, for errors, a message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// The code.
    pub code: StatusCode,
    /// A description, meaningful for `Error`. A `Box<str>`, not a `String`: a word less on every
    /// buffered span (see [`SpanData`]).
    pub message: Box<str>,
}

/// Something that happened at a point in a span's life, such as an exception.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's name (`exception` for exceptions, as in OpenTelemetry).
    pub name: String,
    /// When, in ns since the Unix epoch.
    pub time_ns: u64,
    /// Its attributes (`exception.type`, `exception.message`, `exception.stacktrace`, …).
    pub attributes: Vec<(String, AttrValue)>,
}

/// A span's events, in order. Most spans have none, so they are held behind one pointer (a word
/// in wasm memory) rather than in a `Vec`'s three (see [`SpanData`]). Reads as a slice.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(clippy::box_collection)] // the box is the point: one word on a span without events
pub struct Events(Option<Box<Vec<Event>>>);

impl Events {
    /// Adds an event at the end.
    pub fn push(&mut self, event: Event) {
        self.0.get_or_insert_with(Default::default).push(event);
    }
}

impl Deref for Events {
    type Target = [Event];
    fn deref(&self) -> &[Event] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl DerefMut for Events {
    fn deref_mut(&mut self) -> &mut [Event] {
        self.0.as_deref_mut().map_or(&mut [], Vec::as_mut_slice)
    }
}

impl From<Vec<Event>> for Events {
    fn from(events: Vec<Event>) -> Events {
        Events((!events.is_empty()).then(|| Box::new(events)))
    }
}

impl FromIterator<Event> for Events {
    fn from_iter<I: IntoIterator<Item = Event>>(events: I) -> Events {
        events.into_iter().collect::<Vec<_>>().into()
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// An attribute key or a span name. Shared, not copied: the keys the JS layer records are
/// interned once, and every span that sets one holds the same allocation. One pointer (4 bytes in
/// wasm) to a shared `Box<str>`, not an `Rc<str>`'s pointer and length: with its [`AttrValue`],
/// each attribute of each buffered span takes 16 bytes. Reads as a `str`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Rc<Box<str>>);

impl Key {
    /// Whether `a` and `b` are the same allocation (so the same text, without comparing it).
    pub fn ptr_eq(a: &Key, b: &Key) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

impl Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key(Rc::new(s.into()))
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        Key(Rc::new(s.into_boxed_str()))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// A finished span: everything the encoders need, nothing they do not.
///
/// Every buffered span holds one, so its size is memory per span: text the span may not have is a
/// `Box<str>` (two words in wasm) rather than a `String` (three), and events sit behind a pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanData {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its own id.
    pub span_id: SpanId,
    /// Its parent, `None` for a trace's root.
    pub parent_span_id: Option<SpanId>,
    /// Its name (shared, like attribute keys: the JS layer's span names are interned).
    pub name: Key,
    /// Its MLflow span type.
    pub span_type: SpanType,
    /// Start, ns since the Unix epoch.
    pub start_ns: u64,
    /// End, ns since the Unix epoch.
    pub end_ns: u64,
    /// Inputs as JSON text (`mlflow.spanInputs`).
    pub inputs: Option<Box<str>>,
    /// Outputs as JSON text (`mlflow.spanOutputs`).
    pub outputs: Option<Box<str>>,
    /// Other attributes, in the order first set; a key appears once.
    pub attributes: Vec<(Key, AttrValue)>,
    /// Events, in order.
    pub events: Events,
    /// Its status.
    pub status: Status,
}

// What a buffered span takes in wasm memory, kept from growing back unnoticed: the wasm builds fail
// if a change makes these bigger (bench/memory-runtimes.mjs measures the whole span, 234 B in the
// benchmarks' nested scenario in session 29, against 283 B before these were cut).
#[cfg(target_arch = "wasm32")]
const _: () = {
    assert!(core::mem::size_of::<SpanData>() == 112);
    assert!(core::mem::size_of::<AttrValue>() == 12);
    assert!(core::mem::size_of::<(Key, AttrValue)>() == 16);
};

impl SpanData {
    /// Whether the encoders add the tag that names the span's trace
    /// ([`crate::trace::TRACE_NAME`], its name): a trace is named after its root span, as
    /// MLflow's own SDKs name it (the MLflow UI lists traces by it, `trace.name` searches find
    /// them). MLflow reads tags from the span with no parent only. Written when encoded, so no
    /// buffered span holds it.
    pub fn names_its_trace(&self) -> bool {
        self.parent_span_id.is_none()
    }

    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&AttrValue> {
        self.attributes
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| v)
    }

    /// Whether this span is its trace's root.
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_type_round_trips() {
        for name in SpanType::NAMED {
            let t = SpanType::parse(name);
            assert!(!matches!(t, SpanType::Custom(_)), "{name}");
            assert_eq!(t.as_str(), name);
        }
        assert_eq!(SpanType::parse(""), SpanType::Unknown);
        assert_eq!(
            SpanType::parse("chat_model"),
            SpanType::Custom("chat_model".into())
        );
    }
}
