//! W3C trace context: the `traceparent` header.
//!
//! `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`; flag bit 0 is "sampled".

use crate::error::Error;
use crate::id::{SpanId, TraceId};

/// A parent span in another process, taken from an incoming `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteParent {
    /// The trace to continue.
    pub trace_id: TraceId,
    /// The remote span to nest under.
    pub span_id: SpanId,
    /// Whether the remote side sampled this trace.
    pub sampled: bool,
}

/// Formats a `traceparent` header value.
///
/// ```
/// use edgetrace::{id::{SpanId, TraceId}, propagation::{format_traceparent, parse_traceparent}};
/// let t = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
/// let s = SpanId::from_hex("00f067aa0ba902b7").unwrap();
/// let h = format_traceparent(&t, &s, true);
/// assert_eq!(h, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// assert_eq!(parse_traceparent(&h).unwrap().span_id, s);
/// ```
pub fn format_traceparent(trace_id: &TraceId, span_id: &SpanId, sampled: bool) -> String {
    crate::text::cat(&[
        "00-",
        &trace_id.to_hex(),
        "-",
        &span_id.to_hex(),
        if sampled { "-01" } else { "-00" },
    ])
}

/// Parses a `traceparent` header value. Future versions (not `ff`) are read by their first four
/// fields, as the spec asks; zero ids and malformed fields are refused.
pub fn parse_traceparent(header: &str) -> Result<RemoteParent, Error> {
    let h = header.trim();
    let mut parts = h.split('-');
    let (Some(ver), Some(tid), Some(sid), Some(flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::InvalidTraceparent);
    };
    let extra = parts.next();
    let mut v = [0u8; 1];
    let mut f = [0u8; 1];
    if crate::id::decode_hex(ver, &mut v).is_none()
        || v[0] == 0xff
        || (v[0] == 0 && extra.is_some())
        || crate::id::decode_hex(flags, &mut f).is_none()
        || tid.bytes().any(|b| b.is_ascii_uppercase())
        || sid.bytes().any(|b| b.is_ascii_uppercase())
    {
        return Err(Error::InvalidTraceparent);
    }
    Ok(RemoteParent {
        trace_id: TraceId::from_hex(tid).map_err(|_| Error::InvalidTraceparent)?,
        span_id: SpanId::from_hex(sid).map_err(|_| Error::InvalidTraceparent)?,
        sampled: f[0] & 1 == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                parse_traceparent(bad),
                Err(Error::InvalidTraceparent),
                "{bad}"
            );
        }
        let p =
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x").unwrap();
        assert!(!p.sampled);
    }
}
