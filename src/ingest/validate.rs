//! Decoding and validating an incoming OTLP request: ids, times, nesting, sizes.
//!
//! Everything here either refuses the whole request (nothing half-accepted) or bounds a value in
//! place and counts it. Validation never echoes attribute values into a refusal message.

use prost::Message;

use super::refusal::{Refusal, RefusalKind};
use crate::attribute::truncate_text;
use crate::otlp::wire::{self, AnyValue, ExportTraceServiceRequest, KeyValue, Value};
use crate::otlp::Format;

/// 2000-01-01T00:00:00Z in ns since the Unix epoch: no real span starts before it.
pub const EARLIEST_NS: u64 = 946_684_800_000_000_000;

/// Decodes a body in `format`, refusing malformed bodies, invalid UTF-8 and too-deep values.
pub fn decode(body: &[u8], format: Format) -> Result<ExportTraceServiceRequest, Refusal> {
    match format {
        Format::Json => {
            if let Err(e) = std::str::from_utf8(body) {
                return Err(Refusal::new(
                    RefusalKind::InvalidUtf8,
                    format!(
                        "body is not UTF-8 (first bad byte at offset {})",
                        e.valid_up_to()
                    ),
                ));
            }
            if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(Refusal::new(
                    RefusalKind::MalformedJson,
                    "not OTLP/JSON: the body must be a JSON object",
                ));
            }
            serde_json::from_slice(body).map_err(|e| {
                let why = e.to_string();
                if why.contains(wire::BAD_HEX_ID) {
                    Refusal::new(RefusalKind::InvalidId, why)
                } else if why.contains("recursion limit") {
                    Refusal::new(RefusalKind::TooDeep, "values nest too deeply to decode")
                } else {
                    Refusal::new(RefusalKind::MalformedJson, format!("not OTLP/JSON: {why}"))
                }
            })
        }
        Format::Protobuf => ExportTraceServiceRequest::decode(body).map_err(|e| {
            let why = e.to_string();
            if why.contains("UTF-8") {
                Refusal::new(RefusalKind::InvalidUtf8, "a string field is not UTF-8")
            } else if why.contains("recursion limit") {
                Refusal::new(RefusalKind::TooDeep, "values nest too deeply to decode")
            } else {
                Refusal::new(
                    RefusalKind::MalformedProtobuf,
                    format!("not an OTLP ExportTraceServiceRequest: {why}"),
                )
            }
        }),
    }
}

/// The limits validation applies.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Most spans in one request.
    pub max_spans: usize,
    /// Longest string attribute value, in bytes; longer ones are cut and counted.
    pub max_value_bytes: usize,
    /// Deepest nesting of array and key-value-list attribute values.
    pub max_depth: usize,
    /// Most attributes a span keeps.
    pub max_attributes: usize,
    /// Now, ns since the Unix epoch.
    pub now_ns: u64,
    /// How far past `now_ns` a time may be (sender clocks are not exact).
    pub max_future_ns: u64,
}

/// What validation found: spans, distinct traces, values cut.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Spans in the request.
    pub spans: usize,
    /// Its distinct trace ids, sorted.
    pub trace_ids: Vec<[u8; 16]>,
    /// String values and names cut to the size limit.
    pub truncated: usize,
}

