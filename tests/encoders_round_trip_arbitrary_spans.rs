//! Property tests: for arbitrary span names, attribute values, inputs and events, the protobuf
//! body decodes (prost) and the JSON body decodes (serde) to exactly `span_to_wire`; ids round
//! trip through hex; truncation always leaves valid JSON within the limit; batches keep the cap.

mod common;

use common::*;
use edgetrace::attribute::{truncate_json, truncate_text, AttrValue, TRUNCATION_MARKER};
use edgetrace::batch::{BatchConfig, BatchQueue};
use edgetrace::id::{SpanId, TraceId};
use edgetrace::otlp::encode::span_to_wire;
use edgetrace::otlp::{wire, Encoder, Format, Resource};
use edgetrace::span::{Event, SpanData, SpanType, Status, StatusCode};
use proptest::collection::vec;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 _.-]{0,40}",
        "[\"\\\\\\n\\t\\u{0}-\\u{1f}éü€😀]{0,40}",
    ]
}

fn attr_value() -> impl Strategy<Value = AttrValue> {
    prop_oneof![
        text().prop_map(AttrValue::from),
        any::<i64>().prop_map(AttrValue::from),
        any::<f64>().prop_map(AttrValue::from),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0)
        ]
        .prop_map(AttrValue::from),
        any::<bool>().prop_map(AttrValue::Bool),
        text().prop_map(|s| AttrValue::Json(serde_json::json!({ "v": s }).to_string().into())),
    ]
}

fn attrs() -> impl Strategy<Value = Vec<(String, AttrValue)>> {
    vec((text(), attr_value()), 0..6)
}

fn span_type() -> impl Strategy<Value = SpanType> {
    prop_oneof![
        proptest::sample::select(SpanType::NAMED.to_vec()).prop_map(SpanType::parse),
        text().prop_map(|s| SpanType::parse(&s)),
    ]
}

fn nonzero<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    any::<[u8; N]>().prop_filter("all zeros is not an id", |b| b.iter().any(|x| *x != 0))
}

prop_compose! {
    fn span_data()(
        trace in nonzero::<16>(),
        span in nonzero::<8>(),
        parent in proptest::option::of(nonzero::<8>()),
        name in text(),
        span_type in span_type(),
        start_ns in any::<u64>(),
        end_ns in any::<u64>(),
        inputs in proptest::option::of(text()),
        outputs in proptest::option::of(text()),
        attributes in attrs(),
        events in vec((text(), any::<u64>(), attrs()), 0..3),
        code in 0..3i32,
        message in text(),
    ) -> SpanData {
        SpanData {
            trace_id: TraceId::from_bytes(trace).unwrap(),
            span_id: SpanId::from_bytes(span).unwrap(),
            parent_span_id: parent.map(|p| SpanId::from_bytes(p).unwrap()),
            name: name.into(),
            span_type,
            start_ns,
            end_ns,
            inputs: inputs.map(Into::into),
            outputs: outputs.map(Into::into),
            attributes: attributes.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            events: events
                .into_iter()
                .map(|(name, time_ns, attributes)| Event { name, time_ns, attributes })
                .collect(),
            status: Status { code: StatusCode::from_i32(code), message: message.into() },
        }
    }
}

fn resource() -> impl Strategy<Value = Resource> {
    (text(), attrs()).prop_map(|(service_name, attributes)| Resource {
        service_name,
        attributes,
    })
}

/// Structural equality where NaN equals NaN: `Debug` writes every field, floats exactly.
fn debug_eq<T: std::fmt::Debug>(a: &T, b: &T) -> Result<(), TestCaseError> {
    let (a, b) = (format!("{a:?}"), format!("{b:?}"));
    prop_assert_eq!(a, b);
    Ok(())
}

/// serde_json, built without its `float_roundtrip` feature, may read a double's text one ULP
/// off (the text itself, written by ryu, is exact; see `json_doubles_are_written_exactly`). So
/// before comparing a serde-decoded message, expected doubles are put through the same reader.
fn as_serde_json_reads(kvs: &mut [wire::KeyValue]) {
    for kv in kvs {
        if let Some(wire::AnyValue {
            value: Some(wire::Value::DoubleValue(x)),
        }) = &mut kv.value
        {
            if x.is_finite() {
                *x = serde_json::from_str(&serde_json::to_string(x).unwrap()).unwrap();
            }
        }
    }
}

