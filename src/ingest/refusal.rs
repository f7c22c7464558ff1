//! Why a request was refused: one kind per bad input, each with its HTTP status and a stable code.
//!
//! The ingest service answers every refusal with `{"error":"<code>","message":"<one line>"}` and
//! relays nothing from that request. The kinds decided by the core are here; the ones decided
//! before the body is read (keys, origins, content type, size) live in the service's JS, with the
//! same shape.

use std::fmt;

/// A kind of bad request body.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The body is not OTLP/JSON.
    MalformedJson,
    /// The body is not an OTLP protobuf `ExportTraceServiceRequest`.
    MalformedProtobuf,
    /// A string in the body is not valid UTF-8.
    InvalidUtf8,
    /// A trace or span id is missing, all zeros, the wrong length, or not hex.
    InvalidId,
    /// A span time is before 2000, too far in the future, or ends before it starts.
    InvalidTimestamp,
    /// More spans than the per-request limit.
    TooManySpans,
    /// An attribute value nested deeper than the limit.
    TooDeep,
    /// More values (spans, attributes, their elements) than the per-request limit.
    TooManyValues,
    /// Feedback on a trace that is not MLflow's `CreateAssessment` of a feedback.
    InvalidAssessment,
}

impl RefusalKind {
    /// The HTTP status the service answers with.
    pub fn status(self) -> u16 {
        match self {
            RefusalKind::TooManySpans | RefusalKind::TooManyValues => 413,
            _ => 400,
        }
    }

    /// The stable machine-readable code (the `error` field of the reply).
    pub fn code(self) -> &'static str {
        match self {
            RefusalKind::MalformedJson => "malformed_json",
            RefusalKind::MalformedProtobuf => "malformed_protobuf",
            RefusalKind::InvalidUtf8 => "invalid_utf8",
            RefusalKind::InvalidId => "invalid_id",
            RefusalKind::InvalidTimestamp => "invalid_timestamp",
            RefusalKind::TooManySpans => "too_many_spans",
            RefusalKind::TooDeep => "attribute_too_deep",
            RefusalKind::TooManyValues => "too_many_values",
            RefusalKind::InvalidAssessment => "invalid_assessment",
        }
    }
}

/// A refused request: its kind and a one-line reason naming what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The kind.
    pub kind: RefusalKind,
    /// One line, safe to show to the sender (never echoes attribute values).
    pub message: String,
}

impl Refusal {
    /// A refusal of `kind` with `message`.
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Refusal {
        let mut message: String = message.into();
        message.retain(|c| c != '\n' && c != '\r');
        Refusal { kind, message }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for Refusal {}