/// How many spans `req` holds, over all its resources and scopes.
pub fn span_count(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Validates `req` in place: refuses bad ids, times, nesting and too many spans; cuts long values.
pub fn validate(req: &mut ExportTraceServiceRequest, b: &Bounds) -> Result<Counts, Refusal> {
    let spans = span_count(req);
    if spans > b.max_spans {
        return Err(Refusal::new(
            RefusalKind::TooManySpans,
            format!("{spans} spans in one request; the limit is {}", b.max_spans),
        ));
    }
    let mut counts = Counts {
        spans,
        ..Counts::default()
    };
    let latest = b.now_ns.saturating_add(b.max_future_ns);
    for (ri, rs) in req.resource_spans.iter_mut().enumerate() {
        if let Some(r) = &mut rs.resource {
            counts.truncated += bound_attrs(&mut r.attributes, b, "resource")?;
        }
        for ss in &mut rs.scope_spans {
            if let Some(scope) = &mut ss.scope {
                counts.truncated += bound_attrs(&mut scope.attributes, b, "scope")?;
            }
            for (si, span) in ss.spans.iter_mut().enumerate() {
                let at = || format!("resourceSpans[{ri}] span {si}");
                check_id(&span.trace_id, 16, false).map_err(|why| {
                    Refusal::new(RefusalKind::InvalidId, format!("{}: traceId {why}", at()))
                })?;
                check_id(&span.span_id, 8, false).map_err(|why| {
                    Refusal::new(RefusalKind::InvalidId, format!("{}: spanId {why}", at()))
                })?;
                check_id(&span.parent_span_id, 8, true).map_err(|why| {
                    Refusal::new(
                        RefusalKind::InvalidId,
                        format!("{}: parentSpanId {why}", at()),
                    )
                })?;
                check_time(span.start_time_unix_nano, latest)
                    .map_err(|why| time_refusal(&at(), "startTimeUnixNano", why))?;
                check_time(span.end_time_unix_nano, latest)
                    .map_err(|why| time_refusal(&at(), "endTimeUnixNano", why))?;
                if span.end_time_unix_nano < span.start_time_unix_nano {
                    return Err(Refusal::new(
                        RefusalKind::InvalidTimestamp,
                        format!("{}: ends before it starts", at()),
                    ));
                }
                for link in &span.links {
                    check_id(&link.trace_id, 16, false)
                        .and_then(|()| check_id(&link.span_id, 8, false))
                        .map_err(|why| {
                            Refusal::new(
                                RefusalKind::InvalidId,
                                format!("{}: a link id {why}", at()),
                            )
                        })?;
                }
                if truncate_text(&mut span.name, b.max_value_bytes) {
                    counts.truncated += 1;
                }
                counts.truncated += usize::from(cap_attributes(span, b.max_attributes));
                counts.truncated += bound_attrs(&mut span.attributes, b, "span")?;
                for ev in &mut span.events {
                    counts.truncated += bound_attrs(&mut ev.attributes, b, "event")?;
                }
                for link in &mut span.links {
                    counts.truncated += bound_attrs(&mut link.attributes, b, "link")?;
                }
                let mut id = [0u8; 16];
                id.copy_from_slice(&span.trace_id);
                counts.trace_ids.push(id);
            }
        }
    }
    counts.trace_ids.sort_unstable();
    counts.trace_ids.dedup();
    Ok(counts)
}

fn check_id(id: &[u8], len: usize, may_be_empty: bool) -> Result<(), &'static str> {
    if id.is_empty() {
        return if may_be_empty {
            Ok(())
        } else {
            Err("is missing")
        };
    }
    if id.len() != len {
        return Err(if len == 16 {
            "must be 16 bytes (32 hex digits)"
        } else {
            "must be 8 bytes (16 hex digits)"
        });
    }
    if id.iter().all(|&b| b == 0) {
        return Err("is all zeros");
    }
    Ok(())
}

fn check_time(ns: u64, latest: u64) -> Result<(), &'static str> {
    if ns < EARLIEST_NS {
        Err("is before 2000-01-01 (is it in seconds or ms instead of ns?)")
    } else if ns > latest {
        Err("is in the future beyond the allowed clock skew")
    } else {
        Ok(())
    }
}

fn time_refusal(at: &str, field: &str, why: &str) -> Refusal {
    Refusal::new(
        RefusalKind::InvalidTimestamp,
        format!("{at}: {field} {why}"),
    )
}

