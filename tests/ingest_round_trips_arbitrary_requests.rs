//! Property tests of the ingest core: any valid request, sent as OTLP/JSON or protobuf, is relayed
//! as protobuf that decodes to exactly the same spans (with conversion and redaction off), however
//! it is split; and arbitrary bytes in either format are refused or accepted, never a panic.

mod common;

use common::{decode_proto, spans, T0};
use edgetrace::ingest::{Ingest, IngestConfig};
use edgetrace::otlp::wire::{
    AnyValue, ArrayValue, Event, ExportTraceServiceRequest, KeyValue, KeyValueList, Resource,
    ResourceSpans, ScopeSpans, Span, Status, Value,
};
use edgetrace::otlp::Format;
use proptest::collection::vec;
use proptest::prelude::*;

const NOW: u64 = T0 + 3_600_000_000_000;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 _.{}\\[\\]\":,-]{0,30}"]
}

fn leaf() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        text().prop_map(Value::StringValue),
        any::<bool>().prop_map(Value::BoolValue),
        any::<i64>().prop_map(Value::IntValue),
        any::<f64>()
            .prop_filter("NaN never equals itself", |f| !f.is_nan())
            .prop_map(Value::DoubleValue),
        vec(any::<u8>(), 0..20).prop_map(Value::BytesValue),
    ]
    .prop_map(|v| AnyValue { value: Some(v) })
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values }))
            }),
            vec((text(), inner), 0..4).prop_map(|kvs| AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue {
                            key,
                            value: Some(v),
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec((text(), any_value()), 0..5).prop_map(|kvs| {
        kvs.into_iter()
            .map(|(key, v)| KeyValue {
                key,
                value: Some(v),
            })
            .collect()
    })
}

fn nonzero(n: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), n).prop_filter("not all zeros", |b| b.iter().any(|x| *x != 0))
}

prop_compose! {
    fn span()(
        trace_id in nonzero(16),
        span_id in nonzero(8),
        parent in prop_oneof![Just(Vec::new()), nonzero(8)],
        name in text(),
        kind in 0i32..6,
        start in T0..T0 + 1_000_000_000_000,
        dur in 0u64..10_000_000_000,
        attributes in attributes(),
        events in vec((text(), attributes()), 0..3),
        status in (0i32..3, text()),
    ) -> Span {
        Span {
            trace_id,
            span_id,
            parent_span_id: parent,
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start + dur,
            attributes,
            events: events
                .into_iter()
                .map(|(name, attributes)| Event { time_unix_nano: start, name, attributes, dropped_attributes_count: 0 })
                .collect(),
            status: Some(Status { code: status.0, message: status.1 }),
            ..Span::default()
        }
    }
}

fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec((attributes(), vec(span(), 0..6)), 1..3).prop_map(|groups| ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .map(|(attributes, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes,
                    dropped_attributes_count: 0,
                }),
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    })
}

fn passthrough(max_payload_bytes: usize) -> Ingest {
    Ingest::new(IngestConfig {
        default_redaction: false,
        convert_conventions: false,
        log_levels: false,
        max_attribute_bytes: 1 << 20,
        max_payload_bytes,
        ..IngestConfig::default()
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn valid_requests_are_relayed_unchanged_from_either_format(req in request(), cap in prop_oneof![Just(0usize), 200usize..3000]) {
        let ingest = passthrough(cap);
        let expected = spans(&req);
        let bodies = [
            (serde_json::to_vec(&req).unwrap(), Format::Json),
            (prost::Message::encode_to_vec(&req), Format::Protobuf),
        ];
        for (body, format) in bodies {
            let a = ingest.process(&body, format, NOW).unwrap();
            prop_assert_eq!(a.spans, expected.len());
            let got: Vec<Span> = a.payloads.iter().flat_map(|p| spans(&decode_proto(p))).collect();
            prop_assert_eq!(&got, &expected);
            if cap > 0 {
                for p in &a.payloads {
                    let one = spans(&decode_proto(p)).len();
                    prop_assert!(p.len() <= cap || one == 1, "a payload of {} bytes with {} spans", p.len(), one);
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_are_refused_or_accepted_never_a_panic(bytes in vec(any::<u8>(), 0..400)) {
        let ingest = Ingest::new(IngestConfig::default()).unwrap();
        for format in [Format::Json, Format::Protobuf] {
            if let Err(r) = ingest.process(&bytes, format, NOW) {
                prop_assert!(!r.message.is_empty());
                prop_assert!(r.kind.status() == 400 || r.kind.status() == 413);
            }
        }
    }
}
