//! Helpers shared by the behaviour tests: a deterministic tracer, decoders for both wire formats
//! and small accessors for decoded spans.
#![allow(dead_code)]

use edgetrace::attribute::AttrValue;
use edgetrace::clock::ManualClock;
use edgetrace::id::SequentialIds;
use edgetrace::otlp::wire::{self, ExportTraceServiceRequest};
use edgetrace::otlp::{Format, Payload};
use edgetrace::tracer::{Config, Tracer};
use prost::Message;

/// Where every test clock starts: 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000_000_000_000;

/// A tracer with a manual clock at [`T0`] and sequential ids.
pub fn tracer(config: Config) -> (Tracer, ManualClock) {
    let clock = ManualClock::new(T0);
    let t = Tracer::new(
        config,
        Box::new(clock.clone()),
        Box::new(SequentialIds::default()),
    );
    (t, clock)
}

/// Decodes an OTLP/JSON body with the crate's serde types.
pub fn decode_json(body: &[u8]) -> ExportTraceServiceRequest {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "body is not OTLP/JSON: {e}\n{}",
            String::from_utf8_lossy(body)
        )
    })
}

/// Decodes an OTLP protobuf body with prost.
pub fn decode_proto(body: &[u8]) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest::decode(body).expect("body is not OTLP protobuf")
}

/// Decodes a payload in whichever format it is.
pub fn decode(p: &Payload) -> ExportTraceServiceRequest {
    match p.format {
        Format::Json => decode_json(&p.body),
        Format::Protobuf => decode_proto(&p.body),
    }
}

/// All spans of a request, in order.
pub fn spans(req: &ExportTraceServiceRequest) -> Vec<wire::Span> {
    req.resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter().cloned())
        .collect()
}

/// Takes batches until the queue is empty.
pub fn drain(t: &mut Tracer, format: Format) -> Vec<Payload> {
    let mut out = Vec::new();
    while let Some(p) = t.take_batch(format) {
        out.push(p);
    }
    out
}

/// Every span exported from now on, in order, decoded.
pub fn export_all(t: &mut Tracer, format: Format) -> Vec<wire::Span> {
    drain(t, format)
        .iter()
        .flat_map(|p| spans(&decode(p)))
        .collect()
}

/// The span called `name`; panics when there is not exactly one.
pub fn by_name<'a>(spans: &'a [wire::Span], name: &str) -> &'a wire::Span {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span named {name:?}, found {}",
        found.len()
    );
    found[0]
}

/// The value of attribute `key`.
pub fn attr<'a>(span: &'a wire::Span, key: &str) -> Option<&'a wire::Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The value of string attribute `key`.
pub fn str_attr<'a>(span: &'a wire::Span, key: &str) -> Option<&'a str> {
    match attr(span, key) {
        Some(wire::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// A string attribute value.
pub fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.into())
}

/// Span id bytes for the `n`th id [`SequentialIds`] hands out.
pub fn seq_span_id(n: u64) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// Trace id bytes for the `n`th id [`SequentialIds`] hands out.
pub fn seq_trace_id(n: u128) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// The last value a model call's outcome sets for attribute `k`.
pub fn outcome_attr<'a>(o: &'a edgetrace::llm::Outcome, k: &str) -> Option<&'a AttrValue> {
    o.attributes
        .iter()
        .rev()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v)
}

/// A model call's outcome's attribute `k`, parsed as the JSON text it holds (`null` when unset).
pub fn outcome_json(o: &edgetrace::llm::Outcome, k: &str) -> serde_json::Value {
    serde_json::from_str(
        outcome_attr(o, k)
            .and_then(AttrValue::as_str)
            .unwrap_or("null"),
    )
    .unwrap()
}