/// Keeps at most `max` of a span's attributes, MLflow's own (`mlflow.*`) first, counting the rest
/// in its `dropped_attributes_count` as OTLP does; true when it dropped any. Each attribute costs
/// the redaction's patterns a pass, so a span of 150,000 took seconds of a Worker's CPU.
fn cap_attributes(span: &mut wire::Span, max: usize) -> bool {
    let n = span.attributes.len();
    if n <= max {
        return false;
    }
    span.attributes
        .sort_by_key(|kv| !kv.key.starts_with("mlflow."));
    span.attributes.truncate(max);
    let dropped = u32::try_from(n - max).unwrap_or(u32::MAX);
    span.dropped_attributes_count = span.dropped_attributes_count.saturating_add(dropped);
    true
}

/// Cuts long strings and refuses values nested deeper than the limit; returns how many were cut.
fn bound_attrs(attrs: &mut [KeyValue], b: &Bounds, what: &str) -> Result<usize, Refusal> {
    let mut cut = 0;
    for kv in attrs {
        if let Some(v) = &mut kv.value {
            cut += bound_value(v, 1, b).map_err(|()| {
                Refusal::new(
                    RefusalKind::TooDeep,
                    format!(
                        "{what} attribute {:?} nests deeper than {} levels",
                        shorten(&kv.key),
                        b.max_depth
                    ),
                )
            })?;
        }
    }
    Ok(cut)
}

fn bound_value(v: &mut AnyValue, depth: usize, b: &Bounds) -> Result<usize, ()> {
    match &mut v.value {
        Some(Value::StringValue(s)) => {
            let flat = flatten_deep_json(s);
            let cut = truncate_value(s, b.max_value_bytes);
            Ok(usize::from(flat || cut))
        }
        Some(Value::BytesValue(bytes)) if bytes.len() > b.max_value_bytes => {
            bytes.truncate(b.max_value_bytes);
            Ok(1)
        }
        Some(Value::ArrayValue(a)) => {
            if depth >= b.max_depth {
                return Err(());
            }
            let mut n = 0;
            for item in &mut a.values {
                n += bound_value(item, depth + 1, b)?;
            }
            Ok(n)
        }
        Some(Value::KvlistValue(l)) => {
            if depth >= b.max_depth {
                return Err(());
            }
            let mut n = 0;
            for kv in &mut l.values {
                if let Some(item) = &mut kv.value {
                    n += bound_value(item, depth + 1, b)?;
                }
            }
            Ok(n)
        }
        _ => Ok(0),
    }
}

/// JSON text nested deeper than this is relayed as a string: MLflow parses attribute values as
/// JSON, and fails on text nested about 1,000 deep (Python's recursion limit), refusing the whole
/// request with it.
pub const MAX_JSON_TEXT_DEPTH: usize = 100;

/// Turns JSON text (an object or array) nested deeper than [`MAX_JSON_TEXT_DEPTH`] into a JSON
/// string of that text, which MLflow stores as it is; true when it did. Brackets inside the
/// text's strings do not count.
fn flatten_deep_json(s: &mut String) -> bool {
    if !matches!(s.as_bytes().first(), Some(b'{' | b'[')) {
        return false;
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in super::values::outside_strings(s.as_bytes()) {
        match c {
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest <= MAX_JSON_TEXT_DEPTH {
        return false;
    }
    *s = serde_json::Value::String(core::mem::take(s)).to_string();
    true
}

/// Cuts a string value, keeping JSON text valid JSON.
fn truncate_value(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let looks_json = matches!(s.as_bytes().first(), Some(b'{' | b'[' | b'"'));
    match looks_json.then(|| serde_json::from_str::<serde_json::Value>(s)) {
        Some(Ok(v)) => {
            // JSON keeps its shape where cutting its longest strings is enough (a chat request's
            // long message), so MLflow still reads its messages; else it becomes one cut string.
            *s = crate::llm::fit::fit_json(&v, core::mem::take(s), max).0;
            if s.len() > max {
                crate::attribute::truncate_json(s, max);
            }
            true
        }
        _ => truncate_text(s, max),
    }
}

/// An attribute key cut for a message.
fn shorten(key: &str) -> &str {
    let mut end = key.len().min(64);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}
