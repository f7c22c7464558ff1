//! The OTLP decoder under test and the round-trip checks both OTLP targets run.

use edgetrace::otlp::wire::{AnyValue, ExportTraceServiceRequest, KeyValue, Value};
use edgetrace::otlp::Format;
use prost::Message;

/// Decodes an OTLP/HTTP body as the service that receives it would. Every OTLP target calls
/// this, so pointing the targets at another entry point (such as
/// `edgetrace::ingest::validate::decode(body, format).ok()`) is a change of this one line.
pub fn decode(body: &[u8], format: Format) -> Option<ExportTraceServiceRequest> {
    decode_wire(body, format)
}

/// The wire types' own decoders: serde for OTLP/JSON, prost for protobuf.
pub fn decode_wire(body: &[u8], format: Format) -> Option<ExportTraceServiceRequest> {
    match format {
        Format::Json => serde_json::from_slice(body).ok(),
        Format::Protobuf => ExportTraceServiceRequest::decode(body).ok(),
    }
}

/// Checks that what was decoded survives re-encoding in both formats:
/// - protobuf: encode → decode → encode gives the same bytes, and `encoded_len` is exact;
/// - OTLP/JSON: the JSON encoding decodes again, to a message with the same protobuf bytes
///   (nothing is lost or changed on the way through JSON), and re-encodes to the same JSON.
///
/// Bytes are compared rather than messages, because a NaN double is never equal to itself.
/// OTLP/JSON writes every NaN as `"NaN"`, so NaN payload bits are made canonical before the
/// comparison through JSON.
pub fn check_round_trips(req: &ExportTraceServiceRequest) {
    let pb = req.encode_to_vec();
    assert_eq!(
        req.encoded_len(),
        pb.len(),
        "encoded_len is not the real length"
    );
    let again = decode(&pb, Format::Protobuf).expect("our own protobuf encoding must decode");
    assert_eq!(
        again.encode_to_vec(),
        pb,
        "protobuf round trip changed the message"
    );

    let mut canonical = req.clone();
    canonical_nans(&mut canonical);
    let req = &canonical;
    let pb = req.encode_to_vec();

    let json = serde_json::to_vec(req).expect("a decoded request must serialize to JSON");
    let from_json = match decode(&json, Format::Json) {
        Some(r) => r,
        None => panic!(
            "our own OTLP/JSON encoding must decode: {}",
            String::from_utf8_lossy(&json)
        ),
    };
    if from_json.encode_to_vec() != pb {
        panic!(
            "OTLP/JSON round trip changed the message\n json: {}\n before: {:?}\n after:  {:?}",
            String::from_utf8_lossy(&json),
            req,
            from_json
        );
    }
    let json_again = serde_json::to_vec(&from_json).expect("serializes");
    assert_eq!(
        json_again, json,
        "OTLP/JSON is not stable under re-encoding"
    );
}

/// Replaces every NaN double (any sign or payload) by `f64::NAN`.
pub fn canonical_nans(req: &mut ExportTraceServiceRequest) {
    fn kvs(list: &mut [KeyValue]) {
        for kv in list {
            if let Some(v) = &mut kv.value {
                any(v);
            }
        }
    }
    fn any(v: &mut AnyValue) {
        match &mut v.value {
            Some(Value::DoubleValue(d)) if d.is_nan() => *d = f64::NAN,
            Some(Value::ArrayValue(a)) => a.values.iter_mut().for_each(any),
            Some(Value::KvlistValue(l)) => kvs(&mut l.values),
            _ => {}
        }
    }
    for rs in &mut req.resource_spans {
        if let Some(r) = &mut rs.resource {
            kvs(&mut r.attributes);
        }
        for ss in &mut rs.scope_spans {
            if let Some(s) = &mut ss.scope {
                kvs(&mut s.attributes);
            }
            for span in &mut ss.spans {
                kvs(&mut span.attributes);
                span.events.iter_mut().for_each(|e| kvs(&mut e.attributes));
                span.links.iter_mut().for_each(|l| kvs(&mut l.attributes));
            }
        }
    }
}
