//! The core's one error type.
//!
//! Every fallible core operation returns [`Error`]; the bindings turn it into a JS value exactly
//! once. No API path panics on input from JS.

use std::fmt;

use crate::text::{cat, dec};

/// What can go wrong in the core.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An id string or byte slice was not a valid, non-zero trace or span id.
    InvalidId(&'static str),
    /// A span handle that is not open: never issued, or already ended.
    UnknownSpan(u32),
    /// A context id that is not open.
    UnknownContext(u32),
    /// A span handle chosen by the caller that is open already (or not the caller's to choose).
    HandleInUse(u32),
    /// A context id chosen by the caller that is open already.
    ContextInUse(u32),
    /// A `traceparent` header that does not follow W3C trace context.
    InvalidTraceparent,
    /// A configuration value that cannot be used.
    InvalidConfig(String),
    /// Input bytes that could not be decoded (JSON, protobuf, SSE).
    Decode(String),
}

impl Error {
    /// The message, as `Display` writes it (built without `core::fmt`, see [`crate::text`]).
    pub fn message(&self) -> String {
        let n = |v: &u32| dec(*v as usize);
        match self {
            Error::InvalidId(why) => cat(&["invalid id: ", why]),
            Error::UnknownSpan(h) => cat(&[
                "span handle ",
                &n(h),
                " is not open (never started or already ended)",
            ]),
            Error::UnknownContext(c) => cat(&["context ", &n(c), " is not open"]),
            Error::HandleInUse(h) => {
                cat(&["span handle ", &n(h), " is in use or not a caller's handle"])
            }
            Error::ContextInUse(c) => cat(&["context ", &n(c), " is open already"]),
            Error::InvalidTraceparent => "invalid traceparent header".into(),
            Error::InvalidConfig(why) => cat(&["invalid configuration: ", why]),
            Error::Decode(why) => cat(&["cannot decode: ", why]),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}