fn spans_as_serde_json_reads(spans: &mut [wire::Span]) {
    for s in spans {
        as_serde_json_reads(&mut s.attributes);
        for e in &mut s.events {
            as_serde_json_reads(&mut e.attributes);
        }
    }
}

fn request_as_serde_json_reads(req: &mut wire::ExportTraceServiceRequest) {
    for rs in &mut req.resource_spans {
        if let Some(r) = &mut rs.resource {
            as_serde_json_reads(&mut r.attributes);
        }
        for ss in &mut rs.scope_spans {
            spans_as_serde_json_reads(&mut ss.spans);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn protobuf_decodes_to_span_to_wire(spans in vec(span_data(), 1..4), res in resource()) {
        let p = Encoder::new(Format::Protobuf, &res).encode(&spans);
        prop_assert_eq!(p.spans, spans.len());
        let got = common::spans(&decode_proto(&p.body));
        let want: Vec<_> = spans.iter().map(span_to_wire).collect();
        debug_eq(&got, &want)?;
    }

    #[test]
    fn json_decodes_to_span_to_wire(spans in vec(span_data(), 1..4), res in resource()) {
        let p = Encoder::new(Format::Json, &res).encode(&spans);
        let req = decode_json(&p.body);
        let mut want: Vec<_> = spans.iter().map(span_to_wire).collect();
        spans_as_serde_json_reads(&mut want);
        debug_eq(&common::spans(&req), &want)?;
        // And the whole request, resource included, equals the protobuf one.
        let proto = Encoder::new(Format::Protobuf, &res).encode(&spans);
        let mut from_proto = decode_proto(&proto.body);
        request_as_serde_json_reads(&mut from_proto);
        debug_eq(&req, &from_proto)?;
    }

    #[test]
    fn json_doubles_are_written_exactly(x in any::<f64>()) {
        let span = SpanData {
            trace_id: TraceId::from_bytes([1; 16]).unwrap(),
            span_id: SpanId::from_bytes([2; 8]).unwrap(),
            parent_span_id: None,
            name: "".into(),
            span_type: SpanType::Unknown,
            start_ns: 0,
            end_ns: 0,
            inputs: None,
            outputs: None,
            attributes: vec![("x".into(), AttrValue::Double(x.into()))],
            events: Default::default(),
            status: Status::default(),
        };
        let body = Encoder::new(Format::Json, &Resource::default()).encode(std::slice::from_ref(&span)).body;
        let body = String::from_utf8(body).unwrap();
        let at = body.find("\"doubleValue\":").unwrap() + "\"doubleValue\":".len();
        let text = &body[at..at + body[at..].find('}').unwrap()];
        let read: f64 = if x.is_finite() {
            text.parse().unwrap() // Rust's parser is exact
        } else {
            match text {
                "\"NaN\"" => f64::NAN,
                "\"Infinity\"" => f64::INFINITY,
                "\"-Infinity\"" => f64::NEG_INFINITY,
                other => return Err(TestCaseError::fail(format!("{x} written as {other}"))),
            }
        };
        prop_assert!(read.to_bits() == x.to_bits() || (x.is_nan() && read.is_nan()), "{x:?} written as {text}");
    }

    #[test]
    fn ids_round_trip_through_hex(t in nonzero::<16>(), s in nonzero::<8>()) {
        let trace = TraceId::from_bytes(t).unwrap();
        let span = SpanId::from_bytes(s).unwrap();
        let (th, sh) = (trace.to_hex(), span.to_hex());
        prop_assert_eq!(th.len(), 32);
        prop_assert_eq!(sh.len(), 16);
        prop_assert!(th.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        prop_assert_eq!(TraceId::from_hex(&th).unwrap(), trace);
        prop_assert_eq!(SpanId::from_hex(&sh).unwrap(), span);
        prop_assert_eq!(TraceId::from_hex(&th.to_uppercase()).unwrap(), trace);
        prop_assert_eq!(TraceId::from_slice(trace.as_bytes()).unwrap(), trace);
        prop_assert_eq!(trace.to_mlflow(), format!("tr-{th}"));
    }

    #[test]
    fn arbitrary_strings_are_never_taken_for_ids(s in any::<String>()) {
        if let Ok(id) = TraceId::from_hex(&s) {
            prop_assert_eq!(id.to_hex(), s.to_lowercase());
        }
        if let Ok(id) = SpanId::from_hex(&s) {
            prop_assert_eq!(id.to_hex(), s.to_lowercase());
        }
    }

    #[test]
    fn truncate_json_always_gives_valid_json_within_the_limit(
        value in prop_oneof![
            text().prop_map(|s| serde_json::json!({ "q": s, "n": [1, 2.5, null, true] }).to_string()),
            text().prop_map(|s| serde_json::Value::String(s).to_string()),
            vec(text(), 0..30).prop_map(|v| serde_json::json!(v).to_string()),
        ],
        repeat in 1usize..40,
        limit in 64usize..2_000,
    ) {
        let original = value.repeat(repeat);
        // Repeating a JSON text does not give JSON; make it one again.
        let original = if repeat == 1 { original } else { serde_json::json!([original]).to_string() };
        let mut s = original.clone();
        let cut = truncate_json(&mut s, limit);
        prop_assert!(s.len() <= limit, "{} > {limit}", s.len());
        let parsed: serde_json::Value = serde_json::from_str(&s)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {s}")))?;
        prop_assert_eq!(cut, original.len() > limit);
        if cut {
            let inner = parsed.as_str().unwrap();
            let marker = format!("{TRUNCATION_MARKER}{}]", original.len());
            prop_assert!(inner.ends_with(&marker));
            prop_assert!(original.starts_with(&inner[..inner.len() - marker.len()]));
        } else {
            prop_assert_eq!(s, original);
        }
    }

    #[test]
    fn truncate_json_makes_any_long_text_json(s in any::<String>(), limit in 64usize..300) {
        let mut t = s.clone();
        if truncate_json(&mut t, limit) {
            prop_assert!(t.len() <= limit);
            prop_assert!(serde_json::from_str::<String>(&t).is_ok(), "{t}");
        } else {
            prop_assert_eq!(t, s);
        }
    }

    #[test]
    fn truncate_text_keeps_a_prefix_within_the_limit(s in any::<String>(), limit in 64usize..300) {
        let mut t = s.clone();
        let cut = truncate_text(&mut t, limit);
        prop_assert!(t.len() <= limit);
        prop_assert_eq!(cut, s.len() > limit);
        if cut {
            let marker = format!("{TRUNCATION_MARKER}{}]", s.len());
            prop_assert!(t.ends_with(&marker));
            prop_assert!(s.starts_with(&t[..t.len() - marker.len()]));
        }
    }

    #[test]
    fn batches_keep_the_cap_and_every_span(
        spans in vec(span_data(), 1..40),
        cap in 300usize..5_000,
        max_batch_spans in 1usize..10,
        json in any::<bool>(),
    ) {
        let format = if json { Format::Json } else { Format::Protobuf };
        let enc = Encoder::new(format, &Resource::default());
        let mut q = BatchQueue::new(BatchConfig {
            max_export_bytes: cap,
            max_batch_spans,
            ..BatchConfig::default()
        });
        for s in &spans {
            q.push(s.clone()).unwrap();
        }
        let mut out = Vec::new();
        while let Some(p) = q.take_batch(&enc) {
            prop_assert!(p.spans <= max_batch_spans);
            if p.oversize {
                prop_assert_eq!(p.spans, 1);
                prop_assert!(p.body.len() > cap);
            } else {
                prop_assert!(p.body.len() <= cap, "{} > {cap}", p.body.len());
            }
            out.extend(common::spans(&decode(&p)));
        }
        prop_assert!(q.is_empty());
        prop_assert_eq!(q.bytes(), 0);
        let mut want: Vec<_> = spans.iter().map(span_to_wire).collect();
        if json {
            spans_as_serde_json_reads(&mut want);
        }
        debug_eq(&out, &want)?;
    }
}
